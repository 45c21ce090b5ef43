"""Webhook events from the payments API: signature check and once-only processing.

Stripe signs `"{timestamp}.{raw body}"` with HMAC-SHA256 under the endpoint's secret and
sends `Stripe-Signature: t=<timestamp>,v1=<hex>[,v1=<hex>...]`. An event is accepted only
with a matching v1 signature and a timestamp within the tolerance window (replays of old
deliveries are refused); each event id is applied at most once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from market.extensions import db
from market.models import Order, WebhookEvent

log = logging.getLogger(__name__)


class SignatureError(ValueError):
    pass


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header value for `payload` (used by tests and tools)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(payload: bytes, header: str | None, secret: str, *, tolerance: int = 300, now: float | None = None) -> dict:
    """The event (parsed JSON) if the signature is valid and fresh; SignatureError otherwise."""
    if not header or not secret:
        raise SignatureError("missing signature")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("bad timestamp") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("signature mismatch")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    try:
        event = json.loads(payload)
    except ValueError:
        raise SignatureError("body is not JSON") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise SignatureError("not an event")
    return event


def handle_event(event: dict) -> str:
    """Apply a verified event once. Returns "processed", "duplicate" or "ignored"."""
    event_id, event_type = str(event["id"]), str(event["type"])
    handler = HANDLERS.get(event_type)
    # Recording the id is the first write: a concurrent delivery of the same event waits on
    # the key, then finds it taken.
    db.session.add(WebhookEvent(id=event_id[:255], type=event_type[:80]))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        log.info("webhook %s (%s) already processed", event_id, event_type)
        return "duplicate"
    try:
        if handler is not None:
            handler((event.get("data") or {}).get("object") or {})
        db.session.commit()
    except Exception:
        # Not applied: forget the id so the sender's retry is processed.
        db.session.rollback()
        db.session.execute(delete(WebhookEvent).where(WebhookEvent.id == event_id[:255]))
        db.session.commit()
        raise
    log.info("webhook %s (%s) %s", event_id, event_type, "processed" if handler else "ignored")
    return "processed" if handler else "ignored"


def _order_for_pi(pi: dict) -> Order | None:
    pi_id = pi.get("id")
    order = db.session.scalar(select(Order).where(Order.payment_intent_id == pi_id)) if pi_id else None
    if order is None:
        log.warning("webhook for unknown PaymentIntent %s", pi_id)
    return order


def _payment_intent_event(pi: dict) -> None:
    from market.payments.services import apply_payment_intent

    order = _order_for_pi(pi)
    if order is not None:
        apply_payment_intent(order, pi)


def _charge_refunded(charge: dict) -> None:
    from market.payments.services import record_external_refund

    pi_id = charge.get("payment_intent")
    for refund in ((charge.get("refunds") or {}).get("data") or []):
        if refund.get("status", "succeeded") == "succeeded":
            record_external_refund(pi_id, refund.get("id"), int(refund.get("amount") or 0))


def _refund_event(refund: dict) -> None:
    from market.payments.services import record_external_refund

    if refund.get("status") == "succeeded" and refund.get("payment_intent"):
        record_external_refund(refund["payment_intent"], refund.get("id"), int(refund.get("amount") or 0))


HANDLERS = {
    "payment_intent.succeeded": _payment_intent_event,
    "payment_intent.payment_failed": _payment_intent_event,
    "payment_intent.canceled": _payment_intent_event,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
}
