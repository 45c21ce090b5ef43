"""Refunds at the payments API: reserved first (market.orders.operations.reserve_refund), asked
for keyed by the reservation, settled or released by what the API answers; refunds left
reserved are resolved by asking the API; refunds the API reports are applied once."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db
from market.models import Payment, Refund, User
from market.orders import operations
from market.payments.services.common import PaymentError, client, log, payment_of
from market.payments.stripe_client import PaymentsUnavailable, StripeError


def refund(staff: User | None, order_id: int, *, amount: int | None = None, sub_order_id: int | None = None,
           line_id: int | None = None, reason: str = "", request_token: str | None = None,
           origin: str = "staff") -> Refund:
    """Refund a line, a sub-order, or (neither given) the rest of the order: reserve the
    amount (market.orders.operations.reserve_refund), then ask the API, keyed by the
    reservation. Raises OrderError (nothing left to refund), PaymentError (the API refused;
    released) or PaymentsUnavailable (released if the API surely never got it, else left
    reserved for the reconcile job)."""
    record, reserved_now = operations.reserve_refund(staff, order_id, amount=amount, sub_order_id=sub_order_id,
                                                     line_id=line_id, reason=reason, request_token=request_token,
                                                     origin=origin)
    if not reserved_now:
        return record  # this form was already submitted: its refund is made (or being made) once
    return _send_refund(record.id)


def _send_refund(refund_id: int) -> Refund:
    record = db.session.get(Refund, refund_id)
    payment = payment_of(record.order_id)
    if payment is None or not payment.stripe_payment_intent_id:
        operations.release_refund(refund_id)
        raise PaymentError(_l("This order has no payment to refund."))
    try:
        result = client().create_refund(payment_intent=payment.stripe_payment_intent_id, amount=record.amount_fen,
                                        metadata={"order_id": record.order_id, "refund_id": record.id},
                                        idempotency_key=record.idempotency_key)
    except StripeError as exc:
        operations.release_refund(refund_id)
        raise PaymentError(_l("The payments service refused the refund: %(reason)s", reason=exc.message)) from exc
    except PaymentsUnavailable as exc:
        if not exc.maybe_applied:
            operations.release_refund(refund_id)
        raise
    _settle_from_api(refund_id, result)
    db.session.expire_all()
    return db.session.get(Refund, refund_id)


def _settle_from_api(refund_id: int, result: dict) -> None:
    if result.get("status") in ("failed", "canceled"):
        operations.release_refund(refund_id)
    else:  # succeeded, or pending at the bank: the API has taken it
        operations.settle_refund(refund_id, str(result["id"]))


def send_pending_refunds(order_id: int) -> int:
    """Ask the API for the order's reserved refunds that were never sent (a late payment's)."""
    sent = 0
    for record in operations.pending_refunds(order_id):
        if record.origin != "late_payment":
            continue
        try:
            _send_refund(record.id)
            sent += 1
        except (PaymentError, PaymentsUnavailable):
            log.exception("automatic refund %s of order %s failed; the reconcile job retries", record.id, order_id)
    return sent


def _ours(api_refunds: list[dict], refund_id: int) -> dict | None:
    for item in api_refunds:
        meta = item.get("metadata") if isinstance(item, dict) else None
        if isinstance(meta, dict) and str(meta.get("refund_id")) == str(refund_id):
            return item
    return None


def resolve_pending_refund(record: Refund) -> str:
    """A refund left reserved (its API call never answered): ask the API whether it exists.
    Found -> settled; not found -> a late payment's is sent again (same key), a staff one is
    released so it can be asked again. Returns what was done."""
    payment = payment_of(record.order_id)
    if payment is None or not payment.stripe_payment_intent_id:
        operations.release_refund(record.id)
        return "released"
    found = _ours(client().list_refunds(payment.stripe_payment_intent_id), record.id)
    if found is not None:
        _settle_from_api(record.id, found)
        return "settled"
    if record.origin == "late_payment":
        try:
            _send_refund(record.id)
        except PaymentError:
            return "failed"
        return "sent"
    operations.release_refund(record.id)
    return "released"


def apply_refund_from_api(refund: dict) -> bool:
    """A refund as the API reports it (retrieved after a webhook): ours -> settled if it was
    left reserved, or released if the bank failed it after all; not ours (e.g. made in
    Stripe's dashboard) -> recorded once."""
    if not isinstance(refund.get("payment_intent"), str):
        return False
    if refund.get("status") in ("failed", "canceled"):
        failed = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == str(refund.get("id"))))
        if failed is None or failed.status == "failed":
            return False
        log.error("refund %s of order %s failed at the bank: %s fen refundable again", failed.stripe_refund_id,
                  failed.order_id, failed.amount_fen)
        return operations.release_refund(failed.id, was=failed.status)
    if refund.get("status") not in ("succeeded", "pending"):
        return False
    meta = refund.get("metadata") if isinstance(refund.get("metadata"), dict) else {}
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == refund["payment_intent"]))
    if payment is None:
        return False
    ours = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == str(refund["id"])))
    if ours is None and str(meta.get("refund_id", "")).isdigit():
        ours = db.session.get(Refund, int(meta["refund_id"]))
        if ours is not None and ours.order_id != payment.order_id:
            ours = None
    if ours is not None:
        return ours.status == "pending" and operations.settle_refund(ours.id, str(refund["id"]))
    try:
        amount = int(refund.get("amount") or 0)
    except (TypeError, ValueError):
        return False
    return operations.record_external_refund(payment.order_id, str(refund["id"]), amount)
