"""Bounded integers from the outside world: ids in URLs and forms, page numbers.

Every id the app accepts is parsed here, once: a value that cannot be a row id (negative,
zero, beyond PostgreSQL's 32-bit `integer`, not a number at all) is treated as "no such
thing" (404 or a form error), never handed to the database, where it would answer 500.
"""
from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL `integer`, the type of every primary key here
MAX_PAGE = 10_000
MAX_QUANTITY = 10_000


def parse_int(value: Any, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`value` as an int in [low, high], or None when it is missing, malformed or out of range."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text or len(text) > 12 or not text.lstrip("+-").isdigit() or not text.isascii():
            return None
        number = int(text)
    return number if low <= number <= high else None


def parse_id(value: Any) -> int | None:
    return parse_int(value)


def parse_page(value: Any) -> int:
    return parse_int(value, high=MAX_PAGE) or 1


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: digits only, at most MAX_ID, else the URL does not match (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        bound = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)
