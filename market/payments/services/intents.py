"""The order's one PaymentIntent: created when the buyer pays, confirmed once, what the API
reports applied to the order (paid, waiting for 3-D Secure, declined, cancelled), and cancelled
at the API before an unpaid order's stock is released."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from market import signals
from market.extensions import db
from market.models import Order, Payment
from market.models.orders import PAID_STATES
from market.orders import operations
from market.orders.services import get_order
from market.orders.states import cancel_reason_message
from market.payments import gateway_errors
from market.payments.services.common import (
    PaymentBusy,
    PaymentError,
    PayOutcome,
    _budget,
    _decline_code,
    _record,
    client,
    log,
    payment_of,
)
from market.payments.services.refunds import send_pending_refunds
from market.payments.stripe_client import PaymentsUnavailable, StripeError


def ensure_payment_intent(order: Order) -> Payment:
    """The order's PaymentIntent record, creating the PaymentIntent unless it has one.
    Raises PaymentError (order not payable), PaymentBusy or PaymentsUnavailable."""
    db.session.rollback()
    order = get_order(order.id)
    payment = payment_of(order.id)
    if payment is not None and payment.stripe_payment_intent_id:
        return payment
    if order.status != "pending_payment" or order.expires_at < operations.utcnow():
        raise PaymentError(_l("This order can no longer be paid."))
    now = operations.utcnow()
    if payment is None:
        db.session.add(Payment(order_id=order.id, amount_fen=order.total_fen, currency=order.currency,
                               status="creating", creating_since=now))
        try:
            db.session.commit()
        except IntegrityError:  # another request claimed it first
            db.session.rollback()
            payment = payment_of(order.id)
            if payment is not None and payment.stripe_payment_intent_id:
                return payment
            raise PaymentBusy("PaymentIntent being created") from None
        payment = payment_of(order.id)
    else:
        # A record without a PaymentIntent: its creator gave up (API down) or is still at it.
        stale = now - timedelta(seconds=2 * _budget())
        claimed = db.session.execute(
            update(Payment).where(Payment.id == payment.id, Payment.stripe_payment_intent_id.is_(None),
                                  or_(Payment.creating_since.is_(None), Payment.creating_since < stale))
            .values(creating_since=now).execution_options(synchronize_session=False)
        ).rowcount == 1
        db.session.commit()
        if not claimed:
            raise PaymentBusy("PaymentIntent being created")
    try:
        pi = client().create_payment_intent(
            amount=order.total_fen, currency=order.currency,
            metadata={"order_id": order.id, "order_number": order.number, "payment_id": payment.id},
            idempotency_key=f"order-{order.id}-pi",
        )
    except (PaymentsUnavailable, StripeError):
        db.session.execute(update(Payment).where(Payment.id == payment.id, Payment.stripe_payment_intent_id.is_(None))
                           .values(creating_since=None).execution_options(synchronize_session=False))
        db.session.commit()
        raise
    db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.stripe_payment_intent_id.is_(None))
        .values(stripe_payment_intent_id=pi["id"], client_secret=pi.get("client_secret"),
                status=str(pi.get("status") or "requires_payment_method")[:30], creating_since=None, checked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.info("order %s: PaymentIntent %s created", order.id, pi["id"])
    db.session.expire_all()
    return payment_of(order.id)


def _try_cancel(pi_id: str, key: str) -> dict | None:
    try:
        return client().cancel_payment_intent(pi_id, idempotency_key=key)
    except (StripeError, PaymentsUnavailable) as exc:
        log.warning("cancel of PaymentIntent %s failed: %s", pi_id, exc)
        return None


def _retrieve_or_none(pi_id: str) -> dict | None:
    try:
        return client().retrieve_payment_intent(pi_id)
    except (StripeError, PaymentsUnavailable) as exc:
        log.warning("retrieve of PaymentIntent %s failed: %s", pi_id, exc)
        return None


def payment_method_for_token(token_id: str, card_id: str | None) -> str:
    """A PaymentMethod id for a card token made by Stripe.js in the browser (card data never
    reaches this server). localstripe cannot make PaymentMethods from tokens; it accepts
    the token's card id as the payment method, as Stripe does for legacy cards."""
    try:
        return client().create_payment_method_from_token(token_id)["id"]
    except StripeError as exc:
        if card_id and card_id.startswith("card_") and exc.status == 400:
            return card_id
        log.info("card token %s refused by the payments API: %s %s", token_id[:12], exc.status, exc.message)
        raise PaymentError(gateway_errors.message_of(exc)) from exc


def pay(order: Order, payment_method_id: str) -> PayOutcome:
    """Set the payment method on the order's PaymentIntent (created now if it has none) and
    confirm it, once. A repeated call (double click, retry) finds the PaymentIntent already
    succeeded or waiting for 3-D Secure and does not charge again. All the API calls of one
    payment share one budget (STRIPE_CALL_BUDGET)."""
    api = client()
    with api.deadline(_budget()):
        db.session.rollback()
        order = get_order(order.id)
        if order.status in PAID_STATES:
            return PayOutcome("paid")
        if order.status != "pending_payment":
            raise PaymentError(_l("This order can no longer be paid."))
        payment = ensure_payment_intent(order)
        pi_id = payment.stripe_payment_intent_id
        pi = api.retrieve_payment_intent(pi_id)
        if pi.get("status") in ("requires_payment_method", "requires_confirmation"):
            try:
                api.attach_payment_method(pi_id, payment_method_id,
                                          idempotency_key=f"order-{order.id}-pm-{payment_method_id}")
                pi = api.confirm_payment_intent(pi_id, idempotency_key=f"order-{order.id}-confirm-{payment_method_id}")
            except StripeError as exc:
                # Declined, or the state moved under us (a parallel confirm): ask what happened.
                log.info("order %s: confirm answered %s %s", order.id, exc.status, exc.code)
                pi = api.retrieve_payment_intent(pi_id)
        return apply_payment_intent(pi)


def pay_with_token(order: Order, token_id: str, card_id: str | None) -> PayOutcome:
    """What the pay page's POST does: the card token from Stripe.js to a PaymentMethod, then
    `pay`, every API call of it within one budget."""
    api = client()
    with api.deadline(_budget()):
        return pay(order, payment_method_for_token(token_id, card_id))


def pay_with_card(order: Order, *, number: str, exp_month: int, exp_year: int, cvc: str) -> PayOutcome:
    """Server-side card entry for tests and tools against test servers (localstripe,
    stripe-mock). The browser path never sends card data here."""
    pm = client().create_card_payment_method(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
    return pay(order, pm["id"])


def payment_error_message(code: str | None):
    return cancel_reason_message(code)


def _pi_matches(payment: Payment, pi: dict) -> bool:
    meta = pi.get("metadata") if isinstance(pi.get("metadata"), dict) else {}
    try:
        amount = int(pi.get("amount", -1))
    except (TypeError, ValueError):
        amount = -1
    ok = (pi.get("id") == payment.stripe_payment_intent_id
          and str(meta.get("order_id", payment.order_id)) == str(payment.order_id)
          and amount == payment.amount_fen and str(pi.get("currency") or "").lower() == payment.currency)
    if not ok:
        log.error("PaymentIntent %s does not match its record for order %s; ignored", pi.get("id"), payment.order_id)
    return ok


def apply_payment_intent(pi: dict) -> PayOutcome:
    """Bring the order in line with its PaymentIntent as the API just reported it (an API
    answer, never an event body)."""
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == str(pi.get("id"))))
    if payment is None:
        log.warning("PaymentIntent %s belongs to no order here", pi.get("id"))
        return PayOutcome("pending")
    if not _pi_matches(payment, pi):
        return PayOutcome("pending")
    order_id = payment.order_id
    _record(payment.id, pi)
    status = pi.get("status")
    if status == "succeeded":
        if operations.mark_paid(order_id, int(pi["amount"])) == "late":
            send_pending_refunds(order_id)
        order = get_order(order_id)
        if order.status in PAID_STATES:
            return PayOutcome("paid")
        return PayOutcome("cancelled", order.cancel_reason or "")
    if status == "requires_action":
        return PayOutcome("requires_action", client_secret=payment.client_secret or pi.get("client_secret"))
    if status in ("processing", "requires_capture"):
        return PayOutcome("processing")
    if status == "canceled":
        # Cancelled at the API: by our own expiry (whose answer may have been lost), or otherwise.
        overdue = get_order(order_id).expires_at < operations.utcnow()
        reason = "expired" if overdue else "payment_cancelled"
        operations.cancel_unpaid(order_id, reason)
        return PayOutcome("cancelled", reason)
    if status == "requires_payment_method" and pi.get("last_payment_error"):
        code = _decline_code(pi)
        if cancel_order(get_order(order_id), code, restore_cart=True):
            signals.payment_declined.send(get_order(order_id), reason=code)
        return PayOutcome("declined", code)
    return PayOutcome("pending")


def refresh(order: Order) -> Order:
    """Ask the API about the order's PaymentIntent and apply what it says (after 3-D Secure,
    from the reconcile job). Raises PaymentsUnavailable."""
    payment = payment_of(order.id)
    if payment is not None and payment.stripe_payment_intent_id:
        apply_payment_intent(client().retrieve_payment_intent(payment.stripe_payment_intent_id))
    db.session.expire_all()
    return get_order(order.id)


def cancel_order(order: Order, reason: str, *, restore_cart: bool = False) -> bool:
    """Cancel an unpaid order: first make sure its PaymentIntent can no longer succeed (cancel
    it at the API), then release the stock. False if it cannot be cancelled (paid, already
    cancelled, or the API cannot tell us that the payment has not succeeded)."""
    db.session.rollback()
    order = get_order(order.id)
    if order.status != "pending_payment":
        return False
    payment = payment_of(order.id)
    if payment is not None and payment.stripe_payment_intent_id:
        pi_id = payment.stripe_payment_intent_id
        pi = _try_cancel(pi_id, f"order-{order.id}-pi-cancel") or _retrieve_or_none(pi_id)
        if pi is None:
            return False  # cannot tell: keep the reservation, the reconcile job retries
        _record(payment.id, pi)
        if pi.get("status") == "succeeded":
            apply_payment_intent(pi)
            return False
        if pi.get("status") not in ("canceled", "requires_payment_method"):
            return False
    return operations.cancel_unpaid(order.id, reason, restore_cart=restore_cart)


def expire_order(order: Order, *, raise_unavailable: bool = False) -> bool:
    """An unpaid order past its reservation: cancel its PaymentIntent at the API (or find it
    paid), then release the stock. False when nothing changed (paid, API unreachable; with
    `raise_unavailable` the latter raises PaymentsUnavailable instead)."""
    if order.status != "pending_payment" or order.expires_at >= operations.utcnow():
        return False
    payment = payment_of(order.id)
    if payment is None:
        return operations.expire(order.id)
    if not payment.stripe_payment_intent_id:
        stale = operations.utcnow() - timedelta(seconds=2 * _budget())
        if payment.creating_since is None or payment.creating_since < stale:
            return operations.expire(order.id)  # no PaymentIntent was ever stored: none can be paid
        return False
    pi_id = payment.stripe_payment_intent_id
    try:
        pi = client().cancel_payment_intent(pi_id, idempotency_key=f"order-{order.id}-pi-cancel")
    except StripeError:
        pi = _retrieve_or_none(pi_id)  # already succeeded or cancelled?
    except PaymentsUnavailable:
        log.warning("order %s overdue but the payments API is unreachable; reservation kept", order.id)
        if raise_unavailable:
            raise
        return False
    if pi is None:
        return False
    _record(payment.id, pi)
    if pi.get("status") == "succeeded":
        apply_payment_intent(pi)
        return False
    if pi.get("status") != "canceled":
        return False
    return operations.expire(order.id)
