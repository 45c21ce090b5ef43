"""Supply-chain matchmaking (产业链对接): organisations and their members, the board of needs and
offers, quotes and the deals they lead to, and events (the one event model: matchmaking days
now; training, lectures and job fairs reuse it through `kind` and the generic registration).

Only market.supply.operations changes these rows. Codes (categories, certifications) come from
matching.supply; several codes are stored space separated in one column (few, never queried
one by one in SQL).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

ORG_STATES = ("pending", "approved", "rejected")
POST_KINDS = ("need", "offer")
POST_STATES = ("open", "awarded", "closed")
QUOTE_STATES = ("sent", "accepted", "declined", "withdrawn")
DEAL_STATES = ("pending", "signed", "not_signed")
EVENT_KINDS = ("matchmaking", "training", "lecture", "job_fair")
EVENT_STATES = ("open", "cancelled", "finished")
EVENT_ELIGIBILITY = ("all", "organisations", "women")
REGISTRATION_STATES = ("registered", "waiting", "cancelled")


def _codes(value: str | None) -> list[str]:
    return [c for c in (value or "").split() if c]


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    categories: Mapped[str] = mapped_column(String(200), default="")  # codes, space separated
    description: Mapped[str] = mapped_column(Text, default="")  # what it makes or does, in Chinese
    materials: Mapped[str] = mapped_column(Text, default="")  # materials and processes
    capacity_month: Mapped[int | None] = mapped_column()
    capacity_unit: Mapped[str] = mapped_column(String(20), default="")
    min_order: Mapped[int | None] = mapped_column()
    certifications: Mapped[str] = mapped_column(String(60), default="")  # codes, space separated
    district: Mapped[str] = mapped_column(String(40), default="")
    contact_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisans.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    contact = relationship("User", foreign_keys=[contact_id])
    artisan = relationship("Artisan")
    members: Mapped[list[OrganisationMember]] = relationship(back_populates="organisation",
                                                              cascade="all, delete-orphan")

    @property
    def category_codes(self) -> list[str]:
        return _codes(self.categories)

    @property
    def certification_codes(self) -> list[str]:
        return _codes(self.certifications)


class OrganisationMember(db.Model):
    """A person who acts for an organisation (the contact is one of them)."""

    __tablename__ = "organisation_members"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user = relationship("User")


class SupplyPost(db.Model):
    """A need ("we need 2,000 gift boxes a month") or an offer ("spare drying capacity in
    winter") on the board."""

    __tablename__ = "supply_posts"
    __table_args__ = (
        CheckConstraint("kind IN ('need', 'offer')", name="post_kind"),
        CheckConstraint("budget_min_fen IS NULL OR budget_min_fen >= 0", name="budget_min_positive"),
        CheckConstraint("budget_max_fen IS NULL OR budget_max_fen >= 0", name="budget_max_positive"),
        Index("ix_supply_posts_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int | None] = mapped_column()
    unit: Mapped[str] = mapped_column(String(20), default="")
    timing: Mapped[str] = mapped_column(String(120), default="")  # "每月", "三月底前"
    budget_min_fen: Mapped[int | None] = mapped_column()
    budget_max_fen: Mapped[int | None] = mapped_column()
    region_preference: Mapped[str] = mapped_column(String(10), default="any")
    required_certifications: Mapped[str] = mapped_column(String(60), default="")
    open_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    accepted_quote_id: Mapped[int | None] = mapped_column()
    # The help-desk case (difficulty "supply chain") this need came from.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()
    quotes: Mapped[list[Quote]] = relationship(back_populates="post", order_by="Quote.id")

    @property
    def category_codes(self) -> list[str]:
        return _codes(self.categories)

    @property
    def certification_codes(self) -> list[str]:
        return _codes(self.required_certifications)


class Quote(db.Model):
    """A supplier's answer to a need; accepting one makes a deal both sides then sign or not."""

    __tablename__ = "supply_quotes"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("lead_days >= 0", name="lead_days_positive"),
        CheckConstraint("deal_value_fen IS NULL OR deal_value_fen >= 0", name="deal_value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("supply_posts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    price_fen: Mapped[int]  # for the whole quantity
    quantity: Mapped[int]
    lead_days: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="sent")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    accepted_at: Mapped[datetime | None]
    # The deal, once accepted: each side says signed (with the value) or not (with why).
    deal_status: Mapped[str | None] = mapped_column(String(12))
    deal_value_fen: Mapped[int | None] = mapped_column()
    deal_note: Mapped[str] = mapped_column(Text, default="")
    buyer_signed_at: Mapped[datetime | None]
    supplier_signed_at: Mapped[datetime | None]

    post: Mapped[SupplyPost] = relationship(back_populates="quotes")
    organisation: Mapped[Organisation] = relationship()


class Event(db.Model):
    """An event staff run: a matchmaking day (对接会) uses slots and tables; training, lectures
    and job fairs (the outreach issue) use the same registration, capacity and waiting list."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("slot_count >= 0 AND slot_minutes >= 0 AND tables >= 0", name="layout_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="matchmaking")
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(default=1)
    first_slot: Mapped[str] = mapped_column(String(5), default="09:00")  # HH:MM, Beijing time
    slot_minutes: Mapped[int] = mapped_column(default=20)
    slot_count: Mapped[int] = mapped_column(default=12)  # per day
    tables: Mapped[int] = mapped_column(default=10)
    registration_deadline: Mapped[datetime]  # UTC
    capacity: Mapped[int | None] = mapped_column()  # None: no limit; beyond it, the waiting list
    eligibility: Mapped[str] = mapped_column(String(20), default="all")
    status: Mapped[str] = mapped_column(String(10), default="open")
    scheduled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    registrations: Mapped[list[Registration]] = relationship(back_populates="event", order_by="Registration.id")


class Registration(db.Model):
    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_event_registrations_event_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="registered")
    # Slot codes she is present in, space separated ("" = all of them).
    available: Mapped[str] = mapped_column(Text, default="")
    checked_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    event: Mapped[Event] = relationship(back_populates="registrations")
    # Event pages list every participant's name: load them with the registrations, not one by one.
    user = relationship("User", lazy="selectin")
    organisation = relationship("Organisation", lazy="selectin")

    @property
    def available_slots(self) -> list[str]:
        return _codes(self.available)


class MeetingRequest(db.Model):
    """One participant wants to meet another (or refuses to; or staff add the meeting)."""

    __tablename__ = "event_meeting_requests"
    __table_args__ = (UniqueConstraint("from_id", "to_id", name="uq_event_meeting_requests_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="wanted")  # wanted / refused / staff
    score: Mapped[float] = mapped_column(default=0.0)  # the matcher's score when asked
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EventMeeting(db.Model):
    """A meeting the scheduler placed at (slot, table)."""

    __tablename__ = "event_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"), index=True)
    b_id: Mapped[int] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(String(10))
    table: Mapped[int]
    weight: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    a = relationship("Registration", foreign_keys=[a_id])
    b = relationship("Registration", foreign_keys=[b_id])


class MeetingFeedback(db.Model):
    """One participant's answer about one meeting, after the event."""

    __tablename__ = "event_meeting_feedback"
    __table_args__ = (CheckConstraint("value_fen IS NULL OR value_fen >= 0", name="value_positive"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("event_meetings.id", ondelete="CASCADE"), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    met: Mapped[bool] = mapped_column(default=True)
    interesting: Mapped[bool] = mapped_column(default=False)
    deal_expected: Mapped[bool] = mapped_column(default=False)
    deal_signed: Mapped[bool] = mapped_column(default=False)
    value_fen: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
