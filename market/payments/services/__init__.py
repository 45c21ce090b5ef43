"""Payments for orders: the order's one PaymentIntent and its record, paying it, turning
what the payments API says into calls of market.orders.operations, refunds, and the
reconcile job. This package writes payment records; it never assigns an order column.

Rules that keep money and stock safe:
- The PaymentIntent is created when the buyer chooses to pay (the pay page's POST), never
  while checking out and never on a GET; one per order (payments.order_id is unique, and the
  create call is claimed in the database first).
- Nothing is applied because a webhook or a browser says so: the PaymentIntent or refund is
  retrieved from the API first.
- A refund is reserved in the database before the API is called; the API call is keyed by
  the reservation; a refusal releases it; an answer that never came leaves it reserved until
  the reconcile job has asked the API what happened.
- Stock of an order with a PaymentIntent is released only after that PaymentIntent has been
  cancelled (so it can no longer succeed) or has failed. If the API cannot be reached, the
  reservation is kept and the reconcile job tries again: a payment is never lost.

One module per concern; callers import this package (`from market.payments import services`):
- `common`: errors, the API client, the call budget, PayOutcome, the payment record
- `intents`: the order's PaymentIntent: create, pay, apply what the API says, cancel, expire
- `refunds`: ask the API for reserved refunds, resolve unanswered ones, apply reported ones
- `reconcile`: the reconcile job
"""
from market.payments.services.common import (
    FINAL_PI_STATES,
    PaymentBusy,
    PaymentError,
    PayOutcome,
    client,
    payment_of,
)
from market.payments.services.intents import (
    apply_payment_intent,
    cancel_order,
    ensure_payment_intent,
    expire_order,
    pay,
    pay_with_card,
    pay_with_token,
    payment_error_message,
    payment_method_for_token,
    refresh,
)
from market.payments.services.reconcile import expire_reservations, reconcile
from market.payments.services.refunds import (
    apply_refund_from_api,
    refund,
    resolve_pending_refund,
    send_pending_refunds,
)
from market.payments.stripe_client import PaymentsUnavailable, StripeClient, StripeError

__all__ = [
    "FINAL_PI_STATES", "PayOutcome", "PaymentBusy", "PaymentError", "PaymentsUnavailable", "StripeClient",
    "StripeError", "apply_payment_intent", "apply_refund_from_api", "cancel_order", "client", "ensure_payment_intent",
    "expire_order", "expire_reservations", "pay", "pay_with_card", "pay_with_token", "payment_error_message",
    "payment_method_for_token", "payment_of", "reconcile", "refresh", "refund", "resolve_pending_refund",
    "send_pending_refunds",
]
