"""Orders: placing one (atomic stock reservation), releasing its stock exactly once,
marking it paid, fulfilment per artisan, and the queries behind each page.

Payment calls live in market.payments.services; this module only touches the database.
"""
from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from market import signals
from market.catalog.services import public_products
from market.extensions import db
from market.mail import send_mail
from market.models import Artisan, Order, OrderLine, Product, SubOrder, User
from market.models.orders import PAID_STATES
from market.orders import states

log = logging.getLogger(__name__)


class OrderError(ValueError):
    """A rule was broken; the message is safe to show."""


class OutOfStock(OrderError):
    pass


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---- shipping address ------------------------------------------------------------------

PHONE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9}|0\d{2,3}\d{7,8})$")


@dataclass
class Address:
    name: str
    phone: str
    address: str

    def cleaned(self) -> Address:
        """Normalised copy, or OrderError naming the field."""
        name = " ".join((self.name or "").split())
        phone = re.sub(r"[\s\-()]", "", self.phone or "")
        address = " ".join((self.address or "").split())
        if not 1 <= len(name) <= 40:
            raise OrderError(_l("Enter the recipient's name (at most 40 characters)."))
        if not PHONE_RE.match(phone):
            raise OrderError(_l("Enter a mainland China mobile number (11 digits) or a landline with area code."))
        if not 5 <= len(address) <= 200:
            raise OrderError(_l("Enter the full delivery address (5 to 200 characters)."))
        return Address(name, phone, address)


def last_address(user: User) -> Address | None:
    order = db.session.scalar(select(Order).where(Order.buyer_id == user.id).order_by(Order.id.desc()).limit(1))
    return Address(order.ship_name, order.ship_phone, order.ship_address) if order else None


# ---- placing an order ------------------------------------------------------------------

def place_order(buyer: User, items: dict[int, int], address: Address, checkout_token: str) -> Order:
    """Create a pending order for `items` ({product_id: qty}), reserving stock atomically.

    The same `checkout_token` always yields the same order (double-submitted checkout).
    Not enough stock for any line: nothing is written and OutOfStock says what is left.
    """
    if not checkout_token or len(checkout_token) > 64:
        raise OrderError(_l("Your checkout form expired. Please try again."))
    existing = _order_for_token(buyer, checkout_token)
    if existing is not None:
        return existing
    items = {int(pid): int(q) for pid, q in items.items() if int(q) > 0}
    if not items:
        raise OrderError(_l("Your cart is empty."))
    address = address.cleaned()
    try:
        return _place(buyer, items, address, checkout_token)
    except OutOfStock:
        # Stale reservations of unpaid orders may hold the stock: expire them, try once more.
        from market.payments.services import expire_reservations

        if expire_reservations(product_ids=list(items)):
            return _place(buyer, items, address, checkout_token)
        raise
    except IntegrityError:
        db.session.rollback()
        existing = _order_for_token(buyer, checkout_token)
        if existing is None:
            raise
        return existing


def order_for_checkout_token(buyer: User, token: str) -> Order | None:
    """The buyer's order already placed with this checkout form, if any."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Order).where(Order.checkout_token == token, Order.buyer_id == buyer.id))


def _order_for_token(buyer: User, token: str) -> Order | None:
    order = db.session.scalar(select(Order).where(Order.checkout_token == token))
    if order is not None and order.buyer_id != buyer.id:
        raise OrderError(_l("Your checkout form expired. Please try again."))
    return order


def _place(buyer: User, items: dict[int, int], address: Address, token: str) -> Order:
    products = {
        p.id: p for p in db.session.scalars(
            public_products().where(Product.id.in_(list(items))).options(joinedload(Product.artisan))
        ).unique()
    }
    for pid in items:
        if pid not in products:
            raise OrderError(_l("A product in your cart is no longer available. Please review your cart."))

    ttl = int(current_app.config.get("RESERVATION_TTL_MINUTES", 30))
    order = Order(
        buyer_id=buyer.id, status="pending_payment", checkout_token=token, currency="cny", total_fen=0,
        ship_name=address.name, ship_phone=address.phone, ship_address=address.address,
        expires_at=utcnow() + timedelta(minutes=ttl), stock_reserved=True,
    )
    subs: dict[int, SubOrder] = OrderedDict()
    for pid in sorted(items):
        product, qty = products[pid], items[pid]
        sub = subs.get(product.artisan_id)
        if sub is None:
            sub = SubOrder(artisan_id=product.artisan_id, artisan_name=product.artisan.display_name,
                           status="awaiting_shipment", subtotal_fen=0)
            subs[product.artisan_id] = sub
            order.sub_orders.append(sub)
        line = OrderLine(product_id=pid, title=product.title, unit_price_fen=product.price_fen, quantity=qty,
                         artisan_id=product.artisan_id, artisan_name=product.artisan.display_name)
        sub.lines.append(line)
        order.lines.append(line)
        sub.subtotal_fen += line.total_fen
    order.total_fen = sum(s.subtotal_fen for s in subs.values())
    db.session.add(order)
    db.session.flush()  # the first write: takes SQLite's write lock before stock is read

    # Ascending product id, so two checkouts never lock the same rows in opposite order.
    for pid in sorted(items):
        qty = items[pid]
        result = db.session.execute(
            update(Product).where(Product.id == pid, Product.stock >= qty)
            .values(stock=Product.stock - qty).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            left = db.session.scalar(select(Product.stock).where(Product.id == pid)) or 0
            title = products[pid].title
            if left <= 0:
                raise OutOfStock(_l("Sorry, “%(title)s” has just sold out.", title=title))
            raise OutOfStock(_l("Only %(n)s of “%(title)s” left. Please change the quantity.", n=left, title=title))
    db.session.commit()
    log.info("order placed id=%s buyer=%s total_fen=%s lines=%s", order.id, buyer.id, order.total_fen, len(items))
    signals.order_placed.send(order)
    return order


# ---- state changes that must happen once -----------------------------------------------

def _move_once(order: Order, new_state: str, **values) -> bool:
    """Compare-and-set the order's state in the database, so two processes (webhook, page,
    expiry job) can never both apply the same change. False if someone else moved it first."""
    expected = order.status
    states.check_transition("order", expected, new_state)
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.status == expected)
        .values(status=new_state, **values).execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return result.rowcount == 1


def _release_stock(order: Order) -> None:
    for line in order.lines:
        if line.product_id is not None:
            db.session.execute(
                update(Product).where(Product.id == line.product_id)
                .values(stock=Product.stock + line.quantity).execution_options(synchronize_session=False)
            )


def cancel_unpaid(order: Order, reason: str) -> bool:
    """pending_payment -> cancelled and the reserved stock back on the shelf, exactly once.
    The caller has made sure the payment cannot succeed any more (PaymentIntent cancelled)."""
    if order.status != "pending_payment":
        return False
    if not _move_once(order, "cancelled", cancelled_at=utcnow(), cancel_reason=reason[:30], stock_reserved=False):
        db.session.rollback()
        return False
    _release_stock(order)
    db.session.commit()
    log.info("order cancelled id=%s reason=%s stock released", order.id, reason)
    return True


def mark_paid(order: Order) -> bool:
    """pending_payment -> paid, once. Notifies the buyer and each artisan."""
    if order.status != "pending_payment":
        return False
    if not _move_once(order, "paid", paid_at=utcnow(), payment_error=None):
        db.session.rollback()
        return False
    db.session.commit()
    log.info("order paid id=%s pi=%s total_fen=%s", order.id, order.payment_intent_id, order.total_fen)
    signals.order_paid.send(order)
    notify_paid(order)
    return True


def revive_cancelled(order: Order) -> bool:
    """A payment arrived for an order whose reservation had expired: re-reserve every line
    and mark it paid, or change nothing and return False (the caller refunds)."""
    if order.status != "cancelled":
        return False
    for line in sorted(order.lines, key=lambda ln: ln.product_id or 0):
        if line.product_id is None:
            db.session.rollback()
            return False
        result = db.session.execute(
            update(Product).where(Product.id == line.product_id, Product.stock >= line.quantity)
            .values(stock=Product.stock - line.quantity).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            return False
    if not _move_once(order, "paid", paid_at=utcnow(), stock_reserved=True, cancelled_at=None, cancel_reason=None):
        db.session.rollback()
        return False
    db.session.commit()
    log.warning("late payment accepted order=%s: stock re-reserved", order.id)
    signals.order_paid.send(order)
    notify_paid(order)
    return True


def overdue_orders(now: datetime | None = None, product_ids: list[int] | None = None) -> list[Order]:
    stmt = select(Order).where(Order.status == "pending_payment", Order.expires_at < (now or utcnow()))
    if product_ids:
        stmt = stmt.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id.in_(product_ids))))
    return list(db.session.scalars(stmt.order_by(Order.id)))


# ---- refunds (amounts; the API call is in payments.services) ----------------------------

def apply_refund(order: Order, amount: int, *, sub_order: SubOrder | None = None, line: OrderLine | None = None) -> None:
    """Add a refund to the order's (and sub-order's, line's) refunded amounts and move the
    states. Flushes, does not commit: the caller commits once the API has agreed."""
    if amount <= 0 or amount > order.refundable_fen:
        raise OrderError(_l("The refund must be more than zero and at most %(max)s fen.", max=order.refundable_fen))
    new_state = "refunded" if order.refunded_fen + amount == order.total_fen else "partially_refunded"
    states.transition(order, new_state)
    order.refunded_fen += amount
    if line is not None:
        line.refunded_fen += amount
        sub_order = line.sub_order
    if sub_order is not None:
        sub_order.refunded_fen += amount
        if sub_order.refunded_fen >= sub_order.subtotal_fen and sub_order.status == "awaiting_shipment":
            states.transition(sub_order, "cancelled")
    db.session.flush()


# ---- reading -------------------------------------------------------------------------

def _order_loading():
    return (selectinload(Order.sub_orders).selectinload(SubOrder.lines), selectinload(Order.refunds))


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


def buyer_orders(user: User) -> list[Order]:
    return list(db.session.scalars(
        select(Order).where(Order.buyer_id == user.id).order_by(Order.id.desc()).options(*_order_loading())
    ))


def artisan_sub_orders(artisan: Artisan, status: str | None = None) -> list[SubOrder]:
    """The artisan's own sub-orders of paid orders (unpaid ones are not hers to ship yet)."""
    stmt = (
        select(SubOrder).join(SubOrder.order)
        .where(SubOrder.artisan_id == artisan.id, Order.status.in_(PAID_STATES))
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
    revenue_fen: int = 0
    units: int = 0
    orders: int = 0


def sales_summary(artisan: Artisan) -> tuple[list[MonthSales], MonthSales]:
    """Revenue (net of refunds), units and sub-orders by month of payment, newest first."""
    rows = db.session.execute(
        select(Order.paid_at, SubOrder.id, OrderLine.quantity, OrderLine.unit_price_fen, OrderLine.refunded_fen)
        .join(SubOrder, SubOrder.order_id == Order.id).join(OrderLine, OrderLine.sub_order_id == SubOrder.id)
        .where(SubOrder.artisan_id == artisan.id, Order.status.in_(PAID_STATES))
    )
    months: dict[str, MonthSales] = {}
    seen: set[tuple[str, int]] = set()
    total = MonthSales(month="")
    refunded_by_sub: dict[int, int] = {}
    for paid_at, sub_id, qty, price, refunded in rows:
        key = (paid_at or utcnow()).strftime("%Y-%m")
        m = months.setdefault(key, MonthSales(month=key))
        m.revenue_fen += qty * price - refunded
        m.units += qty
        total.revenue_fen += qty * price - refunded
        total.units += qty
        if (key, sub_id) not in seen:
            seen.add((key, sub_id))
            m.orders += 1
            total.orders += 1
        refunded_by_sub[sub_id] = refunded_by_sub.get(sub_id, 0) + refunded
    # Refunds of a whole sub-order (not of a line) are on the sub-order only.
    extra = db.session.execute(
        select(Order.paid_at, SubOrder.id, SubOrder.refunded_fen).join(SubOrder, SubOrder.order_id == Order.id)
        .where(SubOrder.artisan_id == artisan.id, Order.status.in_(PAID_STATES), SubOrder.refunded_fen > 0)
    )
    for paid_at, sub_id, sub_refunded in extra:
        missing = sub_refunded - refunded_by_sub.get(sub_id, 0)
        if missing > 0:
            key = (paid_at or utcnow()).strftime("%Y-%m")
            months[key].revenue_fen -= missing
            total.revenue_fen -= missing
    return sorted(months.values(), key=lambda m: m.month, reverse=True), total


# ---- fulfilment ------------------------------------------------------------------------

def mark_shipped(user: User, sub_order_id: int, carrier: str, tracking_number: str) -> SubOrder:
    sub = sub_order_for_artisan(user, sub_order_id)
    carrier = " ".join((carrier or "").split())
    tracking_number = (tracking_number or "").strip()
    if not carrier or len(carrier) > 40:
        raise OrderError(_l("Enter the carrier (e.g. 顺丰, 中通)."))
    if not re.fullmatch(r"[A-Za-z0-9\-]{6,40}", tracking_number):
        raise OrderError(_l("Enter the tracking number (6 to 40 letters and digits)."))
    states.transition(sub, "shipped")
    sub.carrier, sub.tracking_number, sub.shipped_at = carrier, tracking_number, utcnow()
    db.session.commit()
    log.info("sub-order shipped id=%s order=%s by user=%s", sub.id, sub.order_id, user.id)
    notify_shipped(sub)
    return sub


def mark_delivered(user: User, sub_order_id: int) -> SubOrder:
    """The artisan (or staff) records delivery; the buyer may confirm receipt too."""
    sub = db.session.scalar(select(SubOrder).where(SubOrder.id == sub_order_id).options(joinedload(SubOrder.order)))
    if sub is None:
        raise NotFound(sub_order_id)
    is_buyer = sub.order.buyer_id == user.id
    is_seller = user.artisan is not None and user.artisan.id == sub.artisan_id
    if not (is_buyer or is_seller or user.is_staff):
        raise NotFound(sub_order_id)
    states.transition(sub, "delivered")
    sub.delivered_at = utcnow()
    db.session.commit()
    log.info("sub-order delivered id=%s by user=%s", sub.id, user.id)
    return sub


# ---- notifications -------------------------------------------------------------------

def _locale():
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


def _order_url(order: Order) -> str:
    try:
        return url_for("orders.order", order_id=order.id, _external=True)
    except RuntimeError:  # no request (CLI): a path is still useful
        return f"/orders/{order.id}"


def notify_paid(order: Order) -> None:
    order = get_order(order.id)
    with force_locale(_locale()):
        send_mail(order.buyer.email, _("Order %(number)s is paid", number=order.number),
                  _("Thank you! We have received your payment of %(amount)s. Follow your order at %(url)s",
                    amount=f"¥{order.total_fen / 100:.2f}", url=_order_url(order)))
        for sub in order.sub_orders:
            artisan = db.session.get(Artisan, sub.artisan_id)
            items = "\n".join(f"- {ln.title} × {ln.quantity}" for ln in sub.lines)
            send_mail(artisan.user.email, _("New order %(number)s to ship", number=sub.number),
                      _("Please ship these items to %(name)s:", name=order.ship_name) + "\n" + items)


def notify_shipped(sub: SubOrder) -> None:
    order = sub.order
    with force_locale(_locale()):
        send_mail(order.buyer.email, _("Your order %(number)s has shipped", number=order.number),
                  _("%(shop)s has shipped your items with %(carrier)s, tracking number %(tracking)s.",
                    shop=sub.artisan_name, carrier=sub.carrier, tracking=sub.tracking_number))


def count_pending_reservations() -> int:
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "pending_payment")) or 0
