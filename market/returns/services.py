"""Refund requests: the queries behind each page (nothing here changes a row)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from market.extensions import db
from market.models import Artisan, Order, RefundRequest, User
from market.orders.errors import NotFound


def _loading():
    return (joinedload(RefundRequest.order), joinedload(RefundRequest.sub_order), joinedload(RefundRequest.line))


def for_order(order: Order) -> list[RefundRequest]:
    return list(db.session.scalars(select(RefundRequest).where(RefundRequest.order_id == order.id)
                                   .options(*_loading()).order_by(RefundRequest.id)))


def for_sub_orders(sub_ids: list[int]) -> dict[int, list[RefundRequest]]:
    """The requests of each of these parcels (one query, for the artisan's order list)."""
    found: dict[int, list[RefundRequest]] = {}
    if not sub_ids:
        return found
    for record in db.session.scalars(select(RefundRequest).where(RefundRequest.sub_order_id.in_(sub_ids))
                                     .options(joinedload(RefundRequest.line)).order_by(RefundRequest.id)):
        found.setdefault(record.sub_order_id, []).append(record)
    return found


def for_artisan(artisan: Artisan, statuses: tuple[str, ...] | None = None) -> list[RefundRequest]:
    stmt = select(RefundRequest).where(RefundRequest.artisan_id == artisan.id).options(*_loading())
    if statuses:
        stmt = stmt.where(RefundRequest.status.in_(statuses))
    return list(db.session.scalars(stmt.order_by(RefundRequest.id.desc())))


def for_staff(statuses: tuple[str, ...] | None = None, limit: int = 200) -> list[RefundRequest]:
    stmt = select(RefundRequest).options(*_loading())
    if statuses:
        stmt = stmt.where(RefundRequest.status.in_(statuses))
    return list(db.session.scalars(stmt.order_by(RefundRequest.id.desc()).limit(limit)))


def visible_request(user: User, request_id: int) -> RefundRequest:
    """The request, if this user is its buyer, its artisan or staff."""
    record = db.session.scalar(select(RefundRequest).where(RefundRequest.id == request_id).options(*_loading()))
    if record is None:
        raise NotFound(request_id)
    if user.is_staff or record.buyer_id == user.id or (user.artisan and user.artisan.id == record.artisan_id):
        return record
    raise NotFound(request_id)
