"""What every supply operation shares: the error a rule raises, fetching a row by id, cleaning
form values, telling someone, and who belongs to which organisation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db
from market.models import Organisation, OrganisationMember, User

MAX_ID = 2**31 - 1



class SupplyError(ValueError):
    """A rule was broken; the message is safe to show. `field` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(LookupError):
    pass


def get(model, ident):
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident <= MAX_ID:
        raise NotFound(ident)
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(ident)
    return row


def notify_user(recipient, kind: str, context: dict, event: str | None = None) -> None:
    from market.notifications import notify

    notify(recipient, kind, context, event=event)


def clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def codes(values, vocabulary, field: str) -> str:
    values = [v for v in (values or []) if v]
    bad = [v for v in values if v not in vocabulary]
    if bad:
        raise SupplyError(_l("Choose from the list."), field=field)
    return " ".join(dict.fromkeys(values))


def count(value, field: str, *, allow_none=True, minimum=0) -> int | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise SupplyError(_l("Enter a number."), field=field)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 1_000_000_000:
        raise SupplyError(_l("Enter a whole number between %(lo)s and 1,000,000,000.", lo=minimum), field=field)
    return value


# ---- membership ------------------------------------------------------------------------------

def organisations_of(user: User) -> list[Organisation]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(select(Organisation).join(OrganisationMember)
                                   .where(OrganisationMember.user_id == user.id).order_by(Organisation.id)))


def is_member(user: User, org: Organisation) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and db.session.get(
        OrganisationMember, (org.id, user.id)) is not None


def acting_org(user: User, org_id) -> Organisation:
    try:
        org = get(Organisation, org_id)
    except NotFound:
        raise SupplyError(_l("Choose your organisation."), field="organisation") from None
    if not is_member(user, org):
        raise SupplyError(_l("Choose your organisation."), field="organisation")
    if org.status != "approved":
        raise SupplyError(_l("Your organisation waits for the federation's approval."), field="organisation")
    return org
