"""Every change of the ledger, the commission rules and the payouts.

Entries are append-only and keyed: `_post` inserts them in one transaction, and a key seen
before (the same sale posted by the signal and by the sweep at once) writes nothing. Payouts
move with conditional UPDATEs (pending -> paid / failed), so two staff paying one payout pay
it once; a payout's ledger entry is written with it and a failed one's reversal with the
failure, in the same transaction.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from market import jobs, signals
from market.extensions import db
from market.ledger import commission, notifications
from market.models import (
    Artisan,
    CommissionComponent,
    CommissionRule,
    LedgerEntry,
    Order,
    Payout,
    PayoutBatch,
    Product,
    Refund,
    SubOrder,
    User,
)
from market.models.ledger import COMPONENT_KINDS
from market.orders.services import sold

log = logging.getLogger(__name__)


class LedgerError(ValueError):
    """A rule was broken; the message is safe to show."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _post(entries: list[LedgerEntry]) -> bool:
    """Insert the entries together, once: False if any key was posted before."""
    if not entries:
        return False
    keys = [e.key for e in entries]
    if db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.key.in_(keys))):
        db.session.rollback()
        return False
    db.session.add_all(entries)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    for e in entries:
        log.info("ledger artisan=%s %s %s fen key=%s", e.artisan_id, e.kind, e.amount_fen, e.key)
    return True


# ---- commission rules -----------------------------------------------------------------

def rule_at(when: datetime) -> CommissionRule | None:
    return db.session.scalar(select(CommissionRule).where(CommissionRule.active_from <= when)
                             .options(selectinload(CommissionRule.components))
                             .order_by(CommissionRule.active_from.desc(), CommissionRule.id.desc()).limit(1))


def create_rule(staff: User | None, name: str, components: list[dict], active_from: datetime | None = None
                ) -> CommissionRule:
    """A new version of the commission, from `active_from` (default now; never in the past of
    a sale already posted, so a past order keeps its rule)."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 80:
        raise LedgerError(_l("Give the rule a name (at most 80 characters)."))
    if not components:
        raise LedgerError(_l("A rule needs at least one component."))
    active_from = active_from or utcnow()
    rule = CommissionRule(name=name, active_from=active_from, created_by_id=staff.id if staff else None)
    for c in components:
        kind = c.get("kind")
        rate, fixed = int(c.get("rate_bp") or 0), int(c.get("fixed_fen") or 0)
        low, high = c.get("min_fen"), c.get("max_fen")
        cname = " ".join(str(c.get("name") or "").split())
        if kind not in COMPONENT_KINDS or not cname or len(cname) > 80:
            raise LedgerError(_l("Each component needs a name and a kind."))
        if not 0 <= rate <= 10_000 or fixed < 0 or (low is not None and low < 0) or (high is not None and high < 0) \
                or (low is not None and high is not None and low > high):
            raise LedgerError(_l("Rates are 0–100 %, amounts are not negative and the minimum is not above the "
                                 "maximum."))
        rule.components.append(CommissionComponent(name=cname, kind=kind, rate_bp=rate, fixed_fen=fixed,
                                                   min_fen=low, max_fen=high, category=c.get("category") or None,
                                                   brand_id=c.get("brand_id") or None))
    db.session.add(rule)
    db.session.commit()
    log.info("commission rule %s %r from %s by user=%s: %s component(s)", rule.id, name, active_from,
             staff.id if staff else None, len(rule.components))
    return rule


def _components(rule: CommissionRule | None) -> list[commission.Component]:
    if rule is None:
        return []
    return [commission.Component(c.name, c.kind, c.rate_bp, c.fixed_fen, c.min_fen, c.max_fen, c.category,
                                 c.brand_id) for c in rule.components]


# ---- posting from the order and refund records -------------------------------------------

def post_sale(sub_order_id: int) -> bool:
    """The sale (gross) of a paid sub-order and its commission under the rule of its payment time."""
    db.session.rollback()
    sub = db.session.scalar(select(SubOrder).where(SubOrder.id == sub_order_id)
                            .options(selectinload(SubOrder.lines)))
    if sub is None:
        return False
    order = db.session.get(Order, sub.order_id)
    if order.paid_at is None or order.paid_fen <= 0 or not db.session.scalar(
            select(func.count()).select_from(Order).where(Order.id == order.id, sold())):
        return False  # unpaid, or a late payment on a cancelled order (refunded, never a sale)
    ids = [ln.product_id for ln in sub.lines if ln.product_id]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    lines = [commission.Line(ln.total_fen, getattr(products.get(ln.product_id), "category", None),
                             getattr(products.get(ln.product_id), "brand_id", None)) for ln in sub.lines]
    rule = rule_at(order.paid_at)
    fee = commission.commission_fen(_components(rule), lines)
    entries = [LedgerEntry(artisan_id=sub.artisan_id, kind="sale", amount_fen=sub.subtotal_fen,
                           key=f"sale-{sub.id}", sub_order_id=sub.id, note=sub.number)]
    entries.append(LedgerEntry(artisan_id=sub.artisan_id, kind="commission", amount_fen=-fee,
                               key=f"commission-{sub.id}", sub_order_id=sub.id, rule_id=rule.id if rule else None,
                               note=rule.name if rule else ""))
    return _post(entries)


def _sum(where) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(*where)) or 0


def post_refund(refund_id: int, *, succeeded: bool = True) -> bool:
    """A refund of a parcel (or of one of its lines) made (or, made and then failed at the
    bank: the opposite entries): the refund and the commission given back with it."""
    db.session.rollback()
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.sub_order_id is None:
        return False  # a refund of "the rest of the order" is no artisan's (README)
    if succeeded and refund.status != "succeeded":
        return False
    sub = db.session.get(SubOrder, refund.sub_order_id)
    post_sale(sub.id)  # the sale first, whichever signal came first
    if not succeeded:
        made = db.session.scalar(select(LedgerEntry).where(LedgerEntry.key == f"refund-{refund_id}"))
        if made is None:
            return False
        back = -_sum((LedgerEntry.key == f"commission-reversal-{refund_id}",))
        return _post([
            LedgerEntry(artisan_id=sub.artisan_id, kind="refund", amount_fen=-made.amount_fen,
                        key=f"refund-failed-{refund_id}", sub_order_id=sub.id, refund_id=refund_id,
                        note="refund failed at the bank"),
            LedgerEntry(artisan_id=sub.artisan_id, kind="commission_reversal", amount_fen=back,
                        key=f"commission-reversal-failed-{refund_id}", sub_order_id=sub.id, refund_id=refund_id),
        ])
    fee = -_sum((LedgerEntry.key == f"commission-{sub.id}",))
    reversed_so_far = _sum((LedgerEntry.sub_order_id == sub.id, LedgerEntry.kind == "commission_reversal"))
    refunded_total = -_sum((LedgerEntry.sub_order_id == sub.id, LedgerEntry.kind == "refund")) + refund.amount_fen
    back = commission.reversal_fen(fee, reversed_so_far, refund.amount_fen, refunded_total, sub.subtotal_fen)
    entries = [LedgerEntry(artisan_id=sub.artisan_id, kind="refund", amount_fen=-refund.amount_fen,
                           key=f"refund-{refund_id}", sub_order_id=sub.id, refund_id=refund_id)]
    entries.append(LedgerEntry(artisan_id=sub.artisan_id, kind="commission_reversal", amount_fen=back,
                               key=f"commission-reversal-{refund_id}", sub_order_id=sub.id, refund_id=refund_id))
    return _post(entries)


def sync() -> int:
    """Post every sale and refund the ledger does not have yet (idempotent; the scheduler runs it
    so that a missed signal is made good)."""
    posted = 0
    have = set(db.session.scalars(select(LedgerEntry.key).where(LedgerEntry.kind.in_(("sale", "refund")))))
    for sub_id in db.session.scalars(select(SubOrder.id).join(Order, Order.id == SubOrder.order_id)
                                     .where(sold()).order_by(SubOrder.id)).all():
        if f"sale-{sub_id}" not in have:
            posted += post_sale(sub_id)
    for refund_id, status in db.session.execute(select(Refund.id, Refund.status)
                                                .where(Refund.sub_order_id.is_not(None)).order_by(Refund.id)).all():
        if status == "succeeded" and f"refund-{refund_id}" not in have:
            posted += post_refund(refund_id)
        elif status == "failed" and f"refund-{refund_id}" in have:
            posted += post_refund(refund_id, succeeded=False)
    return posted


def adjust(staff: User, artisan_id: int, amount_fen: int, reason: str) -> LedgerEntry:
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_l("Say why the balance is adjusted."))
    if amount_fen == 0 or abs(amount_fen) > 100_000_000:
        raise LedgerError(_l("Enter an amount other than zero."))
    if db.session.get(Artisan, artisan_id) is None:
        raise LedgerError(_l("No such artisan."))
    import secrets

    entry = LedgerEntry(artisan_id=artisan_id, kind="adjustment", amount_fen=amount_fen,
                        key=f"adjustment-{secrets.token_hex(12)}", note=reason[:500], created_by_id=staff.id)
    _post([entry])
    return entry


# ---- balances ---------------------------------------------------------------------------

def hold_days() -> int:
    return int(current_app.config.get("PAYOUT_HOLD_DAYS", 7))


def due_condition(as_of: datetime):
    """An entry is due when it belongs to no parcel (payouts, adjustments), or its parcel was
    cancelled, or delivered at least PAYOUT_HOLD_DAYS (the return window) before `as_of`."""
    cutoff = as_of - timedelta(days=hold_days())
    return or_(LedgerEntry.sub_order_id.is_(None),
               LedgerEntry.sub_order_id.in_(select(SubOrder.id).where(or_(
                   SubOrder.status == "cancelled",
                   and_(SubOrder.delivered_at.is_not(None), SubOrder.delivered_at <= cutoff)))))


def balances(as_of: datetime | None = None, artisan_id: int | None = None) -> dict[int, tuple[int, int]]:
    """{artisan id: (balance, due)}: all entries, and those due as of `as_of`."""
    as_of = as_of or utcnow()
    stmt = select(LedgerEntry.artisan_id, func.sum(LedgerEntry.amount_fen),
                  func.sum(case((due_condition(as_of), LedgerEntry.amount_fen), else_=0))).group_by(LedgerEntry.artisan_id)
    if artisan_id is not None:
        stmt = stmt.where(LedgerEntry.artisan_id == artisan_id)
    return {a: (int(total or 0), int(due or 0)) for a, total, due in db.session.execute(stmt)}


# ---- payouts ----------------------------------------------------------------------------

def create_batch(staff: User, as_of: datetime | None = None, minimum_fen: int | None = None) -> PayoutBatch:
    """A payout for every artisan whose due balance is at least the minimum (and above zero).
    An artisan with a payout still pending (another batch) is left out: one at a time."""
    sync()
    as_of = min(as_of or utcnow(), utcnow())
    minimum = int(current_app.config.get("PAYOUT_MINIMUM_FEN", 100) if minimum_fen is None else minimum_fen)
    if minimum < 0:
        raise LedgerError(_l("The minimum cannot be negative."))
    batch = PayoutBatch(as_of=as_of, minimum_fen=minimum, created_by_id=staff.id)
    db.session.add(batch)
    db.session.commit()
    batch_id = batch.id
    for artisan_id, (_total, due) in sorted(balances(as_of).items()):
        if due <= 0 or due < minimum:
            continue
        payout = Payout(batch_id=batch_id, artisan_id=artisan_id, amount_fen=due, status="pending",
                        active_key=artisan_id)
        db.session.add(payout)
        try:
            db.session.flush()
            db.session.add(LedgerEntry(artisan_id=artisan_id, kind="payout", amount_fen=-due,
                                       key=f"payout-{payout.id}", payout_id=payout.id,
                                       note=f"PB{batch_id:05d}"))
            db.session.commit()
        except IntegrityError:  # a payout of hers is pending in another batch made at the same moment
            db.session.rollback()
            continue
        log.info("payout %s of %s fen to artisan %s in batch %s", payout.id, due, artisan_id, batch_id)
    db.session.expire_all()
    return db.session.get(PayoutBatch, batch_id)


def mark_paid(staff: User, payout_id: int, reference: str) -> bool:
    """pending -> paid with the bank's reference, once: False if it was paid or failed already."""
    reference = " ".join((reference or "").split())
    if not 1 <= len(reference) <= 80:
        raise LedgerError(_l("Enter the bank's reference (at most 80 characters)."))
    db.session.rollback()
    done = db.session.execute(
        update(Payout).where(Payout.id == payout_id, Payout.status == "pending")
        .values(status="paid", reference=reference, active_key=None, decided_by_id=staff.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    if done:
        log.info("payout %s paid (%s) by user=%s", payout_id, reference, staff.id)
        signals.payout_paid.send(payout_id)
        notifications.payout_settled(payout_id)
    return done


def mark_failed(staff: User, payout_id: int, reason: str) -> bool:
    """pending -> failed, its amount back on the balance (one entry, in the same transaction)."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_l("Say why the payout failed."))
    db.session.rollback()
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise LedgerError(_l("No such payout."))
    amount, artisan_id = payout.amount_fen, payout.artisan_id
    db.session.rollback()
    moved = db.session.execute(
        update(Payout).where(Payout.id == payout_id, Payout.status == "pending")
        .values(status="failed", failure_reason=reason[:500], active_key=None, decided_by_id=staff.id,
                decided_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not moved:
        db.session.rollback()
        return False
    db.session.add(LedgerEntry(artisan_id=artisan_id, kind="payout_failed", amount_fen=amount,
                               key=f"payout-failed-{payout_id}", payout_id=payout_id, note=reason[:500],
                               created_by_id=staff.id))
    db.session.commit()
    log.warning("payout %s failed (%s): %s fen back on artisan %s's balance", payout_id, reason, amount, artisan_id)
    notifications.payout_settled(payout_id)
    return True


# ---- wiring ------------------------------------------------------------------------------

def _on_paid(order, **_extra) -> None:
    if not isinstance(order, Order):
        return
    for sub_id in [s.id for s in order.sub_orders]:
        try:
            post_sale(sub_id)
        except Exception:  # noqa: BLE001  the sweep posts it later; a payment must not fail here
            db.session.rollback()
            log.exception("ledger: posting the sale of sub-order %s failed; the sweep retries", sub_id)


def _on_refund(refund_id, succeeded: bool = True, **_extra) -> None:
    if not isinstance(refund_id, int):
        return
    try:
        post_refund(refund_id, succeeded=succeeded)
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("ledger: posting refund %s failed; the sweep retries", refund_id)


def connect() -> None:
    signals.order_paid.connect(_on_paid, weak=False)
    signals.refund_settled.connect(_on_refund, weak=False)


connect()


@jobs.task("sync_ledger", every=600)
def _sync_job() -> int:
    return sync()
