"""Account operations: every change to a user goes through here."""
from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from market import mail, signals
from market.accounts import passwords, tokens
from market.extensions import db
from market.models import ROLES, User, UserRole
from market.models.accounts import SELF_SERVICE_ROLES, new_session_token

log = logging.getLogger(__name__)


class AccountError(ValueError):
    """A rule was broken; the message is safe to show to the user."""


class PasswordRejected(AccountError):
    """The new password breaks the password policy (the form shows it by the password field)."""


class AccountSuspended(AccountError):
    """Right password, but staff have suspended the account (the login form says so)."""


class LinkInvalid(AccountError):
    """A mailed link that is tampered with, expired or already used (`reason` says which:
    "invalid", "expired" or "used")."""

    def __init__(self, message, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def check_new_password(password: str, email: str) -> None:
    """The password policy (market.accounts.passwords), as an AccountError."""
    try:
        passwords.check_password(password, email)
    except passwords.PasswordPolicyError as e:
        raise PasswordRejected(e.args[0]) from None


# ---- registration and email verification ----------------------------------------------

def register_user(name: str, email: str, password: str, roles: list[str] | tuple[str, ...],
                  *, allow_staff: bool = False) -> User:
    roles = list(dict.fromkeys(roles))
    allowed = ROLES if allow_staff else SELF_SERVICE_ROLES
    bad = [r for r in roles if r not in allowed]
    if bad:
        raise AccountError(_l("This role cannot be chosen: %(role)s", role=", ".join(bad)))
    if not roles:
        raise AccountError(_l("Choose at least one role."))
    check_new_password(password, email)
    if find_user_by_email(email):
        raise AccountError(_l("An account with this email already exists."))
    user = User(name=name.strip(), email=normalise_email(email))
    user.set_password(password)
    user.roles = [UserRole(role=r) for r in roles]
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same form sent at the same moment (a double click) made it first
        db.session.rollback()
        raise AccountError(_l("An account with this email already exists.")) from None
    log.info("user registered id=%s roles=%s", user.id, ",".join(roles))
    signals.user_registered.send(user)
    return user


def sign_up(name: str, email: str, password: str, roles: list[str] | tuple[str, ...]) -> User:
    """Self-service registration: the account (usable at once) and a mail to verify the address."""
    user = register_user(name, email, password, roles)
    send_verification_mail(user)
    return user


def verification_token(user: User, *, now: float | None = None) -> str:
    # Bound to the address: a link made for an earlier address proves nothing about a new one.
    return tokens.make(tokens.EMAIL_VERIFICATION, {"u": user.id, "e": user.email}, now=now)


def send_verification_mail(user: User) -> bool:
    if user.email_verified:
        return False
    url = url_for("accounts.verify_email", token=verification_token(user), _external=True)
    days = max(1, current_app.config["EMAIL_VERIFY_MAX_AGE"] // 86400)
    sent = mail.send_mail(user.email, _("Please confirm your email address"), _(
        "Hello %(name)s,\n\nplease confirm that this is your email address by opening this link "
        "(valid for %(days)d days):\n\n%(url)s\n\nIf you did not sign up at Sisters Market, ignore this mail.",
        name=user.name, url=url, days=days))
    log.info("verification mail user=%s sent=%s", user.id, sent)
    return sent


def verify_email(token: str, *, now: float | None = None) -> User:
    """Mark the address verified. A link works once: a second use (or one for an address the
    account no longer has) is LinkInvalid."""
    try:
        payload = tokens.read(tokens.EMAIL_VERIFICATION, token, current_app.config["EMAIL_VERIFY_MAX_AGE"], now=now)
    except tokens.TokenInvalid as e:
        if e.expired:
            raise LinkInvalid(_l("This link has expired. Ask for a new one from your account page."), "expired") from None
        raise LinkInvalid(_l("This link is not valid.")) from None
    user_id, email = payload.get("u"), payload.get("e")
    if not isinstance(user_id, int) or not isinstance(email, str):
        raise LinkInvalid(_l("This link is not valid."))
    verified_at = datetime.fromtimestamp(now, UTC).replace(tzinfo=None) if now is not None else utcnow()
    # Conditional, so two clicks at once verify once.
    done = db.session.execute(
        update(User).where(User.id == user_id, User.email == email, User.email_verified_at.is_(None))
        .values(email_verified_at=verified_at).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if done != 1:
        raise LinkInvalid(_l("This link has already been used or is no longer valid."), "used")
    user = db.session.get(User, user_id)
    db.session.refresh(user)
    log.info("email verified user=%s", user_id)
    signals.email_verified.send(user)
    return user


# ---- signing in and out ------------------------------------------------------------------

def add_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise AccountError(_l("Unknown role."))
    if role not in user.role_names:
        user.roles.append(UserRole(role=role))
        db.session.commit()
        log.info("role added user=%s role=%s", user.id, role)


def grant_role(actor: User, user: User, role: str, *, allowed: tuple[str, ...] | None = None,
               commit: bool = True) -> bool:
    """Staff give a role: by default only a committee-member (执委), supervisor or finance role
    (`allowed` widens it, e.g. to STAFF_GRANTABLE_ROLES on /staff/users); never self-service.
    Returns whether anything changed (granting a role she has is a no-op, not audited)."""
    return _change_granted_role(actor, user, role, grant=True, allowed=allowed, commit=commit)


def revoke_role(actor: User, user: User, role: str, *, allowed: tuple[str, ...] | None = None,
                commit: bool = True) -> bool:
    return _change_granted_role(actor, user, role, grant=False, allowed=allowed, commit=commit)


def _insert_role(user_id: int, role: str) -> bool:
    """One atomic INSERT ... ON CONFLICT DO NOTHING: two staff granting at once never fail and
    never grant twice; True when this call added the row."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(UserRole).values(user_id=user_id, role=role).on_conflict_do_nothing(
        index_elements=["user_id", "role"]).returning(UserRole.role)
    return db.session.execute(stmt).scalar() is not None  # (rowcount is -1 here under psycopg)


def _change_granted_role(actor: User, user: User, role: str, *, grant: bool,
                         allowed: tuple[str, ...] | None = None, commit: bool = True) -> bool:
    from sqlalchemy import delete

    from market import audit
    from market.models.accounts import STAFF_GRANTED_ROLES

    if not actor.is_staff:
        raise AccountError(_l("Only federation staff can change this role."))
    if role not in (STAFF_GRANTED_ROLES if allowed is None else allowed) or role not in ROLES:
        raise AccountError(_l("Unknown role."))
    if not grant and role == "staff" and actor.id == user.id:
        raise AccountError(_l("You cannot remove your own staff role."))
    # Statements on the row itself, not the loaded collection: a change made by another staff
    # member since this page was loaded is kept, never overwritten.
    if grant:
        changed = _insert_role(user.id, role)
    else:
        changed = db.session.execute(
            delete(UserRole).where(UserRole.user_id == user.id, UserRole.role == role)
            .execution_options(synchronize_session=False)).rowcount == 1
    if changed:
        audit.record(actor, f"role.{'grant' if grant else 'revoke'}.{role}", user)
    if commit:
        db.session.commit()
    if user in db.session:  # the loaded collection no longer says what the row says
        db.session.expire(user, ["roles"])
    if changed:
        log.info("role %s user=%s role=%s by staff=%s", "granted" if grant else "revoked", user.id, role, actor.id)
    return changed


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        # Spend the same KDF time as for a real user, so timing does not reveal accounts.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if not user.check_password(password):
        return None
    if user.suspended:  # told only to whoever knows the password, so it reveals no account
        raise AccountSuspended(_l("This account is suspended. Please contact the women's federation "
                                  "if you think this is a mistake."))
    if not user.active:
        return None
    return user


def end_all_sessions(user: User) -> None:
    """A new session token: every session cookie and remember cookie of this user stops working
    (logout ends the user's sessions everywhere, since the token is per user)."""
    user.rotate_session_token()
    db.session.commit()
    log.info("sessions ended user=%s", user.id)


def change_password(user: User, current: str, new: str) -> None:
    """Also ends every session (the caller signs the current one in again)."""
    if not user.check_password(current):
        raise AccountError(_l("The current password is wrong."))
    check_new_password(new, user.email)
    user.set_password(new)
    user.rotate_session_token()
    db.session.commit()
    log.info("password changed user=%s (sessions ended)", user.id)


# ---- password reset --------------------------------------------------------------------------

def _password_fingerprint(user: User) -> str:
    # The link names the password it replaces: once that password is changed (by this link or
    # otherwise) the link is spent. A digest, since the payload is readable by the link's holder.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def password_reset_token(user: User, *, now: float | None = None) -> str:
    return tokens.make(tokens.PASSWORD_RESET, {"u": user.id, "p": _password_fingerprint(user)}, now=now)


def request_password_reset(email: str) -> None:
    """Mail a reset link when an active account has this address. Says nothing either way: the
    caller answers the same whatever happens here."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        log.info("password reset asked for an address with no active account")
        return
    url = url_for("accounts.reset_password", token=password_reset_token(user), _external=True)
    minutes = max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
    sent = mail.send_mail(user.email, _("Set a new password"), _(
        "Hello %(name)s,\n\nsomeone (we hope you) asked to set a new password for your Sisters Market account. "
        "Open this link within %(minutes)d minutes to choose one; it works once:\n\n%(url)s\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.",
        name=user.name, url=url, minutes=minutes))
    log.info("password reset mail user=%s sent=%s", user.id, sent)


def user_for_reset_token(token: str, *, now: float | None = None) -> User:
    """The user a reset link is for, while it is unexpired and unused; else LinkInvalid."""
    try:
        payload = tokens.read(tokens.PASSWORD_RESET, token, current_app.config["PASSWORD_RESET_MAX_AGE"], now=now)
    except tokens.TokenInvalid as e:
        if e.expired:
            raise LinkInvalid(_l("This link has expired. Please ask for a new one."), "expired") from None
        raise LinkInvalid(_l("This link is not valid. Please ask for a new one.")) from None
    user_id, fingerprint = payload.get("u"), payload.get("p")
    user = db.session.get(User, user_id) if isinstance(user_id, int) and isinstance(fingerprint, str) else None
    if user is None or not user.active or fingerprint != _password_fingerprint(user):
        raise LinkInvalid(_l("This link has already been used or is no longer valid. Please ask for a new one."),
                          "used")
    return user


def reset_password(token: str, new: str, *, now: float | None = None) -> User:
    """Set a new password from a reset link; ends every session. The link works once, even when
    two requests use it at the same moment (the update is conditional on the old password)."""
    user = user_for_reset_token(token, now=now)
    check_new_password(new, user.email)
    old_hash = user.password_hash
    done = db.session.execute(
        update(User).where(User.id == user.id, User.password_hash == old_hash)
        .values(password_hash=User.hash_password(new), session_token=new_session_token())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if done != 1:
        raise LinkInvalid(_l("This link has already been used or is no longer valid. Please ask for a new one."),
                          "used")
    db.session.refresh(user)
    log.info("password reset user=%s (sessions ended)", user.id)
    return user


def create_staff(name: str, email: str, password: str) -> User:
    existing = find_user_by_email(email)
    if existing:
        add_role(existing, "staff")
        return existing
    return register_user(name, email, password, ["staff"], allow_staff=True)


_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128
