"""What every order operation shares: the clock, compare-and-set moves of an order and a
sub-order (checked against market.orders.states), and moving the order along its lifecycle
from its parcels."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update

from market.extensions import db
from market.models import Order, SubOrder
from market.orders import states
from market.orders.services import get_order

log = logging.getLogger("market.orders.operations")  # one logger for every order change, as before the split


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
