"""Account operations: every change to a user goes through here."""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market import signals
from market.extensions import db
from market.models import ROLES, User, UserRole
from market.models.accounts import SELF_SERVICE_ROLES

log = logging.getLogger(__name__)


class AccountError(ValueError):
    """A rule was broken; the message is safe to show to the user."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register_user(name: str, email: str, password: str, roles: list[str] | tuple[str, ...],
                  *, allow_staff: bool = False) -> User:
    roles = list(dict.fromkeys(roles))
    allowed = ROLES if allow_staff else SELF_SERVICE_ROLES
    bad = [r for r in roles if r not in allowed]
    if bad:
        raise AccountError(_l("This role cannot be chosen: %(role)s", role=", ".join(bad)))
    if not roles:
        raise AccountError(_l("Choose at least one role."))
    if find_user_by_email(email):
        raise AccountError(_l("An account with this email already exists."))
    user = User(name=name.strip(), email=normalise_email(email))
    user.set_password(password)
    user.roles = [UserRole(role=r) for r in roles]
    db.session.add(user)
    db.session.commit()
    log.info("user registered id=%s roles=%s", user.id, ",".join(roles))
    signals.user_registered.send(user)
    return user


def add_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise AccountError(_l("Unknown role."))
    if role not in user.role_names:
        user.roles.append(UserRole(role=role))
        db.session.commit()
        log.info("role added user=%s role=%s", user.id, role)


def grant_role(actor: User, user: User, role: str) -> None:
    """Staff give a committee-member (执委) or supervisor role; never self-service."""
    _change_granted_role(actor, user, role, grant=True)


def revoke_role(actor: User, user: User, role: str) -> None:
    _change_granted_role(actor, user, role, grant=False)


def _change_granted_role(actor: User, user: User, role: str, *, grant: bool) -> None:
    from market import audit
    from market.models.accounts import STAFF_GRANTED_ROLES

    if not actor.is_staff:
        raise AccountError(_l("Only federation staff can change this role."))
    if role not in STAFF_GRANTED_ROLES:
        raise AccountError(_l("Unknown role."))
    has = role in user.role_names
    if grant and not has:
        user.roles.append(UserRole(role=role))
    elif not grant and has:
        user.roles = [r for r in user.roles if r.role != role]
    else:
        return
    audit.record(actor, f"role.{'grant' if grant else 'revoke'}.{role}", user)
    db.session.commit()
    log.info("role %s user=%s role=%s by staff=%s", "granted" if grant else "revoked", user.id, role, actor.id)


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        # Spend the same KDF time as for a real user, so timing does not reveal accounts.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if not user.active or not user.check_password(password):
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_l("The current password is wrong."))
    user.set_password(new)
    db.session.commit()
    log.info("password changed user=%s", user.id)


def create_staff(name: str, email: str, password: str) -> User:
    existing = find_user_by_email(email)
    if existing:
        add_role(existing, "staff")
        return existing
    return register_user(name, email, password, ["staff"], allow_staff=True)


_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128
