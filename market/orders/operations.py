"""The only code that changes an order, its sub-orders, their stock reservations and the
order's refund records: place, mark paid, fail, cancel, expire, reserve / settle / release a
refund, ship, deliver.

Every operation validates, changes the rows with a conditional UPDATE whose WHERE says what
must still be true (the states it may move from, the stock it needs, the money still
refundable), logs, and sends a signal. A conditional UPDATE holds on both databases:
PostgreSQL re-checks the WHERE on the newest row version after waiting for a concurrent
writer, and on SQLite the UPDATE is the transaction's first write (pysqlite begins the
transaction there), so it runs under the database's write lock on the newest data. Callers
never assign an order column; market.payments turns what the payments API says into calls
of these functions.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from market import signals
from market.cart import services as cart
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Order, OrderLine, Payment, Product, Refund, SubOrder, User
from market.orders import states
from market.orders.errors import LimitReached, NotFound, OrderError, OutOfStock
from market.orders.services import Address, get_order

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _fresh(order_id: int) -> Order:
    db.session.expire_all()
    return get_order(order_id)


def _move_order(order_id: int, new_state: str, *, where=(), **values) -> bool:
    """Compare-and-set: the order moves to `new_state` only from a state the table allows
    (and while every extra condition in `where` holds). False if it was not there."""
    result = db.session.execute(
        update(Order).where(Order.id == order_id, Order.status.in_(states.sources("order", new_state)), *where)
        .values(status=new_state, updated_at=utcnow(), **values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _move_sub_order(sub_id: int, new_state: str, **values) -> bool:
    result = db.session.execute(
        update(SubOrder).where(SubOrder.id == sub_id, SubOrder.status.in_(states.sources("sub_order", new_state)))
        .values(status=new_state, **values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# ---- placing --------------------------------------------------------------------------

def place_order(buyer: User | None, items: dict[int, int], address: Address, checkout_token: str,
                guest_email: str | None = None) -> Order:
    """Create a pending order for `items` ({product_id: qty}), reserving stock atomically.
    A guest's order (`buyer` None) has no account, only `guest_email`.

    The same `checkout_token` always yields the same order (two tabs, a double submit).
    Not enough stock for any line, or a hoarding limit reached: nothing is written and the
    error says why.
    """
    if not checkout_token or len(checkout_token) > 64:
        raise OrderError(_l("Your checkout form expired. Please try again."))
    if buyer is None:
        guest_email = (guest_email or "").strip().lower()
        if not guest_email or "@" not in guest_email or len(guest_email) > 254:
            raise OrderError(_l("Enter your email address: the order confirmation goes there."))
    else:
        guest_email = None
    db.session.rollback()  # the reservation below must be this transaction's first write
    existing = _order_for_token(buyer, checkout_token, guest_email)
    if existing is not None:
        return existing
    items = {int(pid): int(q) for pid, q in items.items() if int(q) > 0}
    if not items:
        raise OrderError(_l("Your cart is empty."))
    address = address.cleaned()
    try:
        try:
            return _place(buyer, items, address, checkout_token, guest_email)
        except OutOfStock:
            # Overdue unpaid orders that never reached the payments API may hold the stock:
            # release those (no API call needed), then try once more. Overdue orders with a
            # PaymentIntent are settled by the reconcile job, which asks the API first.
            if expire_overdue_without_payment(product_ids=list(items)):
                return _place(buyer, items, address, checkout_token, guest_email)
            raise
    except IntegrityError:
        db.session.rollback()
        existing = _order_for_token(buyer, checkout_token, guest_email)
        if existing is None:
            raise
        return existing


def _order_for_token(buyer: User | None, token: str, guest_email: str | None = None) -> Order | None:
    order = db.session.scalar(select(Order).where(Order.checkout_token == token))
    if order is None:
        return None
    mine = (order.buyer_id == buyer.id) if buyer is not None else (
        order.buyer_id is None and order.guest_email == guest_email)
    if not mine:
        raise OrderError(_l("Your checkout form expired. Please try again."))
    return order


def _place(buyer: User | None, items: dict[int, int], address: Address, token: str,
           guest_email: str | None = None) -> Order:
    cfg = current_app.config
    products = {
        p.id: p for p in db.session.scalars(
            public_products().where(Product.id.in_(list(items))).options(joinedload(Product.artisan))
        ).unique()
    }
    for pid in items:
        if pid not in products:
            raise OrderError(_l("A product in your cart is no longer available. Please review your cart."))

    ttl = int(cfg.get("RESERVATION_TTL_MINUTES", 30))
    order = Order(
        buyer_id=buyer.id if buyer else None, guest_email=guest_email, status="pending_payment", checkout_token=token, currency="cny", total_fen=0,
        paid_fen=0, refunded_fen=0, ship_name=address.name, ship_phone=address.phone, ship_address=address.address,
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
    if buyer is not None and db.engine.dialect.name == "postgresql":
        # One checkout at a time per buyer, so the limits below count every other one.
        db.session.execute(select(User.id).where(User.id == buyer.id).with_for_update())
    db.session.add(order)
    db.session.flush()  # the first write: takes SQLite's write lock before anything is counted
    _check_limits(buyer, items, products, guest_email)

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
    log.info("order placed id=%s buyer=%s total_fen=%s lines=%s", order.id, buyer.id if buyer else "guest",
             order.total_fen, len(items))
    signals.order_placed.send(order)
    return order


def _check_limits(buyer: User | None, items: dict[int, int], products: dict[int, Product],
                  guest_email: str | None = None) -> None:
    """Hoarding limits, counted with the new order already written (inside its transaction);
    a guest's are counted by her email."""
    cfg = current_app.config
    mine = Order.buyer_id == buyer.id if buyer is not None else Order.guest_email == guest_email
    max_unpaid = int(cfg.get("MAX_UNPAID_ORDERS_PER_BUYER", 3))
    unpaid = db.session.scalar(
        select(func.count()).select_from(Order).where(mine, Order.status == "pending_payment")
    ) or 0
    if max_unpaid and unpaid > max_unpaid:
        db.session.rollback()
        raise LimitReached(_l("You already have %(n)s unpaid orders. Please pay or cancel one first.",
                              n=max_unpaid))
    max_units = int(cfg.get("MAX_UNPAID_UNITS_PER_PRODUCT", 10))
    if not max_units:
        return
    held = dict(db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(mine, Order.status == "pending_payment", OrderLine.product_id.in_(list(items)))
        .group_by(OrderLine.product_id)
    ).all())
    for pid, units in held.items():
        if units > max_units:
            db.session.rollback()
            raise LimitReached(_l("You can hold at most %(n)s of “%(title)s” in unpaid orders.",
                                  n=max_units, title=products[pid].title))


# ---- paid, failed, cancelled, expired --------------------------------------------------

def mark_paid(order_id: int, amount_fen: int) -> str:
    """The payments API says the order's payment of `amount_fen` succeeded.

    Returns "paid" (pending -> paid, once), "already" (nothing to do) or "late": the order
    had been cancelled meanwhile, so the money is recorded as paid and a full refund of it is
    reserved (origin late_payment); the caller asks the API for it (see `pending_refunds`).
    """
    db.session.rollback()
    now = utcnow()
    if _move_order(order_id, "paid", where=(Order.total_fen == amount_fen,), paid_fen=amount_fen, paid_at=now):
        db.session.commit()
        order = _fresh(order_id)
        log.info("order paid id=%s pi=%s total_fen=%s", order.id, order.payment_intent_id, order.total_fen)
        signals.order_paid.send(order)
        return "paid"
    # A payment for a cancelled order (its reservation expired, or the buyer cancelled while
    # the bank was still deciding): record the money once, then give it back in full.
    result = db.session.execute(
        update(Order).where(Order.id == order_id, Order.status == "cancelled", Order.paid_fen == 0,
                            Order.total_fen == amount_fen)
        .values(paid_fen=amount_fen, paid_at=now, refunded_fen=Order.refunded_fen + amount_fen, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return "already"
    db.session.add(Refund(order_id=order_id, amount_fen=amount_fen, status="pending", origin="late_payment",
                          reason="payment arrived after the order was cancelled"))
    db.session.commit()
    log.warning("late payment on cancelled order %s: full refund of %s fen reserved", order_id, amount_fen)
    return "late"


def _release_stock(order_id: int) -> bool:
    """Put the order's reserved units back on the shelf, exactly once (the flag is the guard)."""
    result = db.session.execute(
        update(Order).where(Order.id == order_id, Order.stock_reserved.is_(True))
        .values(stock_reserved=False).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    lines = db.session.execute(
        select(OrderLine.product_id, OrderLine.quantity).where(OrderLine.order_id == order_id)
        .order_by(OrderLine.product_id)
    ).all()
    for product_id, quantity in lines:
        if product_id is not None:
            db.session.execute(
                update(Product).where(Product.id == product_id)
                .values(stock=Product.stock + quantity).execution_options(synchronize_session=False)
            )
    return True


def cancel_unpaid(order_id: int, reason: str, *, restore_cart: bool = False, only_if_overdue: bool = False) -> bool:
    """pending_payment -> cancelled with `reason`, the stock back on the shelf, exactly once.

    The caller has made sure the payment cannot succeed any more (its PaymentIntent was
    cancelled or has failed, or it never had one); if it succeeds anyway, `mark_paid`
    refunds it. `restore_cart` puts the lines back in the buyer's cart for another try."""
    db.session.rollback()
    now = utcnow()
    where = (Order.expires_at < now,) if only_if_overdue else ()
    if not _move_order(order_id, "cancelled", where=where, cancelled_at=now, cancel_reason=reason[:30]):
        db.session.rollback()
        return False
    _release_stock(order_id)
    db.session.commit()
    log.info("order cancelled id=%s reason=%s stock released", order_id, reason)
    order = _fresh(order_id)
    if restore_cart:
        cart.restore_lines(order.buyer_id, {ln.product_id: ln.quantity for ln in order.lines if ln.product_id})
        # (a guest's lines go back into her session cart, when she is the one asking)
    signals.order_cancelled.send(order, reason=reason)
    return True


def expire(order_id: int) -> bool:
    """An unpaid order whose reservation ran out: cancelled, stock released (once)."""
    return cancel_unpaid(order_id, "expired", only_if_overdue=True)


def overdue_orders(now: datetime | None = None, product_ids: list[int] | None = None) -> list[Order]:
    stmt = select(Order).where(Order.status == "pending_payment", Order.expires_at < (now or utcnow()))
    if product_ids:
        stmt = stmt.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id.in_(product_ids))))
    return list(db.session.scalars(stmt.order_by(Order.id)))


def expire_overdue_without_payment(product_ids: list[int] | None = None) -> int:
    """Expire overdue orders that never got a PaymentIntent: nothing at the API can pay them."""
    released = 0
    for order in overdue_orders(product_ids=product_ids):
        has_payment = db.session.scalar(select(Payment.id).where(Payment.order_id == order.id))
        if has_payment is None and expire(order.id):
            released += 1
    return released


# ---- refunds ---------------------------------------------------------------------------

def reserve_refund(staff: User | None, order_id: int, *, amount: int | None = None, sub_order_id: int | None = None,
                   line_id: int | None = None, reason: str = "", request_token: str | None = None,
                   origin: str = "staff") -> tuple[Refund, bool]:
    """Reserve a refund of a line, a sub-order, or (neither given) the rest of the order:
    `amount` (default: all still refundable of the target) is added to the refunded totals
    with a conditional UPDATE (`refunded_fen + amount <= paid_fen`) and a `pending` refund
    row is written in the same transaction. Only then may the API be called, keyed by the
    row. Two staff tabs refunding at once: one reservation wins, the other is refused.
    Returns (refund, reserved now). A form token seen before: the refund already reserved for
    it, and False (the caller must not ask the API again)."""
    db.session.rollback()
    if request_token:
        done = db.session.scalar(select(Refund).where(Refund.request_token == request_token))
        if done is not None:
            return done, False
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(order_id)
    # A cancelled order may still hold money (a late payment whose automatic refund failed).
    if order.status not in ("paid", "fulfilled", "completed", "cancelled") or order.paid_fen <= 0:
        raise OrderError(_l("Only paid orders can be refunded."))
    line = sub = None
    if line_id is not None:
        line = db.session.get(OrderLine, line_id)
        if line is None or line.order_id != order.id:
            raise NotFound(line_id)
        sub_order_id = line.sub_order_id
        limit = line.refundable_fen
    elif sub_order_id is not None:
        sub = db.session.get(SubOrder, sub_order_id)
        if sub is None or sub.order_id != order.id:
            raise NotFound(sub_order_id)
        limit = sub.subtotal_fen - sub.refunded_fen
    else:
        limit = order.refundable_fen
    limit = min(limit, order.refundable_fen)
    amount = limit if amount is None else int(amount)
    too_much = OrderError(_l("The refund must be more than zero and at most %(max)s.", max=f"¥{limit / 100:.2f}"))
    if amount <= 0 or amount > limit:
        raise too_much
    db.session.rollback()  # what was read above may be stale: the UPDATEs below decide
    now = utcnow()
    result = db.session.execute(
        update(Order).where(Order.id == order_id, Order.refunded_fen + amount <= Order.paid_fen)
        .values(refunded_fen=Order.refunded_fen + amount, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise _refused(order_id)
    if line_id is not None:
        ok = db.session.execute(
            update(OrderLine).where(OrderLine.id == line_id,
                                    OrderLine.refunded_fen + amount <= OrderLine.unit_price_fen * OrderLine.quantity)
            .values(refunded_fen=OrderLine.refunded_fen + amount).execution_options(synchronize_session=False)
        ).rowcount == 1
        if not ok:
            db.session.rollback()
            raise _refused(order_id)
    if sub_order_id is not None:
        ok = db.session.execute(
            update(SubOrder).where(SubOrder.id == sub_order_id, SubOrder.refunded_fen + amount <= SubOrder.subtotal_fen)
            .values(refunded_fen=SubOrder.refunded_fen + amount).execution_options(synchronize_session=False)
        ).rowcount == 1
        if not ok:
            db.session.rollback()
            raise _refused(order_id)
    record = Refund(order_id=order_id, sub_order_id=sub_order_id, line_id=line_id, amount_fen=amount,
                    status="pending", origin=origin[:20], reason=(reason or "")[:500], request_token=request_token,
                    created_by_id=staff.id if staff else None)
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:  # the same form submitted twice at once: the other one reserved
        db.session.rollback()
        done = db.session.scalar(select(Refund).where(Refund.request_token == request_token))
        if done is None:
            raise
        return done, False
    log.info("refund %s of %s fen reserved on order %s (sub=%s line=%s) by user=%s", record.id, amount, order_id,
             sub_order_id, line_id, staff.id if staff else None)
    return record, True


def _refused(order_id: int) -> OrderError:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    left = order.refundable_fen if order is not None else 0
    return OrderError(_l("The refund must be more than zero and at most %(max)s.", max=f"¥{left / 100:.2f}"))


def settle_refund(refund_id: int, stripe_refund_id: str) -> bool:
    """The API made the reserved refund: pending -> succeeded, once. A parcel refunded in full
    before it shipped is cancelled; an order whose every parcel is cancelled is cancelled."""
    db.session.rollback()
    result = db.session.execute(
        update(Refund).where(Refund.id == refund_id, Refund.status == "pending")
        .values(status="succeeded", stripe_refund_id=stripe_refund_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    refund = db.session.get(Refund, refund_id)
    order_id = refund.order_id
    if refund.sub_order_id is not None:
        db.session.execute(
            update(SubOrder).where(SubOrder.id == refund.sub_order_id, SubOrder.status == "awaiting_shipment",
                                   SubOrder.refunded_fen >= SubOrder.subtotal_fen)
            .values(status="cancelled").execution_options(synchronize_session=False)
        )
    order = db.session.get(Order, order_id)
    if order.status == "paid" and order.refunded_fen >= order.paid_fen:
        # Everything refunded and nothing shipped yet: nothing is left to send.
        shipped = db.session.scalar(select(func.count()).select_from(SubOrder).where(
            SubOrder.order_id == order_id, SubOrder.status.in_(("shipped", "delivered")))) or 0
        if not shipped:
            db.session.execute(
                update(SubOrder).where(SubOrder.order_id == order_id, SubOrder.status == "awaiting_shipment")
                .values(status="cancelled").execution_options(synchronize_session=False)
            )
    _advance(order_id)
    db.session.commit()
    log.info("refund %s succeeded (%s) on order %s", refund_id, stripe_refund_id, order_id)
    signals.refund_settled.send(refund_id, succeeded=True)
    return True


def release_refund(refund_id: int, *, was: str = "pending") -> bool:
    """The API refused the reserved refund (or surely never got it), or (was="succeeded")
    reports that a refund it had accepted failed at the bank: -> failed and the amount given
    back to what is refundable, once."""
    db.session.rollback()
    result = db.session.execute(
        update(Refund).where(Refund.id == refund_id, Refund.status == was)
        .values(status="failed", updated_at=utcnow()).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    refund = db.session.get(Refund, refund_id)
    amount = refund.amount_fen
    db.session.execute(update(Order).where(Order.id == refund.order_id)
                       .values(refunded_fen=Order.refunded_fen - amount).execution_options(synchronize_session=False))
    if refund.line_id is not None:
        db.session.execute(update(OrderLine).where(OrderLine.id == refund.line_id)
                           .values(refunded_fen=OrderLine.refunded_fen - amount)
                           .execution_options(synchronize_session=False))
    if refund.sub_order_id is not None:
        db.session.execute(update(SubOrder).where(SubOrder.id == refund.sub_order_id)
                           .values(refunded_fen=SubOrder.refunded_fen - amount)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    log.warning("refund %s of %s fen on order %s failed: amount released", refund_id, amount, refund.order_id)
    if was == "succeeded":
        signals.refund_settled.send(refund_id, succeeded=False)
    return True


def record_external_refund(order_id: int, stripe_refund_id: str, amount_fen: int) -> bool:
    """A refund the payments API reports that this app did not ask for (e.g. made in Stripe's
    dashboard): recorded once per refund id, up to what is still refundable."""
    db.session.rollback()
    if db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == stripe_refund_id)):
        return False
    order = db.session.get(Order, order_id)
    if order is None or order.paid_fen <= 0:
        return False
    amount = min(int(amount_fen), order.refundable_fen)
    if amount <= 0:
        return False
    db.session.rollback()
    result = db.session.execute(
        update(Order).where(Order.id == order_id, Order.refunded_fen + amount <= Order.paid_fen)
        .values(refunded_fen=Order.refunded_fen + amount, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.add(Refund(order_id=order_id, amount_fen=amount, status="succeeded", origin="external",
                          stripe_refund_id=stripe_refund_id, reason="reported by the payments service"))
    try:
        db.session.commit()
    except IntegrityError:  # the same refund reported by two events at once
        db.session.rollback()
        return False
    log.info("external refund %s of %s fen recorded on order %s", stripe_refund_id, amount, order_id)
    return True


def pending_refunds(order_id: int | None = None, older_than: datetime | None = None) -> list[Refund]:
    stmt = select(Refund).where(Refund.status == "pending")
    if order_id is not None:
        stmt = stmt.where(Refund.order_id == order_id)
    if older_than is not None:
        stmt = stmt.where(Refund.created_at < older_than)
    return list(db.session.scalars(stmt.order_by(Refund.id)))


# ---- fulfilment ------------------------------------------------------------------------

def _advance(order_id: int) -> None:
    """Move the order along its lifecycle from its parcels: every live parcel shipped ->
    fulfilled, every live parcel delivered -> completed, every parcel cancelled -> cancelled."""
    rows = db.session.execute(select(SubOrder.status).where(SubOrder.order_id == order_id)).scalars().all()
    live = [s for s in rows if s != "cancelled"]
    now = utcnow()
    if not live:
        _move_order(order_id, "cancelled", where=(Order.status == "paid",), cancelled_at=now, cancel_reason="refunded")
        return
    if all(s in ("shipped", "delivered") for s in live):
        _move_order(order_id, "fulfilled")
    if all(s == "delivered" for s in live):
        _move_order(order_id, "completed")


def ship(user: User, sub_order_id: int, carrier: str, tracking_number: str) -> SubOrder:
    from market.orders.services import sub_order_for_artisan, valid_tracking

    sub = sub_order_for_artisan(user, sub_order_id)
    carrier, tracking_number = valid_tracking(carrier, tracking_number)
    states.check_transition("sub_order", sub.status, "shipped")
    db.session.rollback()
    if not _move_sub_order(sub_order_id, "shipped", carrier=carrier, tracking_number=tracking_number,
                           shipped_at=utcnow()):
        db.session.rollback()
        current = db.session.get(SubOrder, sub_order_id)
        states.check_transition("sub_order", current.status, "shipped")
        raise OrderError(_l("This parcel changed meanwhile. Please reload the page."))
    _advance(sub.order_id)
    db.session.commit()
    db.session.expire_all()
    sub = db.session.get(SubOrder, sub_order_id)
    log.info("sub-order shipped id=%s order=%s by user=%s", sub.id, sub.order_id, user.id)
    signals.sub_order_shipped.send(sub)
    return sub


def deliver(user: User, sub_order_id: int) -> SubOrder:
    """The artisan (or staff) records delivery; the buyer may confirm receipt too."""
    sub = db.session.scalar(select(SubOrder).where(SubOrder.id == sub_order_id).options(joinedload(SubOrder.order)))
    if sub is None:
        raise NotFound(sub_order_id)
    is_buyer = sub.order.buyer_id == user.id
    is_seller = user.artisan is not None and user.artisan.id == sub.artisan_id
    if not (is_buyer or is_seller or user.is_staff):
        raise NotFound(sub_order_id)
    states.check_transition("sub_order", sub.status, "delivered")
    order_id = sub.order_id
    db.session.rollback()
    if not _move_sub_order(sub_order_id, "delivered", delivered_at=utcnow()):
        db.session.rollback()
        current = db.session.get(SubOrder, sub_order_id)
        states.check_transition("sub_order", current.status, "delivered")
        return current
    _advance(order_id)
    db.session.commit()
    log.info("sub-order delivered id=%s by user=%s", sub_order_id, user.id)
    return db.session.get(SubOrder, sub_order_id)


def refund_totals_consistent(order_id: int) -> bool:
    """The invariant every path keeps: refunded_fen = sum of the order's pending and succeeded
    refunds (= the succeeded ones once none is in flight), and never more than was paid."""
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    total = db.session.scalar(
        select(func.coalesce(func.sum(case((Refund.status.in_(("pending", "succeeded")), Refund.amount_fen),
                                           else_=0)), 0)).where(Refund.order_id == order_id)
    )
    return order.refunded_fen == total and 0 <= order.refunded_fen <= order.paid_fen
