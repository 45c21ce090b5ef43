"""Notices: one row per recipient, channel and event (in-app, mail, SMS), and the choices each
person made about which kinds reach her on which channel."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db

CHANNELS = ("inapp", "mail", "sms")
# queued: waiting for delivery; sending: claimed by one worker (next_attempt_at is the end of
# its lease); held: an SMS waiting for quiet hours to end; retrying: a failed delivery waiting
# for its next attempt; sent; failed: given up (shown to staff).
NOTICE_STATUSES = ("queued", "sending", "held", "retrying", "sent", "failed")


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (
        # One event reaches one person once per channel, however often it is reported.
        UniqueConstraint("event", "recipient", "channel", name="uq_notices_event_recipient_channel"),
        Index("ix_notices_user_channel", "user_id", "channel", "id"),
        Index("ix_notices_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(120))
    recipient: Mapped[str] = mapped_column(String(30))  # "user:12" or "profile:3"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("client_profiles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254), default="")  # email or phone; "" in-app
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class NoticePreference(db.Model):
    """A choice that differs from the kind's default (no row: the default holds)."""

    __tablename__ = "notice_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    enabled: Mapped[bool]
