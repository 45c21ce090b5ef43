"""What a buyer may ask a refund or return for, and until when: the parts of an order a
request can name (a parcel or a line), the windows after delivery, excluded categories. Read by
market.returns.operations (which re-exports these names) and the order page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db
from market.models import Order, OrderLine, Product, SubOrder
from market.models.orders import PAID_STATES
from market.orders.errors import OrderError


class RequestError(OrderError):
    """A rule of refund requests was broken; the message is safe to show. `field` names the
    form field it belongs to (None: the whole form)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _cfg(name: str, default):
    return current_app.config.get(name, default)


def excluded_categories() -> set[str]:
    raw = _cfg("RETURN_EXCLUDED_CATEGORIES", "")
    return {c.strip() for c in str(raw).split(",") if c.strip()}


# ---- reading what a buyer may ask for ---------------------------------------------------

@dataclass
class Target:
    sub: SubOrder
    line: OrderLine | None

    @property
    def key(self) -> str:
        return f"line-{self.line.id}" if self.line else f"sub-{self.sub.id}"

    @property
    def limit_fen(self) -> int:
        order = self.sub.order
        own = self.line.refundable_fen if self.line else self.sub.subtotal_fen - self.sub.refunded_fen
        return max(0, min(own, order.paid_fen - order.refunded_fen))

    @property
    def lines(self) -> list[OrderLine]:
        return [self.line] if self.line else list(self.sub.lines)


def parse_target(order: Order, value: str) -> Target:
    kind, _sep, ident = (value or "").partition("-")
    if kind not in ("sub", "line") or not (ident.isdigit() and len(ident) <= 9):
        raise RequestError(_l("Choose what the request is about."), field="target")
    ident_int = int(ident)
    for sub in order.sub_orders:
        if kind == "sub" and sub.id == ident_int:
            return Target(sub, None)
        for line in sub.lines:
            if kind == "line" and line.id == ident_int:
                return Target(sub, line)
    raise RequestError(_l("Choose what the request is about."), field="target")


def targets(order: Order) -> list[Target]:
    """Every parcel and line of the order a request may name (not cancelled, something left)."""
    found = []
    for sub in order.sub_orders:
        if sub.status == "cancelled":
            continue
        found.append(Target(sub, None))
        found.extend(Target(sub, line) for line in sub.lines)
    return [t for t in found if t.limit_fen > 0]


def open_targets(order: Order, now: datetime | None = None) -> list[Target]:
    """The targets a request may still be opened for: not delivered yet, or delivered within
    REFUND_REQUEST_DAYS (the widest window, see check_window)."""
    now = now or utcnow()
    days = int(_cfg("REFUND_REQUEST_DAYS", 30))
    return [t for t in targets(order)
            if t.sub.delivered_at is None or now <= t.sub.delivered_at + timedelta(days=days)]


def may_request(order: Order) -> bool:
    return order.status in PAID_STATES and order.paid_fen > order.refunded_fen and bool(open_targets(order))


def _categories(lines: list[OrderLine]) -> set[str]:
    ids = [ln.product_id for ln in lines if ln.product_id is not None]
    if not ids:
        return set()
    return set(db.session.scalars(select(Product.category).where(Product.id.in_(ids))))


def check_window(target: Target, kind: str, reason: str, now: datetime | None = None) -> None:
    """The return window: "changed my mind" only within RETURN_WINDOW_DAYS of delivery and never
    for an excluded category; any other reason until REFUND_REQUEST_DAYS after delivery (and
    any time before it is delivered)."""
    now = now or utcnow()
    sub = target.sub
    if kind == "return" and sub.status not in ("shipped", "delivered"):
        raise RequestError(_l("A return is possible once the parcel has shipped; ask for a refund instead."),
                           field="kind")
    if reason == "changed_mind":
        if excluded_categories() & _categories(target.lines):
            raise RequestError(_l("This kind of product cannot be returned because you changed your mind."),
                               field="reason")
        days = int(_cfg("RETURN_WINDOW_DAYS", 7))
        if sub.status != "delivered" or sub.delivered_at is None:
            raise RequestError(_l("“Changed my mind” is possible within %(n)s days after delivery.", n=days),
                               field="reason")
        if now > sub.delivered_at + timedelta(days=days):
            raise RequestError(_l("The %(n)s-day window for “changed my mind” has closed.", n=days), field="reason")
        return
    days = int(_cfg("REFUND_REQUEST_DAYS", 30))
    if sub.delivered_at is not None and now > sub.delivered_at + timedelta(days=days):
        raise RequestError(_l("Requests are possible until %(n)s days after delivery; this one has closed. "
                              "Please contact the federation's staff.", n=days))
