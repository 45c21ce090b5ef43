"""Who may do what: login loading and role guards shared by every blueprint."""
from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from market.extensions import db, login_manager
from market.models import CartItem, User


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The session (or remember cookie) holds the user's session token, not her id: one indexed
    lookup (roles joined in) per request, and a token replaced at logout or on a new password
    opens nothing any more. The same statement counts her cart for the header (kept in `g`
    for this request: market.cart.services.count_items), so a page pays one round trip for
    who she is, her menu and her cart."""
    if not isinstance(session_token, str) or not session_token or len(session_token) > 64:
        return None
    in_cart = (select(func.coalesce(func.sum(CartItem.quantity), 0)).where(CartItem.user_id == User.id)
               .correlate(User).scalar_subquery())
    row = db.session.execute(
        select(User, in_cart).options(joinedload(User.roles)).where(User.session_token == session_token)
    ).unique().first()
    if row is None:
        return None
    user, items = row
    g.cart_count = (user.id, int(items))
    return user


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
