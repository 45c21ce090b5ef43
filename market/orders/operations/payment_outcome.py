"""What the payment's outcome does to an order: paid (or paid too late, then refunded in full),
cancelled, expired; the reserved stock goes back on the shelf exactly once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from market import signals
from market.cart import services as cart
from market.extensions import db
from market.models import Order, OrderLine, Payment, Product, Refund
from market.orders.operations.common import _fresh, _move_order, log, utcnow


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
