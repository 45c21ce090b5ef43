"""Carts and orders split per artisan. The payment and refund records are in
market.models.payments; only market.orders.operations changes any of these rows.

Money is integer fen everywhere. An order line keeps a snapshot of what was bought (title,
unit price, artisan) so later edits to a product never change a past order.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

# The order's lifecycle only (market.orders.states has the transition table); how much was
# paid and refunded is in paid_fen / refunded_fen and the payment and refund records.
ORDER_STATES = ("pending_payment", "paid", "fulfilled", "completed", "cancelled")
SUB_ORDER_STATES = ("awaiting_shipment", "shipped", "delivered", "cancelled")
# Orders whose money was taken and whose goods go out: what artisans fulfil and sales count.
PAID_STATES = ("paid", "fulfilled", "completed")


class CartItem(db.Model):
    """A logged-in buyer's stored cart (guests keep theirs in the session)."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("user_id", "product_id", name="uq_cart_items_user_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SavedAddress(db.Model):
    """A signed-in buyer's address book entry (picked at checkout); one may be her default."""

    __tablename__ = "saved_addresses"
    # One entry per address: the form sent twice at once (a double click) saves it once.
    __table_args__ = (UniqueConstraint("user_id", "name", "phone", "address", name="uq_saved_addresses_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_fen >= 0", name="total_non_negative"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= total_fen", name="paid_within_total"),
        # Refunds reserved or made never exceed what was paid (the refund reservation's guard).
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refund_within_paid"),
        Index("ix_orders_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for a guest's order until an account whose verified email is the guest email takes it
    # (market.orders.guests.attach_guest_orders).
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The guest's email (lower case); kept after the order is attached to an account.
    guest_email: Mapped[str | None] = mapped_column(String(254), index=True)
    # When the guest proved she reads that mailbox (opened the signed link mailed to it, or
    # verified an account with that address).
    guest_email_verified_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="pending_payment")
    # One per version of the buyer's cart: two tabs or a double submit find the same order.
    checkout_token: Mapped[str] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="cny")
    total_fen: Mapped[int]
    # What the payments API says was captured (0 until a payment succeeded).
    paid_fen: Mapped[int] = mapped_column(default=0)
    # Refunds reserved (in flight) or made: the sum of the order's pending and succeeded refunds.
    refunded_fen: Mapped[int] = mapped_column(default=0)

    ship_name: Mapped[str] = mapped_column(String(40))
    ship_phone: Mapped[str] = mapped_column(String(20))
    ship_address: Mapped[str] = mapped_column(String(200))

    stock_reserved: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Why the order was cancelled (the one field): card_declined, authentication_failed,
    # payment_failed, payment_cancelled, cancelled_by_buyer, expired, refunded.
    cancel_reason: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    buyer = relationship("User")
    sub_orders: Mapped[list[SubOrder]] = relationship(
        back_populates="order", order_by="SubOrder.id", cascade="all, delete-orphan"
    )
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    refunds = relationship("Refund", back_populates="order", order_by="Refund.id", viewonly=True)
    payment = relationship("Payment", back_populates="order", uselist=False, viewonly=True)

    @property
    def number(self) -> str:
        return f"SM{self.id:08d}"

    @property
    def refundable_fen(self) -> int:
        return self.paid_fen - self.refunded_fen

    @property
    def payment_intent_id(self) -> str | None:
        return self.payment.stripe_payment_intent_id if self.payment is not None else None


class SubOrder(db.Model):
    """The part of an order one artisan fulfils."""

    __tablename__ = "sub_orders"
    __table_args__ = (UniqueConstraint("order_id", "artisan_id", name="uq_sub_orders_order_artisan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"), index=True)
    artisan_name: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="awaiting_shipment")
    subtotal_fen: Mapped[int]
    refunded_fen: Mapped[int] = mapped_column(default=0)
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="sub_orders")
    artisan = relationship("Artisan")
    lines: Mapped[list[OrderLine]] = relationship(back_populates="sub_order", order_by="OrderLine.id")

    @property
    def number(self) -> str:
        return f"{self.order.number}-{self.artisan_id}"


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("refunded_fen >= 0", name="refunded_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sub_order_id: Mapped[int] = mapped_column(ForeignKey("sub_orders.id", ondelete="CASCADE"), index=True)
    # Kept for stock release and links; the snapshot below is what was sold.
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"))
    artisan_name: Mapped[str] = mapped_column(String(80))
    refunded_fen: Mapped[int] = mapped_column(default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    sub_order: Mapped[SubOrder] = relationship(back_populates="lines")

    @property
    def total_fen(self) -> int:
        return self.unit_price_fen * self.quantity

    @property
    def refundable_fen(self) -> int:
        return self.total_fen - self.refunded_fen
