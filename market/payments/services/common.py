"""What the payments modules share: their errors, the one API client per app, the call budget,
what paying came to (PayOutcome), and the payment record of an order."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from market.extensions import db
from market.models import Payment
from market.orders import operations
from market.orders.states import cancel_reason_message
from market.payments.stripe_client import PaymentsUnavailable, StripeClient

log = logging.getLogger("market.payments.services")  # one logger for the payments side, as before the split


FINAL_PI_STATES = ("succeeded", "canceled")


class PaymentError(ValueError):
    """The payment could not go ahead; the message is safe to show."""


class PaymentBusy(PaymentsUnavailable):
    """Another request is creating this order's PaymentIntent right now: try again shortly."""


def client() -> StripeClient:
    # One client (one connection pool) per app.
    ext = current_app.extensions
    cfg = current_app.config
    key = (cfg["STRIPE_API_BASE"], cfg["STRIPE_SECRET_KEY"], cfg.get("STRIPE_CALL_BUDGET"), cfg.get("STRIPE_TIMEOUT"),
           cfg.get("STRIPE_CONNECT_TIMEOUT"), cfg.get("STRIPE_MAX_RETRIES"), cfg.get("STRIPE_RETRY_BACKOFF"))
    cached = ext.get("stripe_client")
    if cached is None or cached[0] != key:
        cached = (key, StripeClient.from_config(cfg))
        ext["stripe_client"] = cached
    return cached[1]


def _budget() -> float:
    return float(current_app.config.get("STRIPE_CALL_BUDGET", 8.0))


@dataclass
class PayOutcome:
    status: str  # paid | requires_action | declined | processing | pending | cancelled
    code: str = ""  # why it was declined or cancelled (market.orders.states.CANCEL_REASONS)
    client_secret: str | None = None

    @property
    def message(self):
        return cancel_reason_message(self.code)


def payment_of(order_id: int) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.order_id == order_id))


def _record(payment_id: int, pi: dict) -> None:
    """Store what the API said about a PaymentIntent on its record."""
    values = {"checked_at": operations.utcnow()}
    if isinstance(pi.get("status"), str):
        values["status"] = pi["status"][:30]
    error = pi.get("last_payment_error")
    if isinstance(error, dict):
        values["last_error_code"] = _decline_code(pi)
    db.session.execute(update(Payment).where(Payment.id == payment_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _decline_code(pi: dict) -> str:
    error = pi.get("last_payment_error")
    code = (error.get("code") if isinstance(error, dict) else "") or ""
    if code == "payment_intent_authentication_failure":
        return "authentication_failed"
    if code in ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc", "incorrect_number"):
        return "card_declined"
    return "payment_failed"
