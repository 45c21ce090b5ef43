"""Refund records: reserved before the payments API is asked, settled or released once, refunds
made elsewhere recorded once, and the invariant every path keeps."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from market import signals
from market.extensions import db
from market.models import Order, OrderLine, Refund, SubOrder, User
from market.orders.errors import NotFound, OrderError
from market.orders.operations.common import _advance, log, utcnow


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
