"""A buyer's request for a refund or a return of a line or a parcel, and how it was decided.
Only market.returns.operations changes these rows; the money moves through the order's
refund records (market.orders.operations.reserve_refund), never here."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

REQUEST_KINDS = ("refund", "return")
REQUEST_REASONS = ("not_received", "damaged", "not_as_described", "changed_mind")
# market.returns.states has the transition table.
REQUEST_STATES = ("open", "offered", "escalated", "awaiting_return", "refunded", "declined", "withdrawn")
# States in which a request still waits for someone: one such request per parcel at a time.
ACTIVE_REQUEST_STATES = ("open", "offered", "escalated", "awaiting_return")


class RefundRequest(db.Model):
    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("offered_fen IS NULL OR offered_fen > 0", name="offer_positive"),
        Index("ix_refund_requests_status_respond_by", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sub_order_id: Mapped[int] = mapped_column(ForeignKey("sub_orders.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    # Stored image file names (market.images), space separated.
    photos: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int]  # what the buyer asks for
    offered_fen: Mapped[int | None]  # a partial refund the artisan offers
    refund_fen: Mapped[int | None]  # what was decided and sent to the refund path
    status: Mapped[str] = mapped_column(String(20), default="open")
    # The parcel's id while the request is active, NULL after: one active request per parcel
    # (NULLs never collide in a unique index, on either database).
    active_key: Mapped[int | None] = mapped_column(unique=True)
    respond_by: Mapped[datetime]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    order = relationship("Order")
    sub_order = relationship("SubOrder")
    line = relationship("OrderLine")
    buyer = relationship("User", foreign_keys=[buyer_id])

    @property
    def number(self) -> str:
        return f"RR{self.id:06d}"

    @property
    def photo_names(self) -> list[str]:
        return [p for p in (self.photos or "").split() if p]

    @property
    def refund_token(self) -> str:
        # The refund form token of this request's refund: whoever decides, it is reserved once.
        return f"refund-request-{self.id}"
