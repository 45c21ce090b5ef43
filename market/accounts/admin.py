"""Staff manage accounts on /staff/users: find a user, suspend her and lift the suspension,
change her roles. Every change is one conditional statement (safe when two staff act at once)
and one row of the audit log (market.audit), in the same transaction."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from market import audit, clock, signals
from market.accounts.services import AccountError, grant_role, revoke_role
from market.config import grantable_roles as parse_grantable
from market.extensions import db
from market.models import ROLES, User, UserRole
from market.models.accounts import new_session_token

log = logging.getLogger(__name__)

USERS_PER_PAGE = 25
MAX_REASON = 300
STATUS_FILTERS = ("active", "suspended")


class AdminError(AccountError):
    """A rule was broken; the message is safe to show to staff."""


def _require_staff(actor: User) -> None:
    if actor is None or not actor.is_staff:
        raise PermissionError("staff only")


def staff_grantable_roles() -> tuple[str, ...]:
    """The roles staff may give and take away (the STAFF_GRANTABLE_ROLES setting, in ROLES order)."""
    names = set(parse_grantable(current_app.config.get("STAFF_GRANTABLE_ROLES", "")))
    return tuple(r for r in ROLES if r in names)


# ---- finding users ----------------------------------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s\-+()]")


def find_users(q: str = "", *, role: str | None = None, status: str | None = None, page: int = 1,
               per_page: int = USERS_PER_PAGE):
    """Users whose email, name or phone contains `q` (case-insensitive; spaces and dashes in
    phone numbers ignored), newest first, a page at a time."""
    stmt = select(User).options(selectinload(User.roles), selectinload(User.artisan))
    q = (q or "").strip()[:100]
    if q:
        like = f"%{_escape_like(q.lower())}%"
        conditions = [func.lower(User.email).like(like, escape="\\"), func.lower(User.name).like(like, escape="\\")]
        digits = _PHONE_NOISE.sub("", q)
        if digits.isdigit():
            phone = func.replace(func.replace(func.coalesce(User.phone, ""), " ", ""), "-", "")
            conditions.append(phone.like(f"%{digits}%"))
        stmt = stmt.where(or_(*conditions))
    if role in ROLES:
        stmt = stmt.where(User.roles.any(UserRole.role == role))
    if status == "suspended":
        stmt = stmt.where(User.suspended_at.is_not(None))
    elif status == "active":
        stmt = stmt.where(User.suspended_at.is_(None))
    stmt = stmt.order_by(User.created_at.desc(), User.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_user(user_id: int) -> User:
    user = db.session.scalar(select(User).where(User.id == user_id)
                             .options(selectinload(User.roles), selectinload(User.artisan)))
    if user is None:
        raise LookupError(user_id)
    return user


# ---- suspension -------------------------------------------------------------------------------

def suspend(actor: User, user_id: int, reason: str) -> User:
    """Suspend her: she is signed out everywhere at once (a new session token), cannot sign in
    (the login form tells her she is suspended) and her shop's products leave the storefront
    (market.catalog.queries). Refused for oneself, or when she is suspended already."""
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise AdminError(_l("Say why she is suspended."))
    if len(reason) > MAX_REASON:
        raise AdminError(_l("Keep the reason under %(n)d characters.", n=MAX_REASON))
    if user_id == actor.id:
        raise AdminError(_l("You cannot suspend yourself."))
    get_user(user_id)
    # Conditional: two staff suspending at once suspend (and audit) once.
    done = db.session.execute(
        update(User).where(User.id == user_id, User.suspended_at.is_(None))
        .values(active=False, suspended_at=clock.now(), suspended_reason=reason, session_token=new_session_token())
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise AdminError(_l("This account is suspended already."))
    audit.record(actor, "user.suspend", ("users", user_id))
    db.session.commit()
    log.info("user %s suspended by staff=%s (sessions ended)", user_id, actor.id)
    signals.user_suspended.send(user_id)
    return get_user(user_id)


def unsuspend(actor: User, user_id: int) -> User:
    _require_staff(actor)
    get_user(user_id)
    done = db.session.execute(
        update(User).where(User.id == user_id, User.suspended_at.is_not(None))
        .values(active=True, suspended_at=None, suspended_reason=None)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise AdminError(_l("This account is not suspended."))
    audit.record(actor, "user.unsuspend", ("users", user_id))
    db.session.commit()
    log.info("user %s unsuspended by staff=%s", user_id, actor.id)
    return get_user(user_id)


# ---- roles ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleChange:
    granted: tuple[str, ...]
    revoked: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.granted or self.revoked)


def change_roles(actor: User, user_id: int, wanted: Iterable[str], shown: Iterable[str]) -> RoleChange:
    """Apply what staff changed on the page: the roles ticked (`wanted`) against the roles the
    page showed ticked (`shown`). Only the difference is written, role by role, so two staff
    editing the same user at once both keep their change (no lost update), and a page loaded
    before someone else's change does not undo it."""
    _require_staff(actor)
    user = get_user(user_id)
    wanted, shown = set(wanted), set(shown)
    unknown = (wanted | shown) - set(ROLES)
    if unknown:
        raise AdminError(_l("Unknown role."))
    grantable = staff_grantable_roles()
    to_grant, to_revoke = sorted(wanted - shown), sorted(shown - wanted)
    refused = [r for r in to_grant + to_revoke if r not in grantable]
    if refused:
        raise AdminError(_l("Staff may not change this role here: %(roles)s", roles=", ".join(refused)))
    if "staff" in to_revoke and user.id == actor.id:
        raise AdminError(_l("You cannot remove your own staff role."))
    granted = tuple(r for r in to_grant if grant_role(actor, user, r, allowed=grantable, commit=False))
    revoked = tuple(r for r in to_revoke if revoke_role(actor, user, r, allowed=grantable, commit=False))
    db.session.commit()
    return RoleChange(granted, revoked)
