"""Commission rules, the artisan ledger and payouts. Only market.ledger changes these rows.

Ledger entries are append-only: never updated or deleted; a correction is a new entry. Each
entry has a unique `key` naming what it records (the sale of sub-order 7, refund 12, payout 3),
so posting the same fact twice writes it once, whichever path (signal, sweep, migration) posts it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

# Signed amounts: what the entry adds to (or takes from) what the platform owes the artisan.
ENTRY_KINDS = ("sale", "commission", "refund", "commission_reversal", "adjustment", "payout", "payout_failed")
COMPONENT_KINDS = ("percent", "fixed_per_order")
PAYOUT_STATES = ("pending", "paid", "failed")


class CommissionRule(db.Model):
    """One version of the marketplace's commission: its components apply to sub-orders paid
    from `active_from` until the next version's `active_from`. A version is never edited once
    it has been used; staff make a new one (a past order keeps the rule it was sold under:
    its commission entry names the version)."""

    __tablename__ = "commission_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    active_from: Mapped[datetime] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    components: Mapped[list[CommissionComponent]] = relationship(
        back_populates="rule", order_by="CommissionComponent.id", cascade="all, delete-orphan")


class CommissionComponent(db.Model):
    """A named part of a rule: a percentage of the matching lines (`rate_bp`, basis points) or
    a fixed amount per sub-order with a matching line, optionally only for one category or
    brand, clamped to [min_fen, max_fen] per sub-order."""

    __tablename__ = "commission_components"
    __table_args__ = (
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_in_range"),
        CheckConstraint("fixed_fen >= 0", name="fixed_non_negative"),
        CheckConstraint("min_fen IS NULL OR min_fen >= 0", name="min_non_negative"),
        CheckConstraint("max_fen IS NULL OR max_fen >= 0", name="max_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("commission_rules.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    rate_bp: Mapped[int] = mapped_column(default=0)
    fixed_fen: Mapped[int] = mapped_column(default=0)
    min_fen: Mapped[int | None]
    max_fen: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(30))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))

    rule: Mapped[CommissionRule] = relationship(back_populates="components")


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_artisan_created", "artisan_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int]
    key: Mapped[str] = mapped_column(String(80), unique=True)
    sub_order_id: Mapped[int | None] = mapped_column(ForeignKey("sub_orders.id", ondelete="SET NULL"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="SET NULL"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("commission_rules.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    sub_order = relationship("SubOrder")


class PayoutBatch(db.Model):
    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[datetime]
    minimum_fen: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    payouts: Mapped[list[Payout]] = relationship(back_populates="batch", order_by="Payout.id")

    @property
    def number(self) -> str:
        return f"PB{self.id:05d}"


class Payout(db.Model):
    """Money sent to one artisan in a batch. Its ledger entry (−amount) is written with it; a
    failed payout writes +amount back. One pending payout per artisan at a time (active_key)."""

    __tablename__ = "payouts"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id", ondelete="CASCADE"), index=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"), index=True)
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    active_key: Mapped[int | None] = mapped_column(unique=True)
    reference: Mapped[str] = mapped_column(String(80), default="")
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    batch: Mapped[PayoutBatch] = relationship(back_populates="payouts")
    artisan = relationship("Artisan")


class PayoutDetails(db.Model):
    """Where an artisan is paid: the account and the holder's name are stored encrypted
    (market.ledger.details, key from PAYOUT_DETAILS_KEY) and shown masked everywhere except on
    a payout batch and its export."""

    __tablename__ = "payout_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(10))  # bank | wechat | alipay
    bank_name: Mapped[str] = mapped_column(String(60), default="")
    account_encrypted: Mapped[str] = mapped_column(Text)
    holder_encrypted: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
