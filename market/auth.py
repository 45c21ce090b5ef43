"""Who may do what: login loading and role guards shared by every blueprint."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from market.extensions import db, login_manager
from market.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def role_required(*roles: str):
    """Logged in and holding at least one of `roles` (staff pass every role check)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles, "staff"):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required("staff")
