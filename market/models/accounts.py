"""People and their roles. One person may hold several roles."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from market.extensions import db

ROLES = ("buyer", "artisan", "entrepreneur", "mentor", "staff", "committee", "supervisor", "finance", "auditor")
SELF_SERVICE_ROLES = ("buyer", "artisan", "entrepreneur", "mentor")
# Granted and revoked by staff only (market.accounts.services.grant_role): a committee member
# of the federation (执委), a supervisor (cases escalate to her), and finance (payout batches,
# every artisan's balance and statement; market.ledger), and auditor (staff who read the audit
# log and see who viewed a case; market.audit.may_audit).
STAFF_GRANTED_ROLES = ("committee", "supervisor", "finance", "auditor")


def new_session_token() -> str:
    """A fresh random session token (what Flask-Login keeps in the session and the remember cookie)."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Flask-Login's "alternative id": the session and the remember cookie hold this token, not the
    # id, so replacing it (logout, password change, password reset) ends every session at once.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    # When the owner proved she reads this address (NULL: not yet; accounts older than the
    # column are not assumed verified).
    email_verified_at: Mapped[datetime | None] = mapped_column()
    # The language her notices are written in (NULL: the site's default).
    locale: Mapped[str | None] = mapped_column(String(5))
    # Unread in-app notices, kept by market.notifications in the same transaction as the
    # notices, so the menu shows the count without a query of its own.
    unread_notices: Mapped[int] = mapped_column(default=0, server_default="0")
    # Suspended by staff (market.accounts.admin): when, and why (for staff only; the audit log
    # says who). While set, `active` is False, she cannot sign in and her shop is hidden.
    suspended_at: Mapped[datetime | None] = mapped_column(index=True)
    suspended_reason: Mapped[str | None] = mapped_column(String(300))

    artisan: Mapped[Artisan | None] = relationship(back_populates="user", uselist=False)  # noqa: F821
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @staticmethod
    def hash_password(password: str) -> str:
        # Werkzeug's default is scrypt, a memory-hard KDF with a per-hash salt. Tests configure
        # a cheap method (PASSWORD_HASH_METHOD) so that making hundreds of users stays fast.
        from flask import current_app

        method = current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
        return generate_password_hash(password, method=method)

    def set_password(self, password: str) -> None:
        self.password_hash = self.hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:  # Flask-Login: what the session and the remember cookie carry
        return self.session_token

    def rotate_session_token(self) -> None:
        """Ends every session and remember cookie of this user (the caller commits)."""
        self.session_token = new_session_token()

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_staff(self) -> bool:
        return self.has_role("staff")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")
