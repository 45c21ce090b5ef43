"""Every change of a refund request: open, withdraw, accept, offer, decline, take or refuse an
offer, mark a returned parcel received, decide as staff, escalate when overdue.

A decision moves the request with a conditional UPDATE whose WHERE names the states it may
move from (market.returns.states), so of an artisan accepting and staff deciding at the same
moment exactly one wins. The winner alone calls the order's refund path
(market.payments.services.refund), with the request's own form token: even if it were asked
twice, the refund is reserved once (market.orders.operations.reserve_refund).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from market import jobs
from market.extensions import db
from market.models import Order, RefundRequest, User
from market.models.orders import PAID_STATES
from market.models.returns import REQUEST_KINDS, REQUEST_REASONS
from market.orders.errors import NotFound
from market.returns import notifications, states
from market.returns.eligibility import (  # noqa: F401  re-exported: callers use operations.<name>
    RequestError,
    Target,
    _categories,
    _cfg,
    check_window,
    excluded_categories,
    may_request,
    open_targets,
    parse_target,
    targets,
    utcnow,
)
from market.returns.photos import _delete_photos, _store_photos

log = logging.getLogger(__name__)


# ---- opening ----------------------------------------------------------------------------

def open_request(buyer: User, order_id: int, *, target: str, kind: str, reason: str, note: str = "",
                 amount: int | None = None, photos: list | None = None) -> RefundRequest:
    """The buyer asks for a refund or a return of a line or a parcel. Validated in full before
    anything is written; one active request per parcel (a unique key, so two tabs open one)."""
    db.session.rollback()
    order = db.session.get(Order, order_id)
    if order is None or order.buyer_id != buyer.id:
        raise NotFound(order_id)
    if order.status not in PAID_STATES or order.paid_fen <= 0:
        raise RequestError(_l("Only paid orders can be refunded."))
    chosen = parse_target(order, target)
    if chosen.sub.status == "cancelled":
        raise RequestError(_l("This parcel was cancelled and refunded already."), field="target")
    if kind not in REQUEST_KINDS:
        raise RequestError(_l("Choose a refund or a return."), field="kind")
    if reason not in REQUEST_REASONS:
        raise RequestError(_l("Choose a reason."), field="reason")
    note = (note or "").strip()
    if len(note) > 1000:
        raise RequestError(_l("The note is too long (at most 1000 characters)."), field="note")
    limit = chosen.limit_fen
    if limit <= 0:
        raise RequestError(_l("Nothing is left to refund on this item."), field="target")
    amount = limit if amount is None else int(amount)
    if amount <= 0 or amount > limit:
        raise RequestError(_l("The refund must be more than zero and at most %(max)s.", max=f"¥{limit / 100:.2f}"),
                           field="amount")
    check_window(chosen, kind, reason)
    active = db.session.scalar(select(RefundRequest.id).where(RefundRequest.active_key == chosen.sub.id))
    if active is not None:
        raise RequestError(_l("There is already an open request for this parcel."), field="target")
    stored = _store_photos(buyer, photos or [])
    now = utcnow()
    record = RefundRequest(
        order_id=order.id, sub_order_id=chosen.sub.id, line_id=chosen.line.id if chosen.line else None,
        artisan_id=chosen.sub.artisan_id, buyer_id=buyer.id, kind=kind, reason=reason, note=note,
        photos=" ".join(stored), amount_fen=amount, status="open", active_key=chosen.sub.id,
        respond_by=now + timedelta(days=int(_cfg("RETURN_RESPONSE_DAYS", 3))),
    )
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:  # another tab opened one for this parcel at the same moment
        db.session.rollback()
        _delete_photos(stored)
        raise RequestError(_l("There is already an open request for this parcel."), field="target") from None
    log.info("refund request %s opened order=%s sub=%s line=%s kind=%s reason=%s amount_fen=%s by user=%s",
             record.id, order.id, record.sub_order_id, record.line_id, kind, reason, amount, buyer.id)
    notifications.opened(record)
    return record


# ---- moving -----------------------------------------------------------------------------

def _move(request_id: int, new_state: str, *, where=(), **values) -> bool:
    """Compare-and-set: the request moves to `new_state` only from a state the table allows."""
    values.setdefault("updated_at", utcnow())
    if new_state not in states.TRANSITIONS or new_state in ("declined", "withdrawn"):
        values.setdefault("active_key", None)  # final: the parcel is free for a new request
    result = db.session.execute(
        update(RefundRequest)
        .where(RefundRequest.id == request_id, RefundRequest.status.in_(states.sources(new_state)), *where)
        .values(status=new_state, **values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _get(request_id: int) -> RefundRequest:
    db.session.rollback()
    record = db.session.get(RefundRequest, request_id)
    if record is None:
        raise NotFound(request_id)
    return record


def _changed() -> RequestError:
    return RequestError(_l("This request was answered meanwhile. Please reload the page."))


def _as_artisan(user: User, record: RefundRequest) -> None:
    if user.artisan is None or user.artisan.id != record.artisan_id:
        raise NotFound(record.id)


def _as_buyer(user: User, record: RefundRequest) -> None:
    if record.buyer_id != user.id:
        raise NotFound(record.id)


def _as_staff(user: User, record: RefundRequest) -> None:
    if not user.is_staff:
        raise NotFound(record.id)


def _check_amount(record: RefundRequest, amount: int | None, *, field: str = "amount") -> int:
    amount = record.amount_fen if amount is None else int(amount)
    if amount <= 0 or amount > record.amount_fen:
        raise RequestError(_l("The refund must be more than zero and at most %(max)s.",
                              max=f"¥{record.amount_fen / 100:.2f}"), field=field)
    return amount


def _refund(actor: User, record_id: int, amount: int, back_to: str, note: str):
    """The request was moved to `refunded` (this caller won): send the refund through the
    order's refund path, keyed by the request. If it was refused, the request goes back to
    `back_to` (the parcel stays taken by it) and the error is raised for the caller."""
    from market.payments import services as payments
    from market.payments.stripe_client import PaymentsUnavailable

    record = db.session.get(RefundRequest, record_id)
    try:
        refund = payments.refund(actor, record.order_id, amount=amount,
                                 sub_order_id=None if record.line_id else record.sub_order_id,
                                 line_id=record.line_id, reason=f"{record.number}: {note}"[:500],
                                 request_token=record.refund_token, origin="request")
    except PaymentsUnavailable:
        from market.models import Refund

        db.session.rollback()
        reserved = db.session.scalar(select(Refund.id).where(Refund.request_token == record.refund_token,
                                                             Refund.status == "pending"))
        if reserved is None:
            _undo(record_id, back_to)
        else:
            _release_parcel(record_id)
        raise
    except Exception:
        db.session.rollback()
        _undo(record_id, back_to)
        raise
    _release_parcel(record_id)
    log.info("refund request %s refunded %s fen (refund %s %s) by user=%s", record_id, amount, refund.id,
             refund.status, actor.id)
    db.session.expire_all()
    record = db.session.get(RefundRequest, record_id)
    notifications.decided(record)
    return record


def _undo(record_id: int, back_to: str) -> None:
    db.session.execute(
        update(RefundRequest).where(RefundRequest.id == record_id, RefundRequest.status == "refunded")
        .values(status=back_to, refund_fen=None, decided_by_id=None, decided_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.warning("refund request %s: the refund was refused, back to %s", record_id, back_to)


def _release_parcel(record_id: int) -> None:
    db.session.execute(update(RefundRequest).where(RefundRequest.id == record_id)
                       .values(active_key=None).execution_options(synchronize_session=False))
    db.session.commit()


def _decide_refund(actor: User, record: RefundRequest, amount: int, note: str):
    back_to = record.status
    db.session.rollback()
    if not _move(record.id, "refunded", refund_fen=amount, decided_by_id=actor.id, decided_at=utcnow(),
                 decision_note=note[:1000], active_key=record.sub_order_id):
        db.session.rollback()
        raise _changed()
    db.session.commit()
    return _refund(actor, record.id, amount, back_to, note)


def accept(user: User, request_id: int, note: str = "") -> RefundRequest:
    """The artisan accepts: a refund is made at once; a return waits for the parcel."""
    record = _get(request_id)
    _as_artisan(user, record)
    if record.status != "open":
        raise _changed()
    if record.kind == "return":
        return _await_return(user, record, note)
    return _decide_refund(user, record, record.amount_fen, note)


def _await_return(user: User, record: RefundRequest, note: str) -> RefundRequest:
    db.session.rollback()
    if not _move(record.id, "awaiting_return", decided_by_id=user.id, decided_at=utcnow(), decision_note=note[:1000],
                 refund_fen=record.amount_fen):
        db.session.rollback()
        raise _changed()
    db.session.commit()
    log.info("refund request %s: return accepted by user=%s", record.id, user.id)
    record = _get(record.id)
    notifications.decided(record)
    return record


def return_received(user: User, request_id: int) -> RefundRequest:
    """The returned parcel arrived (the artisan or staff say so): the accepted amount is refunded."""
    record = _get(request_id)
    if not user.is_staff:
        _as_artisan(user, record)
    if record.status != "awaiting_return":
        raise _changed()
    return _decide_refund(user, record, record.refund_fen or record.amount_fen, record.decision_note)


def offer(user: User, request_id: int, amount: int | None, note: str = "") -> RefundRequest:
    record = _get(request_id)
    _as_artisan(user, record)
    if record.status != "open":
        raise _changed()
    if amount is None:
        raise RequestError(_l("Enter the amount you offer."), field="amount")
    amount = _check_amount(record, amount)
    db.session.rollback()
    if not _move(record.id, "offered", offered_fen=amount, decision_note=(note or "")[:1000],
                 respond_by=utcnow() + timedelta(days=int(_cfg("RETURN_RESPONSE_DAYS", 3)))):
        db.session.rollback()
        raise _changed()
    db.session.commit()
    log.info("refund request %s: %s fen offered by user=%s", record.id, amount, user.id)
    record = _get(record.id)
    notifications.offered(record)
    return record


def decline(user: User, request_id: int, note: str) -> RefundRequest:
    record = _get(request_id)
    if user.is_staff and not (user.artisan and user.artisan.id == record.artisan_id):
        _as_staff(user, record)
    else:
        _as_artisan(user, record)
        if record.status != "open":
            raise _changed()
    note = (note or "").strip()
    if not note:
        raise RequestError(_l("Say why the request is declined."), field="note")
    db.session.rollback()
    if not _move(record.id, "declined", decided_by_id=user.id, decided_at=utcnow(), decision_note=note[:1000]):
        db.session.rollback()
        raise _changed()
    db.session.commit()
    log.info("refund request %s declined by user=%s", record.id, user.id)
    record = _get(record.id)
    notifications.decided(record)
    return record


def take_offer(buyer: User, request_id: int) -> RefundRequest:
    record = _get(request_id)
    _as_buyer(buyer, record)
    if record.status != "offered" or not record.offered_fen:
        raise _changed()
    return _decide_refund(buyer, record, record.offered_fen, record.decision_note)


def refuse_offer(buyer: User, request_id: int) -> RefundRequest:
    """The buyer refuses the partial offer: federation staff decide."""
    record = _get(request_id)
    _as_buyer(buyer, record)
    db.session.rollback()
    if not _move(record.id, "escalated", where=(RefundRequest.status == "offered",)):
        db.session.rollback()
        raise _changed()
    db.session.commit()
    log.info("refund request %s: offer refused by the buyer, escalated", record.id)
    record = _get(record.id)
    notifications.escalated(record)
    return record


def withdraw(buyer: User, request_id: int) -> RefundRequest:
    record = _get(request_id)
    _as_buyer(buyer, record)
    db.session.rollback()
    if not _move(record.id, "withdrawn"):
        db.session.rollback()
        raise _changed()
    db.session.commit()
    log.info("refund request %s withdrawn by the buyer", record.id)
    record = _get(record.id)
    notifications.withdrawn(record)
    return record


STAFF_DECISIONS = ("refund", "return", "decline")


def staff_decide(staff: User, request_id: int, decision: str, *, amount: int | None = None,
                 note: str = "") -> RefundRequest:
    """Staff decide for either side: refund (all asked for, or `amount`), accept the return,
    or decline with a reason."""
    record = _get(request_id)
    _as_staff(staff, record)
    if decision not in STAFF_DECISIONS:
        raise RequestError(_l("Choose a decision."), field="decision")
    if record.status not in ("open", "offered", "escalated"):
        raise _changed()
    if decision == "decline":
        return decline(staff, request_id, note)
    if decision == "return":
        if record.status == "offered":
            raise _changed()
        return _await_return(staff, record, note)
    return _decide_refund(staff, record, _check_amount(record, amount), note)


def escalate_overdue(now: datetime | None = None) -> int:
    """Requests the artisan did not answer by `respond_by` go to staff (each once)."""
    now = now or utcnow()
    ids = list(db.session.scalars(select(RefundRequest.id).where(RefundRequest.status == "open",
                                                                 RefundRequest.respond_by < now)))
    moved = 0
    for request_id in ids:
        db.session.rollback()
        if _move(request_id, "escalated", where=(RefundRequest.respond_by < now,)):
            db.session.commit()
            moved += 1
            log.info("refund request %s not answered in time: escalated to staff", request_id)
            notifications.escalated(db.session.get(RefundRequest, request_id))
        else:
            db.session.rollback()
    return moved


@jobs.task("escalate_refund_requests", every=600)
def _escalate_job() -> int:
    return escalate_overdue()
