"""What the front line's modules share: the errors their rules raise, who counts as a cadre
(staff or committee member, 执委), how long a contact list may be, and fetching a row by id."""
from __future__ import annotations

from flask import current_app

from market.extensions import db
from market.models import User


class OutreachError(ValueError):
    """A rule was broken; the message is safe to show."""


class NotFound(LookupError):
    """Missing, or not the caller's to see."""


def is_cadre(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.has_role("committee")))


def list_size() -> int:
    return int(current_app.config.get("OUTREACH_LIST_SIZE", 10))


def is_cadre_user(user: User) -> bool:
    return user.is_staff or user.has_role("committee")



def get_row(model, ident):
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**31:
        return None
    return db.session.get(model, ident)
