"""Reviews of delivered order lines, by the buyer who received them.

One review per order line (a unique key, so two submits racing each other leave one);
the artisan may answer once; staff may hide one with a reason. The product keeps a
denormalised count and sum of the stars of its visible reviews (updated in the same
transaction), so cards show the average without a query per product.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("stars >= 1 AND stars <= 5", name="stars_one_to_five"),
        Index("ix_reviews_product_visible", "product_id", "hidden_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"), index=True)
    stars: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    # The full images, space separated; each one's thumbnail is <name>_t.jpg (market.images).
    photos: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(300))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    buyer = relationship("User", foreign_keys=[buyer_id])
    product = relationship("Product")

    @property
    def photo_names(self) -> list[str]:
        return [p for p in (self.photos or "").split() if p]

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None
