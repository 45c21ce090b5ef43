"""Guest checkout: an order without an account, reached by a signed link mailed to the guest.

- The browser that placed a guest order keeps its id in the session (`remember`), so it can pay
  and see the order without an account.
- The link in the confirmation mail (`link_url`) is signed with itsdangerous (market.accounts
  .tokens) and expires after GUEST_ORDER_LINK_MAX_AGE seconds; a new one can be asked for by
  email and order number (`resend_link`), which never says whether such an order exists.
- Opening a valid link proves she reads the mailbox: the order's guest email is marked verified.
- The guest's orders go into an account only when that account's email address is verified
  (the accounts' own verification link) and equals the guest email: never because someone
  typed an address. `attach_guest_orders` is one conditional UPDATE (buyer still NULL), so two
  verifications at once, or two accounts, never take an order twice.
"""
from __future__ import annotations

import logging

from flask import current_app, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from market import mail
from market.accounts import tokens
from market.extensions import db
from market.models import Order, User
from market.orders.errors import OrderError
from market.orders.services import get_order, utcnow
from market.timefmt import localtime

log = logging.getLogger(__name__)

PURPOSE = "guest-order"
SESSION_KEY = "guest_orders"
GUEST_KEY = "guest_key"
MAX_REMEMBERED = 20


class LinkInvalid(OrderError):
    """A guest link that is tampered with, malformed or expired (`expired` says which)."""

    def __init__(self, message, expired: bool = False):
        super().__init__(message)
        self.expired = expired


# ---- the browser that placed or opened a guest order --------------------------------------

def remembered() -> list[int]:
    raw = session.get(SESSION_KEY) or []
    return [int(x) for x in raw if isinstance(x, int) or (isinstance(x, str) and x.isdigit())][-MAX_REMEMBERED:]


def remember(order_id: int) -> None:
    ids = [i for i in remembered() if i != order_id] + [int(order_id)]
    session[SESSION_KEY] = ids[-MAX_REMEMBERED:]


def browser_key() -> tuple[str, int]:
    """This browser's random guest key and the last guest order it placed (for checkout tokens)."""
    import secrets

    key = session.get(GUEST_KEY)
    if not isinstance(key, str) or len(key) > 64:
        key = secrets.token_urlsafe(16)
        session[GUEST_KEY] = key
    ids = remembered()
    return key, (max(ids) if ids else 0)


# ---- the signed link ---------------------------------------------------------------------

def make_token(order: Order, *, now: float | None = None) -> str:
    return tokens.make(PURPOSE, {"o": order.id, "e": order.guest_email or ""}, now=now)


def link_url(order: Order) -> str:
    from market.notifications.channels import public_url

    token = make_token(order)
    try:
        path = url_for("orders.guest_link", token=token)
    except RuntimeError:  # no request (a job): the path is still right
        path = f"/orders/guest/{token}"
    return public_url(path)


def open_link(token: str, *, now: float | None = None) -> Order:
    """The guest order a link names, its email marked verified; LinkInvalid otherwise."""
    try:
        payload = tokens.read(PURPOSE, token, int(current_app.config["GUEST_ORDER_LINK_MAX_AGE"]), now=now)
    except tokens.TokenInvalid as e:
        if e.expired:
            raise LinkInvalid(_l("This link to your order has expired. Enter your email address and order number "
                                 "below and we will send you a new one."), expired=True) from None
        raise LinkInvalid(_l("This link is not valid. Enter your email address and order number below and we "
                             "will send you a new one.")) from None
    order_id, email = payload.get("o"), payload.get("e")
    if not isinstance(order_id, int) or not isinstance(email, str) or not email:
        raise LinkInvalid(_l("This link is not valid."))
    order = db.session.get(Order, order_id)
    if order is None or order.guest_email != email:
        raise LinkInvalid(_l("This link is not valid."))
    db.session.execute(update(Order).where(Order.id == order_id, Order.guest_email_verified_at.is_(None))
                       .values(guest_email_verified_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return get_order(order_id)


def _parse_number(number: str) -> int | None:
    text = (number or "").strip().upper().removeprefix("SM")
    return int(text) if text.isdigit() and len(text) <= 9 else None


def send_link(order: Order, *, paid: bool = False) -> bool:
    """Mail the guest a fresh link to her order (with a confirmation of the payment when `paid`)."""
    if not order.guest_email:
        return False
    days = max(1, int(current_app.config["GUEST_ORDER_LINK_MAX_AGE"]) // 86400)
    lines = "\n".join(f"- {ln.title} × {ln.quantity}  ¥{ln.total_fen / 100:,.2f}" for ln in order.lines)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        if paid:
            subject = _("Order %(number)s is paid", number=order.number)
            body = _("Thank you! We have received your payment of %(amount)s for order %(number)s (%(time)s).\n\n"
                     "%(lines)s\n\nDeliver to: %(name)s, %(address)s\n\n"
                     "Follow your order with this link (valid for %(days)d days; you can ask for a new one):\n%(url)s\n\n"
                     "Create an account with this email address and confirm it, and your orders will be in it.",
                     amount=f"¥{order.total_fen / 100:,.2f}", number=order.number, time=localtime(order.paid_at),
                     lines=lines, name=order.ship_name, address=order.ship_address, days=days, url=link_url(order))
        else:
            subject = _("The link to your order %(number)s", number=order.number)
            body = _("Here is a new link to your order %(number)s (valid for %(days)d days):\n%(url)s\n\n"
                     "If you did not ask for it, you can ignore this mail.",
                     number=order.number, days=days, url=link_url(order))
    sent = mail.send_mail(order.guest_email, subject, body)
    log.info("guest order link mailed order=%s paid=%s sent=%s", order.id, paid, sent)
    return sent


def send_shipped(order: Order, sub) -> bool:
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        return mail.send_mail(order.guest_email, _("Your order %(number)s has shipped", number=order.number),
                              _("%(shop)s has shipped your items with %(carrier)s, tracking number %(tracking)s.",
                                shop=sub.artisan_name, carrier=sub.carrier, tracking=sub.tracking_number)
                              + "\n\n" + link_url(order))


def resend_link(email: str, number: str) -> bool:
    """Mail a new link if `email` and `number` name a guest order (still without an account).
    The caller says the same thing either way (no probing which addresses bought here)."""
    order_id = _parse_number(number)
    email = (email or "").strip().lower()
    if order_id is None or not email:
        return False
    order = db.session.scalar(select(Order).where(Order.id == order_id, Order.guest_email == email))
    if order is None:
        return False
    if order.buyer_id is not None:
        # Already in her account: the link would only send her to the login page; say so by mail.
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
            mail.send_mail(email, _("Your order %(number)s", number=order.number),
                           _("Your order %(number)s is in your account. Log in to see it: %(url)s",
                             number=order.number, url=url_for("accounts.login", _external=True)))
        return True
    return send_link(order)


# ---- into an account, once its email is verified -----------------------------------------

def attach_guest_orders(user: User) -> int:
    """Give `user` the guest orders placed with her (verified) email address that no account
    has yet; returns how many. An unverified account gets none."""
    if user is None or user.email_verified_at is None or not user.email:
        return 0
    # One conditional UPDATE: it runs under the row locks (PostgreSQL) or the write lock (SQLite)
    # on the newest rows, so an order already taken is never taken again. (No rollback first:
    # this runs inside login_user too, and must not drop what the caller has not committed.)
    now = utcnow()
    result = db.session.execute(
        update(Order).where(Order.buyer_id.is_(None), Order.guest_email == user.email.strip().lower())
        .values(buyer_id=user.id, updated_at=now,
                guest_email_verified_at=func.coalesce(Order.guest_email_verified_at, now))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        log.info("guest orders attached user=%s count=%s", user.id, result.rowcount)
    return result.rowcount or 0


def _on_verified(user, **_extra) -> None:
    attach_guest_orders(user)


def _on_login(sender, user=None, **_extra) -> None:
    # An account verified earlier takes guest orders placed later with its address.
    if user is not None and user.email_verified_at is not None:
        attach_guest_orders(user)


def connect() -> None:
    from flask_login import user_logged_in

    from market import signals

    signals.email_verified.connect(_on_verified, weak=False)
    user_logged_in.connect(_on_login, weak=False)


def pending_guest_order_count(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Order).where(
        Order.buyer_id.is_(None), Order.guest_email == (email or "").strip().lower())) or 0
