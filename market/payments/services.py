"""Payments for orders: one PaymentIntent per order, paying it, reconciling the order with
what the payments API says, expiring unpaid reservations, refunds.

Rules that keep money and stock safe:
- An order stores its PaymentIntent id; a second one is never used (if two requests race to
  create one, the loser's is cancelled unused).
- Stock of an order with a PaymentIntent is released only after that PaymentIntent has been
  cancelled (so it can no longer succeed) or has failed. If the API cannot be reached, the
  reservation is kept and the job tries again later: a payment is never lost.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market import signals
from market.cart import services as cart
from market.extensions import db
from market.models import Order, OrderLine, Refund, SubOrder, User
from market.orders import services as orders
from market.payments.stripe_client import PaymentsUnavailable, StripeClient, StripeError

log = logging.getLogger(__name__)

__all__ = ["PaymentsUnavailable", "PaymentError", "PayOutcome", "client"]


class PaymentError(ValueError):
    """The payment could not go ahead; the message is safe to show."""


def client() -> StripeClient:
    # One client (one connection pool) per app.
    ext = current_app.extensions
    cfg = current_app.config
    key = (cfg["STRIPE_API_BASE"], cfg["STRIPE_SECRET_KEY"])
    cached = ext.get("stripe_client")
    if cached is None or cached[0] != key:
        cached = (key, StripeClient.from_config(cfg))
        ext["stripe_client"] = cached
    return cached[1]


@dataclass
class PayOutcome:
    status: str  # paid | requires_action | declined | processing | pending | cancelled
    code: str = ""  # why it was declined or cancelled (see PAYMENT_ERROR_MESSAGES)
    client_secret: str | None = None

    @property
    def message(self):
        return payment_error_message(self.code)


# ---- the one PaymentIntent of an order -------------------------------------------------

def ensure_payment_intent(order: Order) -> Order:
    """Create the order's PaymentIntent unless it has one. Raises PaymentsUnavailable."""
    if order.payment_intent_id:
        return order
    if order.status != "pending_payment":
        raise PaymentError(_l("This order can no longer be paid."))
    pi = client().create_payment_intent(
        amount=order.total_fen, currency=order.currency,
        metadata={"order_id": order.id, "order_number": order.number},
        idempotency_key=f"order-{order.id}-pi",
    )
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.payment_intent_id.is_(None))
        .values(payment_intent_id=pi["id"], payment_client_secret=pi.get("client_secret"))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(order)
    if result.rowcount != 1 and order.payment_intent_id != pi["id"]:
        # Another request stored its PaymentIntent first; ours was never shown to anyone.
        log.warning("order %s: extra PaymentIntent %s cancelled (kept %s)", order.id, pi["id"], order.payment_intent_id)
        _try_cancel(pi["id"], f"order-{order.id}-pi-extra-cancel")
    else:
        log.info("order %s: PaymentIntent %s created", order.id, pi["id"])
    return order


def _try_cancel(pi_id: str, key: str) -> dict | None:
    try:
        return client().cancel_payment_intent(pi_id, idempotency_key=key)
    except (StripeError, PaymentsUnavailable) as exc:
        log.warning("cancel of PaymentIntent %s failed: %s", pi_id, exc)
        return None


# ---- paying ---------------------------------------------------------------------------

def payment_method_for_token(token_id: str, card_id: str | None) -> str:
    """A PaymentMethod id for a card token made by Stripe.js in the browser (card data never
    reaches this server). localstripe cannot make PaymentMethods from tokens; it accepts
    the token's card id as the payment method, as Stripe does for legacy cards."""
    try:
        return client().create_payment_method_from_token(token_id)["id"]
    except StripeError as exc:
        if card_id and card_id.startswith("card_") and exc.status == 400:
            return card_id
        raise PaymentError(_l("The card could not be used: %(reason)s", reason=exc.message)) from exc


def pay(order: Order, payment_method_id: str) -> PayOutcome:
    """Set the payment method on the order's PaymentIntent and confirm it, once.

    A repeated call (double click, retry) finds the PaymentIntent already succeeded or
    waiting for 3-D Secure and does not charge again."""
    if order.status == "paid":
        return PayOutcome("paid")
    if order.status != "pending_payment":
        raise PaymentError(_l("This order can no longer be paid."))
    ensure_payment_intent(order)
    api = client()
    pi_id = order.payment_intent_id
    pi = api.retrieve_payment_intent(pi_id)
    if pi["status"] in ("requires_payment_method", "requires_confirmation"):
        try:
            api.attach_payment_method(pi_id, payment_method_id, idempotency_key=f"order-{order.id}-pm-{payment_method_id}")
            pi = api.confirm_payment_intent(pi_id, idempotency_key=f"order-{order.id}-confirm-{payment_method_id}")
        except StripeError as exc:
            # Declined, or the state moved under us (a parallel confirm): ask what happened.
            log.info("order %s: confirm answered %s %s", order.id, exc.status, exc.code)
            pi = api.retrieve_payment_intent(pi_id)
    return apply_payment_intent(order, pi)


def pay_with_card(order: Order, *, number: str, exp_month: int, exp_year: int, cvc: str) -> PayOutcome:
    """Server-side card entry for tests and tools against test servers (localstripe,
    stripe-mock). The browser path never sends card data here."""
    pm = client().create_card_payment_method(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
    return pay(order, pm["id"])


# Why an unpaid order ended; stored as a code on the order, shown in the reader's language.
PAYMENT_ERROR_MESSAGES = {
    "card_declined": _l("Your card was declined. Nothing was charged; please try another card."),
    "authentication_failed": _l("The card's security check (3-D Secure) was not completed. Nothing was charged."),
    "payment_failed": _l("The payment did not go through. Nothing was charged; please try again."),
    "payment_cancelled": _l("The payment was cancelled. Nothing was charged."),
    "cancelled_by_buyer": _l("You cancelled this order."),
    "expired": _l("The order was not paid in time, so its items went back on sale."),
}


def payment_error_message(code: str | None):
    return PAYMENT_ERROR_MESSAGES.get(code or "", PAYMENT_ERROR_MESSAGES["payment_failed"]) if code else ""


def _decline_code(pi: dict) -> str:
    code = ((pi.get("last_payment_error") or {}).get("code")) or ""
    if code == "payment_intent_authentication_failure":
        return "authentication_failed"
    if code in ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc", "incorrect_number"):
        return "card_declined"
    return "payment_failed"


def _pi_matches(order: Order, pi: dict) -> bool:
    meta = pi.get("metadata") or {}
    ok = (pi.get("id") == order.payment_intent_id and str(meta.get("order_id", order.id)) == str(order.id)
          and int(pi.get("amount", -1)) == order.total_fen and (pi.get("currency") or "").lower() == order.currency)
    if not ok:
        log.error("PaymentIntent %s does not match order %s; ignored", pi.get("id"), order.id)
    return ok


def apply_payment_intent(order: Order, pi: dict) -> PayOutcome:
    """Bring the order in line with its PaymentIntent (from an API answer or a webhook)."""
    if not _pi_matches(order, pi):
        return PayOutcome("pending")
    status = pi.get("status")
    if status == "succeeded":
        if order.status == "pending_payment":
            orders.mark_paid(order)
        elif order.status == "cancelled":
            _accept_late_payment(order)
        db.session.refresh(order)
        return PayOutcome("paid" if order.status != "refunded" else "cancelled")
    if status == "requires_action":
        return PayOutcome("requires_action", client_secret=order.payment_client_secret or pi.get("client_secret"))
    if status == "processing" or status == "requires_capture":
        return PayOutcome("processing")
    if status == "canceled":
        if order.status == "pending_payment":
            order.payment_error = "payment_cancelled"
            orders.cancel_unpaid(order, "payment_cancelled")
        return PayOutcome("cancelled", "payment_cancelled")
    if status == "requires_payment_method" and pi.get("last_payment_error"):
        code = _decline_code(pi)
        if fail_order(order, reason="payment_failed", code=code):
            signals.payment_declined.send(order, reason=code)
        return PayOutcome("declined", code)
    return PayOutcome("pending")


def fail_order(order: Order, *, reason: str, code: str = "") -> bool:
    """The payment failed: make sure the PaymentIntent cannot succeed later, release the
    stock, and put the items back in the buyer's cart for another try."""
    if order.status != "pending_payment":
        return False
    if order.payment_intent_id:
        pi = _try_cancel(order.payment_intent_id, f"order-{order.id}-pi-cancel")
        if pi is None:
            pi = _retrieve_or_none(order.payment_intent_id)
            if pi is None:
                return False  # cannot tell: keep the reservation, expiry will retry
            if pi.get("status") == "succeeded":
                apply_payment_intent(order, pi)
                return False
            if pi.get("status") != "canceled" and pi.get("status") != "requires_payment_method":
                return False
    lines = {ln.product_id: ln.quantity for ln in order.lines if ln.product_id}
    order.payment_error = code or reason
    if orders.cancel_unpaid(order, reason):
        cart.restore_lines(order.buyer_id, lines)
        return True
    return False


def _retrieve_or_none(pi_id: str) -> dict | None:
    try:
        return client().retrieve_payment_intent(pi_id)
    except (StripeError, PaymentsUnavailable) as exc:
        log.warning("retrieve of PaymentIntent %s failed: %s", pi_id, exc)
        return None


def _accept_late_payment(order: Order) -> None:
    if orders.revive_cancelled(order):
        return
    # The stock went to someone else meanwhile: give the money back at once.
    log.error("late payment for order %s cannot be fulfilled; refunding in full", order.id)
    try:
        refund(None, order.id, amount=None, reason="late payment, stock gone", allow_unpaid=True)
    except (PaymentError, PaymentsUnavailable, StripeError):
        log.exception("automatic refund of order %s failed: staff must refund it", order.id)


def reconcile(order: Order) -> Order:
    """Ask the API about a pending order's PaymentIntent (a lost webhook must not leave a
    paid order unpaid) and expire it if its reservation ran out."""
    if order.status == "pending_payment" and order.payment_intent_id:
        pi = _retrieve_or_none(order.payment_intent_id)
        if pi is not None:
            apply_payment_intent(order, pi)
    if order.status == "pending_payment" and order.expires_at < orders.utcnow():
        expire_order(order)
    db.session.refresh(order)
    return order


# ---- expiry ---------------------------------------------------------------------------

def expire_order(order: Order) -> bool:
    if order.status != "pending_payment":
        return False
    if order.payment_intent_id:
        try:
            pi = client().cancel_payment_intent(order.payment_intent_id, idempotency_key=f"order-{order.id}-pi-cancel")
        except StripeError:
            pi = _retrieve_or_none(order.payment_intent_id)  # already succeeded or cancelled?
        except PaymentsUnavailable:
            log.warning("order %s overdue but the payments API is unreachable; reservation kept", order.id)
            return False
        if pi is None:
            return False
        if pi.get("status") == "succeeded":
            apply_payment_intent(order, pi)
            return False
        if pi.get("status") != "canceled":
            return False
    order.payment_error = "expired"
    return orders.cancel_unpaid(order, "expired")


def expire_reservations(now=None, product_ids: list[int] | None = None) -> int:
    """Cancel unpaid orders whose reservation has expired; returns how many were released."""
    released = 0
    for order in orders.overdue_orders(now, product_ids):
        try:
            if expire_order(order):
                released += 1
        except Exception:  # one bad order must not stop the job
            db.session.rollback()
            log.exception("expiring order %s failed", order.id)
    if released:
        log.info("expired %s unpaid reservation(s)", released)
    return released


# ---- refunds --------------------------------------------------------------------------

def refund(staff: User | None, order_id: int, *, amount: int | None = None, sub_order_id: int | None = None,
           line_id: int | None = None, reason: str = "", allow_unpaid: bool = False) -> Refund:
    """Refund a line, a sub-order, or (neither given) the rest of the order. `amount`
    defaults to all that is still refundable of the target."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise orders.NotFound(order_id)
    line = sub = None
    if line_id is not None:
        line = db.session.get(OrderLine, line_id)
        if line is None or line.order_id != order.id:
            raise orders.NotFound(line_id)
        limit = line.refundable_fen
    elif sub_order_id is not None:
        sub = db.session.get(SubOrder, sub_order_id)
        if sub is None or sub.order_id != order.id:
            raise orders.NotFound(sub_order_id)
        limit = sub.subtotal_fen - sub.refunded_fen
    else:
        limit = order.refundable_fen
    if order.status not in ("paid", "partially_refunded") and not (allow_unpaid and order.status == "cancelled"):
        raise PaymentError(_l("Only paid orders can be refunded."))
    amount = limit if amount is None else int(amount)
    if amount <= 0 or amount > limit:
        raise PaymentError(_l("The refund must be more than zero and at most %(max)s.", max=f"¥{limit / 100:.2f}"))
    if order.status == "cancelled":
        # A late payment on a cancelled order: money back, order stays cancelled.
        record = Refund(order_id=order.id, amount_fen=amount, reason=reason[:500], created_by_id=None)
        db.session.add(record)
        db.session.flush()
    else:
        orders.apply_refund(order, amount, sub_order=sub, line=line)
        record = Refund(order_id=order.id, sub_order_id=sub.id if sub else (line.sub_order_id if line else None),
                        line_id=line.id if line else None, amount_fen=amount, reason=reason[:500],
                        created_by_id=staff.id if staff else None)
        db.session.add(record)
        db.session.flush()
    try:
        # The refund row's id makes the key unique per refund and stable across retries.
        result = client().create_refund(payment_intent=order.payment_intent_id, amount=amount,
                                        metadata={"order_id": order.id, "refund_id": record.id},
                                        idempotency_key=f"order-{order.id}-refund-{record.id}")
    except StripeError as exc:
        db.session.rollback()
        raise PaymentError(_l("The payments service refused the refund: %(reason)s", reason=exc.message)) from exc
    except PaymentsUnavailable:
        db.session.rollback()
        raise
    record.stripe_refund_id = result["id"]
    db.session.commit()
    log.info("refund %s of %s fen on order %s (sub=%s line=%s) by user=%s", result["id"], amount, order.id,
             record.sub_order_id, record.line_id, staff.id if staff else None)
    return record


def record_external_refund(pi_id: str, refund_id: str, amount: int) -> bool:
    """A refund reported by the payments API (webhook), e.g. made in Stripe's dashboard.
    Applied once per refund id; refunds this app made are already recorded."""
    order = db.session.scalar(select(Order).where(Order.payment_intent_id == pi_id).with_for_update())
    if order is None or not refund_id:
        return False
    if db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == refund_id)):
        return False
    if order.status not in ("paid", "partially_refunded"):
        return False
    amount = min(int(amount), order.refundable_fen)
    if amount <= 0:
        return False
    orders.apply_refund(order, amount)
    db.session.add(Refund(order_id=order.id, amount_fen=amount, stripe_refund_id=refund_id,
                          reason="reported by the payments service"))
    db.session.commit()
    log.info("external refund %s of %s fen recorded on order %s", refund_id, amount, order.id)
    return True
