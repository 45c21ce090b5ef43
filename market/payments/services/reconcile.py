"""The reconcile job: what the webhooks and the buyer's browser may have missed, settled by
asking the API (the scheduler runs it every minute; `flask reconcile-payments` by hand)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from market import jobs
from market.extensions import db
from market.models import Order, Payment
from market.orders import operations
from market.orders.services import get_order
from market.payments.services.common import FINAL_PI_STATES, _budget, log
from market.payments.services.intents import expire_order, refresh
from market.payments.services.refunds import resolve_pending_refund
from market.payments.stripe_client import PaymentsUnavailable


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
