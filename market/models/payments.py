"""Payment records: one row per PaymentIntent, one per refund, and the ids of webhook events
already applied. market.payments keeps the payment rows in line with the payments API;
refund rows and the order's totals are changed by market.orders.operations only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

# Stripe's PaymentIntent statuses, plus "creating" while our create call is in flight.
PAYMENT_STATES = ("creating", "requires_payment_method", "requires_confirmation", "requires_action", "processing",
                  "requires_capture", "canceled", "succeeded")
REFUND_STATES = ("pending", "succeeded", "failed")


class Payment(db.Model):
    """The PaymentIntent of an order, as the payments API last reported it. One per order:
    the app reuses it and never makes a second (order_id is unique)."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    # NULL while the create call is in flight (claimed at `creating_since`).
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="cny")
    status: Mapped[str] = mapped_column(String(30), default="creating")
    client_secret: Mapped[str | None] = mapped_column(String(255))
    last_error_code: Mapped[str | None] = mapped_column(String(60))
    creating_since: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]  # last time the API was asked about it
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    order = relationship("Order", back_populates="payment")


class Refund(db.Model):
    """Money given back on an order. A row is inserted `pending` in the same transaction that
    reserves its amount on the order (refunded_fen + amount <= paid_fen); the API call comes
    after, keyed by this row; `succeeded` or `failed` (amount released) settles it."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_refunds_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sub_order_id: Mapped[int | None] = mapped_column(ForeignKey("sub_orders.id", ondelete="SET NULL"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id", ondelete="SET NULL"))
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # staff | request (a buyer's refund request, decided) | late_payment (a payment that succeeded
    # after the order was cancelled) | external
    origin: Mapped[str] = mapped_column(String(20), default="staff")
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The refund form's one-time token: a form submitted twice reserves once.
    request_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    order = relationship("Order", back_populates="refunds")

    @property
    def idempotency_key(self) -> str:
        # From the reservation: stable across retries of this refund, different for any other.
        return f"order-{self.order_id}-refund-{self.id}"


class WebhookEvent(db.Model):
    """Ids of payment events already applied: each event changes state at most once."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
