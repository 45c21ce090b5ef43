"""Fulfilment: the artisan ships a parcel, the artisan, staff or the buyer records delivery."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from market import signals
from market.extensions import db
from market.models import SubOrder, User
from market.orders import states
from market.orders.errors import NotFound, OrderError
from market.orders.operations.common import _advance, _move_sub_order, log, utcnow


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
