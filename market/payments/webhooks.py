"""Webhook events from the payments API: signature check and once-only processing.

Stripe signs `"{timestamp}.{raw body}"` with HMAC-SHA256 under the endpoint's secret and
sends `Stripe-Signature: t=<timestamp>,v1=<hex>[,v1=<hex>...]`. An event is accepted only
with a matching v1 signature and a timestamp within the tolerance window (replays of old
deliveries are refused); each event id is applied at most once.

The body of an event is never trusted beyond "what to look at": for every PaymentIntent and
refund event the object is retrieved from the API, and only the API's answer is applied (a
forged event signed with a leaked secret changes nothing the API does not confirm).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.extensions import db
from market.models import Payment, WebhookEvent
from market.payments.stripe_client import PaymentsUnavailable, StripeError

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


class MalformedEvent(ValueError):
    """A correctly signed event whose fields are not what its type needs: answered 400."""


def _check_str(value, prefix: str = "") -> str:
    if not isinstance(value, str) or not value or len(value) > 255 or not value.startswith(prefix):
        raise MalformedEvent(f"expected an id starting with {prefix!r}")
    return value


def _check_object(event: dict) -> dict:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object is not an object")
    for key in ("amount", "amount_refunded", "created"):
        if key in obj and obj[key] is not None and (not isinstance(obj[key], int) or isinstance(obj[key], bool)):
            raise MalformedEvent(f"{key} is not an integer")
    for key in ("status", "currency"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            raise MalformedEvent(f"{key} is not a string")
    if "metadata" in obj and obj["metadata"] is not None and not isinstance(obj["metadata"], dict):
        raise MalformedEvent("metadata is not an object")
    return obj


def what_to_look_at(event: dict) -> tuple[str, str] | None:
    """("payment_intent" | "refund" | "charge_refunds", id) for the events we handle, None for
    the others; MalformedEvent when the fields are not what the type needs. Only ids are taken
    from the body: everything else is retrieved from the API."""
    event_type = event["type"]
    if not isinstance(event.get("id"), str) or not isinstance(event_type, str) or len(event["id"]) > 255:
        raise MalformedEvent("id and type must be strings")
    if event_type not in HANDLERS:
        return None
    obj = _check_object(event)
    if event_type.startswith("payment_intent."):
        return "payment_intent", _check_str(obj.get("id"), "pi_")
    if event_type.startswith("refund."):
        return "refund", _check_str(obj.get("id"), "re_")
    # charge.refunded: the refunds of the charge's PaymentIntent.
    return "charge_refunds", _check_str(obj.get("payment_intent"), "pi_")


def handle_event(event: dict) -> str:
    """Apply a verified event once. Returns "processed", "duplicate" or "ignored"; raises
    MalformedEvent (nothing recorded) or PaymentsUnavailable (not applied, id forgotten so
    that the sender's retry is)."""
    event_id, event_type = str(event["id"]), str(event["type"])
    target = what_to_look_at(event)
    db.session.rollback()
    if db.session.get(WebhookEvent, event_id[:255]) is not None:
        log.info("webhook %s (%s) already processed", event_id, event_type)
        return "duplicate"
    # Applied first, recorded after: every operation it leads to is idempotent (conditional
    # updates, unique refund ids), so a concurrent second delivery changes nothing twice, and
    # an event whose application failed half-way is not marked done (the sender retries).
    result = "processed" if target else "ignored"
    try:
        if target is not None:
            HANDLERS[event_type](target[1])
    except StripeError as exc:
        db.session.rollback()
        if exc.status != 404:
            raise PaymentsUnavailable(f"payments API answered {exc.status}") from exc
        # The API does not know the object (a forged or foreign event): nothing to apply.
        log.warning("webhook %s (%s): %s unknown to the payments API; ignored", event_id, event_type, target[1])
        result = "ignored"
    db.session.rollback()
    db.session.add(WebhookEvent(id=event_id[:255], type=event_type[:80]))
    try:
        db.session.commit()
    except IntegrityError:  # delivered twice at once: both applied the same, idempotently
        db.session.rollback()
        return "duplicate"
    log.info("webhook %s (%s) %s", event_id, event_type, result)
    return result


def _payment_intent_event(pi_id: str) -> None:
    from market.payments.services import apply_payment_intent, client

    if db.session.scalar(select(Payment.id).where(Payment.stripe_payment_intent_id == pi_id)) is None:
        log.warning("webhook for unknown PaymentIntent %s", pi_id)
        return
    apply_payment_intent(client().retrieve_payment_intent(pi_id))


def _refund_event(refund_id: str) -> None:
    from market.payments.services import apply_refund_from_api, client

    apply_refund_from_api(client().retrieve_refund(refund_id))


def _charge_refunded(pi_id: str) -> None:
    from market.payments.services import apply_refund_from_api, client

    if db.session.scalar(select(Payment.id).where(Payment.stripe_payment_intent_id == pi_id)) is None:
        return
    for refund in client().list_refunds(pi_id):
        if isinstance(refund, dict):
            apply_refund_from_api(refund)


HANDLERS = {
    "payment_intent.succeeded": _payment_intent_event,
    "payment_intent.payment_failed": _payment_intent_event,
    "payment_intent.canceled": _payment_intent_event,
    "payment_intent.requires_action": _payment_intent_event,
    "payment_intent.processing": _payment_intent_event,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
}
