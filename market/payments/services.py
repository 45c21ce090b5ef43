"""Payments for orders: the order's one PaymentIntent and its record, paying it, turning
what the payments API says into calls of market.orders.operations, refunds, and the
reconcile job. This module writes payment records; it never assigns an order column.

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
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from market import jobs, signals
from market.extensions import db
from market.models import Order, Payment, Refund, User
from market.models.orders import PAID_STATES
from market.orders import operations
from market.orders.services import get_order
from market.orders.states import cancel_reason_message
from market.payments import gateway_errors
from market.payments.stripe_client import PaymentsUnavailable, StripeClient, StripeError

log = logging.getLogger(__name__)

__all__ = ["PaymentsUnavailable", "PaymentError", "PaymentBusy", "PayOutcome", "client"]

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


# ---- the one PaymentIntent of an order -------------------------------------------------

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


def _decline_code(pi: dict) -> str:
    error = pi.get("last_payment_error")
    code = (error.get("code") if isinstance(error, dict) else "") or ""
    if code == "payment_intent_authentication_failure":
        return "authentication_failed"
    if code in ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc", "incorrect_number"):
        return "card_declined"
    return "payment_failed"


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


# ---- refunds --------------------------------------------------------------------------

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


# ---- the reconcile job ------------------------------------------------------------------

def reconcile(now=None) -> dict[str, int]:
    """What the webhooks and the buyer's browser may have missed, settled by asking the API:
    pending payments (a lost webhook must not leave a paid order unpaid), overdue unpaid
    orders (their PaymentIntent cancelled first, then the stock released), refunds whose
    API call never answered. One bad order never stops the job."""
    now = now or operations.utcnow()
    counts = {"checked": 0, "expired": 0, "refunds": 0}
    min_age = timedelta(seconds=int(current_app.config.get("RECONCILE_MIN_AGE_SECONDS", 60)))
    pending = db.session.scalars(
        select(Payment).join(Order, Order.id == Payment.order_id)
        .where(Order.status == "pending_payment", Payment.stripe_payment_intent_id.is_not(None),
               Payment.status.not_in(FINAL_PI_STATES),
               or_(Payment.checked_at.is_(None), Payment.checked_at < now - min_age))
        .order_by(Payment.id)
    ).all()
    for payment in pending:
        try:
            refresh(get_order(payment.order_id))
            counts["checked"] += 1
        except PaymentsUnavailable:
            log.warning("reconcile: payments API unreachable; stopping this run")
            return counts
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("reconcile of order %s failed", payment.order_id)
    for order in operations.overdue_orders(now):
        try:
            if expire_order(order, raise_unavailable=True):
                counts["expired"] += 1
        except PaymentsUnavailable:
            log.warning("reconcile: payments API unreachable; stopping this run")
            return counts
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("expiring order %s failed", order.id)
    grace = timedelta(seconds=2 * _budget())
    for record in operations.pending_refunds(older_than=now - grace):
        try:
            resolve_pending_refund(record)
            counts["refunds"] += 1
        except PaymentsUnavailable:
            break
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("resolving refund %s failed", record.id)
    if any(counts.values()):
        log.info("reconcile: %s", counts)
    return counts


def expire_reservations(now=None) -> int:
    """Release the stock of unpaid orders whose reservation ran out (part of `reconcile`)."""
    released = 0
    for order in operations.overdue_orders(now):
        try:
            if expire_order(order):
                released += 1
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("expiring order %s failed", order.id)
    return released


@jobs.task("reconcile_payments", every=60)
def _reconcile_job() -> dict[str, int]:
    return reconcile()

