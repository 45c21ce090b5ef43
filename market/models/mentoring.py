"""The mutual-aid help desk: mentors of the 创业互助帮帮团, help requests (each one a case
followed to its end), the introductions between them, and the case log.

Codes (groups, industries, difficulties, stages) come from `matching.schema`, so the web app
and the matcher share one vocabulary. Lists of codes are stored as JSON arrays.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

MENTOR_STATUSES = ("pending", "approved", "rejected")
REQUEST_STATES = ("open", "matched", "in_progress", "resolved", "closed_unresolved")
# A case holds a mentor's capacity while it is in one of these states.
ACTIVE_CASE_STATES = ("matched", "in_progress")
INTRODUCTION_STATES = ("suggested", "asked", "accepted", "declined", "withdrawn", "expired")
LOG_KINDS = ("visit", "call", "wechat", "meeting", "note", "measure")


class MentorGroup(db.Model):
    """A team of the mutual-aid group (创业互助帮帮团), and how well it suits each difficulty
    (`affinities`: {difficulty code: 0..1}), which the matcher receives as data."""

    __tablename__ = "mentor_groups"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    affinities: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def label(self, lang: str) -> str:
        return self.name_zh if lang == "zh" or not self.name_en else self.name_en


class MentorProfile(db.Model):
    """A mentor's enrolment. `current_load` counts her active cases; it only changes through
    conditional updates in the services, so it can never pass `capacity`."""

    __tablename__ = "mentor_profiles"
    __table_args__ = (
        CheckConstraint("capacity >= 0 AND capacity <= 50", name="capacity_range"),
        CheckConstraint("current_load >= 0", name="load_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    group: Mapped[str] = mapped_column(String(20))
    industries: Mapped[list] = mapped_column(JSON, default=list)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    bio: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(default=3)
    current_load: Mapped[int] = mapped_column(default=0)
    availability: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    paused: Mapped[bool] = mapped_column(default=False)
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Bumped on every change that matters to matching, so app servers know when to refit.
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user = relationship("User")

    @property
    def matchable(self) -> bool:
        return self.status == "approved" and not self.paused

    @property
    def spare(self) -> int:
        return max(self.capacity - self.current_load, 0)


class HelpRequest(db.Model):
    """An entrepreneur's request for help; once a mentor accepts it, it is followed as a case
    to resolution. `status` changes only through market.mentoring.states."""

    __tablename__ = "help_requests"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_help_requests_status_activity", "status", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    business_name: Mapped[str] = mapped_column(String(80))
    industry: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(12))
    district: Mapped[str] = mapped_column(String(20))
    difficulties: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    consent_to_share: Mapped[bool] = mapped_column(default=False)
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisans.id", ondelete="SET NULL"))

    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentor_profiles.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    matched_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(Text, default="")

    author = relationship("User")
    artisan = relationship("Artisan")
    mentor: Mapped[MentorProfile | None] = relationship()
    introductions: Mapped[list[Introduction]] = relationship(
        back_populates="request", order_by="Introduction.rank", cascade="all, delete-orphan"
    )
    entries: Mapped[list[CaseEntry]] = relationship(
        back_populates="request", order_by="CaseEntry.id", cascade="all, delete-orphan"
    )


class Introduction(db.Model):
    """One mentor suggested for one request, and what became of it. Every suggestion, ask,
    accept and decline is kept: they are the outcomes the matcher learns from."""

    __tablename__ = "introductions"
    __table_args__ = (UniqueConstraint("request_id", "mentor_id", name="uq_introductions_request_mentor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    # [{"code": ..., "params": {...}}, ...] as the matcher explained the match.
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(12), default="matcher")  # matcher | staff
    status: Mapped[str] = mapped_column(String(12), default="suggested", index=True)
    asked_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    request: Mapped[HelpRequest] = relationship(back_populates="introductions")
    mentor: Mapped[MentorProfile] = relationship()


class CaseEntry(db.Model):
    """The case log: follow-up visits, calls, WeChat, meetings, notes, measures taken, and
    every status change (kind "status")."""

    __tablename__ = "case_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(12))
    body: Mapped[str] = mapped_column(Text, default="")
    happened_on: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    request: Mapped[HelpRequest] = relationship(back_populates="entries")
    author = relationship("User")
