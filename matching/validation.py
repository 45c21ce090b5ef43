"""Checks and small helpers the matcher's parts share: a request is a valid HelpRequest, a
mentor id is known, a mentor copied with changes is still valid."""
from __future__ import annotations

import copy

from . import engine
from .schema import HelpRequest, Mentor


def request_key(request: HelpRequest):
    try:
        hash(request.id)
        return request.id
    except TypeError:
        return repr(request.id)


def is_known(mentor_id, row_of: dict) -> bool:
    try:
        return mentor_id in row_of
    except TypeError:  # an unhashable id is no mentor of ours
        return False


def replaced(mentor: Mentor, **changes) -> Mentor:
    updated = copy.copy(mentor)
    for name, value in changes.items():
        setattr(updated, name, value)
    updated.validate()
    return updated


check_k = engine.check_k  # "k" and sizes: a positive integer


def check_request(request, name: str = "request") -> None:
    if not isinstance(request, HelpRequest):
        raise ValueError(f"{name} must be a HelpRequest, got {type(request).__name__}")
    try:
        request.validate()
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
