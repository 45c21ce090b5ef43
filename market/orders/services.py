"""Orders: the queries behind each page and the rules that only read (addresses, tracking
numbers, checkout tokens). Every change of an order is in market.orders.operations."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from market.extensions import db
from market.models import Artisan, Order, OrderLine, Product, SavedAddress, SubOrder, User
from market.models.orders import PAID_STATES
from market.orders import states
from market.orders.errors import Forbidden, LimitReached, NotFound, OrderError, OutOfStock
from market.timefmt import localtime

__all__ = ["Address", "Forbidden", "LimitReached", "NotFound", "OrderError", "OutOfStock"]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---- shipping address ------------------------------------------------------------------

# A mainland China mobile number: 11 digits, 1 then 3-9. Spaces, dashes, brackets and a
# leading +86 / 0086 / 86 are accepted and dropped.
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def normalise_phone(raw: str | None) -> str | None:
    """The 11-digit mobile number in `raw`, or None if it is not one."""
    # NFKC: full-width digits from a Chinese input method (１３８…, ＋８６) become ASCII.
    phone = re.sub(r"[\s\-().]", "", unicodedata.normalize("NFKC", raw or ""))
    for prefix in ("+86", "0086", "86"):
        if phone.startswith(prefix) and len(phone) == len(prefix) + 11:
            phone = phone[len(prefix):]
            break
    return phone if MOBILE_RE.match(phone) else None


PHONE_MESSAGE = _l("Enter a mainland China mobile number: 11 digits starting with 1, e.g. 138 0013 8000.")


@dataclass
class Address:
    name: str
    phone: str
    address: str

    def cleaned(self) -> Address:
        """Normalised copy, or OrderError naming the field."""
        name = " ".join((self.name or "").split())
        phone = normalise_phone(self.phone)
        address = " ".join((self.address or "").split())
        if not 1 <= len(name) <= 40:
            raise OrderError(_l("Enter the recipient's name (at most 40 characters)."))
        if phone is None:
            raise OrderError(PHONE_MESSAGE)
        if not 5 <= len(address) <= 200:
            raise OrderError(_l("Enter the full delivery address (5 to 200 characters)."))
        return Address(name, phone, address)


def last_address(user: User) -> Address | None:
    """What her checkout form starts with: her default saved address, else her last order's."""
    saved = db.session.scalar(select(SavedAddress).where(SavedAddress.user_id == user.id)
                              .order_by(SavedAddress.is_default.desc(), SavedAddress.id.desc()).limit(1))
    if saved is not None:
        return Address(saved.name, saved.phone, saved.address)
    order = db.session.scalar(select(Order).where(Order.buyer_id == user.id).order_by(Order.id.desc()).limit(1))
    return Address(order.ship_name, order.ship_phone, order.ship_address) if order else None


# ---- reading -------------------------------------------------------------------------

def _order_loading():
    return (selectinload(Order.sub_orders).selectinload(SubOrder.lines), selectinload(Order.refunds),
            selectinload(Order.payment))


def get_order(order_id: int) -> Order:
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(*_order_loading()))
    if order is None:
        raise NotFound(order_id)
    return order


def order_for_buyer(user: User, order_id: int) -> Order:
    order = get_order(order_id)
    if order.buyer_id != user.id and not user.is_staff:
        raise NotFound(order_id)  # never reveal that someone else's order exists
    return order


def order_for_viewer(user, order_id: int, guest_order_ids=()) -> Order:
    """The order if this visitor may see it: its buyer, staff, or (a guest order not yet in
    any account) the browser that placed it or opened its signed link (`guest_order_ids`, kept
    in her session)."""
    order = get_order(order_id)
    if getattr(user, "is_authenticated", False) and (order.buyer_id == user.id or user.is_staff):
        return order
    if order.buyer_id is None and order.id in set(guest_order_ids or ()):
        return order
    raise NotFound(order_id)


def buyer_orders(user: User) -> list[Order]:
    return list(db.session.scalars(
        select(Order).where(Order.buyer_id == user.id).order_by(Order.id.desc()).options(*_order_loading())
    ))


def sold():
    """The orders an artisan sold: paid ones, and paid ones cancelled because every parcel was
    refunded (she sees the refund on her list, and her sales summary nets it, alike). Unpaid
    orders are not hers to ship yet; a late payment on a cancelled order was never a sale."""
    return or_(Order.status.in_(PAID_STATES),
               and_(Order.status == "cancelled", Order.cancel_reason == "refunded", Order.paid_fen > 0))


def artisan_sub_orders(artisan: Artisan, status: str | None = None) -> list[SubOrder]:
    """The artisan's own sub-orders of the orders she sold (see `sold`)."""
    stmt = (
        select(SubOrder).join(SubOrder.order)
        .where(SubOrder.artisan_id == artisan.id, sold())
        .options(selectinload(SubOrder.lines), joinedload(SubOrder.order))
        .order_by(SubOrder.id.desc())
    )
    if status:
        stmt = stmt.where(SubOrder.status == status)
    return list(db.session.scalars(stmt).unique())


def sub_order_for_artisan(user: User, sub_order_id: int) -> SubOrder:
    sub = db.session.scalar(
        select(SubOrder).where(SubOrder.id == sub_order_id).options(selectinload(SubOrder.lines), joinedload(SubOrder.order))
    )
    if sub is None or sub.order.status not in PAID_STATES:
        raise NotFound(sub_order_id)
    if not user.is_staff and (user.artisan is None or user.artisan.id != sub.artisan_id):
        raise NotFound(sub_order_id)
    return sub


def all_orders(status: str | None = None, page: int = 1, per_page: int = 50):
    stmt = select(Order).options(joinedload(Order.buyer), selectinload(Order.sub_orders)).order_by(Order.id.desc())
    if status in states.ORDER_STATE_LABELS:
        stmt = stmt.where(Order.status == status)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


@dataclass
class MonthSales:
    month: str
    gross_fen: int = 0
    refunded_fen: int = 0
    units: int = 0
    orders: int = 0

    @property
    def revenue_fen(self) -> int:
        return self.gross_fen - self.refunded_fen


def sales_summary(artisan: Artisan) -> tuple[list[MonthSales], MonthSales]:
    """Gross sales, refunds and revenue (net of refunds), units and sub-orders by month of
    payment, newest first; the same sub-orders as her order list (`sold`). A parcel's
    refunded_fen counts every refund of it and of its lines."""
    rows = db.session.execute(
        select(Order.paid_at, SubOrder.id, SubOrder.subtotal_fen, SubOrder.refunded_fen,
               select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.sub_order_id == SubOrder.id)
               .scalar_subquery())
        .join(SubOrder, SubOrder.order_id == Order.id)
        .where(SubOrder.artisan_id == artisan.id, sold())
    )
    months: dict[str, MonthSales] = {}
    total = MonthSales(month="")
    for paid_at, _sub_id, subtotal, refunded, units in rows:
        key = localtime(paid_at or utcnow(), "month")  # her months are Beijing months
        for m in (months.setdefault(key, MonthSales(month=key)), total):
            m.gross_fen += subtotal
            m.refunded_fen += refunded
            m.units += int(units or 0)
            m.orders += 1
    return sorted(months.values(), key=lambda m: m.month, reverse=True), total


# ---- fulfilment rules ------------------------------------------------------------------

def valid_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    """Normalised carrier and tracking number, or OrderError naming the field."""
    carrier = " ".join((carrier or "").split())
    tracking_number = (tracking_number or "").strip()
    if not carrier or len(carrier) > 40:
        raise OrderError(_l("Enter the carrier (e.g. 顺丰, 中通)."))
    if not re.fullmatch(r"[A-Za-z0-9\-]{6,40}", tracking_number):
        raise OrderError(_l("Enter the tracking number (6 to 40 letters and digits)."))
    return carrier, tracking_number


# ---- checkout tokens -------------------------------------------------------------------

def checkout_token(buyer: User | None, items: dict[int, int], guest: tuple[str, int] | None = None) -> str:
    """One token per version of the buyer's cart: the same cart at the same prices (and the
    same latest order) gives the same token, so two tabs of one cart place one order; a changed
    cart or price, or a new cart after an order, gives a new one. A guest (`buyer` None) is known by `guest`: her
    browser's random key and the id of the last order it placed."""
    if buyer is not None:
        last_order = db.session.scalar(select(func.max(Order.id)).where(Order.buyer_id == buyer.id)) or 0
        who = str(buyer.id)
    else:
        who, last_order = guest or ("", 0)
        who = f"guest:{who}"
    # The prices too: a page opened before the shop changed one must not place the order at
    # a price it did not show (the page is shown again, with the new price).
    prices = dict(db.session.execute(select(Product.id, Product.price_fen)
                                     .where(Product.id.in_(list(items)))).tuples().all()) if items else {}
    content = ",".join(f"{pid}x{qty}@{prices.get(pid)}" for pid, qty in sorted(items.items()))
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"checkout|{who}|{last_order}|{content}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def order_for_checkout_token(buyer: User | None, token: str, guest_order_ids=()) -> Order | None:
    """The buyer's order already placed with this checkout token, if any (a guest's: one her
    browser placed)."""
    if not token or len(token) > 64:
        return None
    order = db.session.scalar(select(Order).where(Order.checkout_token == token))
    if order is None:
        return None
    if buyer is not None:
        return order if order.buyer_id == buyer.id else None
    return order if order.buyer_id is None and order.id in set(guest_order_ids or ()) else None


def count_pending_reservations() -> int:
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "pending_payment")) or 0
