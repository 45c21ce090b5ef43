"""Early warning from sales and what the help changed: the shops whose sales are watched (her
shop here, or a shop on another platform mapped to her profile by staff), their daily sales,
the warnings raised (each a proposed case, opened or dismissed by staff), and the business
results recorded when a case closes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

SALES_SOURCES = ("market", "import")
WARNING_STATUSES = ("proposed", "confirmed", "dismissed", "held")


class SalesShop(db.Model):
    """One shop whose daily sales are watched: her shop on this marketplace (`artisan_id`), or
    a shop on another platform (`external_id` as the platform's export names it) that staff
    mapped to her profile. `opted_out_at`: she asked not to be watched (no warnings)."""

    __tablename__ = "sales_shops"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_sales_shops_source_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    external_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(20), default="")
    name: Mapped[str] = mapped_column(String(80), default="")
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisans.id", ondelete="CASCADE"), unique=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("client_profiles.id", ondelete="SET NULL"), index=True)
    category: Mapped[str] = mapped_column(String(40), default="")
    opted_out_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    artisan = relationship("Artisan")
    profile = relationship("ClientProfile")


class SalesDay(db.Model):
    """A shop's orders and money on one day (Beijing date); days without orders have no row."""

    __tablename__ = "sales_days"
    __table_args__ = (
        CheckConstraint("orders >= 0 AND revenue_fen >= 0 AND refunded_fen >= 0", name="sales_non_negative"),
    )

    shop_id: Mapped[int] = mapped_column(ForeignKey("sales_shops.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)
    revenue_fen: Mapped[int] = mapped_column(default=0)
    refunded_fen: Mapped[int] = mapped_column(default=0)


class SalesWarning(db.Model):
    """One warning the nightly scan raised, with its evidence. `proposed`: a proposed case
    waits in the staff queue; `confirmed`: staff opened the case (she wanted help);
    `dismissed`: staff dismissed it, with a reason; `held`: not shown, because a warning for
    the same shop was dismissed lately and this one is no worse. Kept to tune thresholds."""

    __tablename__ = "sales_warnings"
    __table_args__ = (
        UniqueConstraint("shop_id", "signal", "flagged_on", name="uq_sales_warnings_shop_signal_day"),
        Index("ix_sales_warnings_status", "status", "flagged_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("sales_shops.id", ondelete="CASCADE"), index=True)
    signal: Mapped[str] = mapped_column(String(30))
    flagged_on: Mapped[date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(default=0.0)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    shop: Mapped[SalesShop] = relationship()
    case = relationship("Case")


class CaseBusinessResult(db.Model):
    """What the help brought her business, recorded at closing where it exists."""

    __tablename__ = "case_business_results"
    __table_args__ = (
        CheckConstraint("loan_fen IS NULL OR loan_fen >= 0", name="loan_non_negative"),
        CheckConstraint("jobs_created >= 0 AND jobs_kept >= 0", name="jobs_non_negative"),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    new_channel: Mapped[str] = mapped_column(String(80), default="")
    loan_obtained: Mapped[bool] = mapped_column(default=False)
    loan_fen: Mapped[int | None]
    jobs_created: Mapped[int] = mapped_column(default=0)
    jobs_kept: Mapped[int] = mapped_column(default=0)
    certificate: Mapped[str] = mapped_column(String(80), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None]
