"""The mutual-aid help desk: mentors of the 创业互助帮帮团 and their groups, cases (each one
followed in a closed loop: basic situation → difficulties → measures → solved and signed
off), each difficulty as its own item, the introductions between cases and mentors, and the
case log of typed follow-ups.

Statuses change only through market.mentoring.states (one transition table each for cases,
difficulties and introductions). Codes (industries, difficulties, stages) come from
`matching.schema`; groups from `mentor_groups`; districts from the area tree.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

MENTOR_STATUSES = ("pending", "approved", "rejected")
# How a case reached the federation. Early warning and questionnaire are opened by later modules.
CHANNELS = ("self_service", "visit", "committee", "hotline", "early_warning", "questionnaire")
BUSINESS_SIZES = ("solo", "family", "small", "medium")
LOG_KINDS = ("visit", "call", "wechat", "meeting", "measure", "note")
DECLINE_REASONS = ("busy", "not_my_field", "too_far", "other")
# What a woman may consent to, separately; and how the consent was given.
CONSENT_SCOPES = ("details", "contact", "sms")
CONSENT_METHODS = ("online", "spoken", "paper")


class ClientProfile(db.Model):
    """A woman the federation helps, with or without an account: staff or a committee member
    (执委) file cases for her on this profile. When she registers with the same phone (or
    staff link her account) she claims it and its cases. Anonymised in place on request
    (PIPL): names, phone and free text erased, ids and counts kept."""

    __tablename__ = "client_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # Digits only, so the same number typed two ways is one number (duplicates are flagged).
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    district: Mapped[str] = mapped_column(String(20), default="")
    business_kind: Mapped[str] = mapped_column(String(80), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]

    area = relationship("Area")
    user = relationship("User", foreign_keys=[user_id])
    created_by = relationship("User", foreign_keys=[created_by_id])


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
    # Set when she declines an ask because she is busy: not suggested until then (her fit is
    # unchanged; this is availability).
    busy_until: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Bumped when her profile changes (not her load), so app servers know when to refit.
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user = relationship("User")

    @property
    def matchable(self) -> bool:
        # A suspended account cannot sign in to answer: she is not put in front of anyone.
        return self.status == "approved" and not self.paused and (self.user is None or self.user.active)

    @property
    def spare(self) -> int:
        return max(self.capacity - self.current_load, 0)


class Case(db.Model):
    """A woman's case: the basic situation of her business, her difficulties (one item each),
    the mentors introduced, and the log, followed until it is solved and signed off.
    `status` changes only through market.mentoring.states."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_cases_status_activity", "status", "last_activity_at"),
        # The reports select a period of filings (created_at, or opened_at for an opened
        # proposed case) out of every case (market.staff.reports).
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_opened_at", "opened_at"),
        Index("ix_cases_matched_at", "matched_at"),
        Index("ix_cases_resolved_at", "resolved_at"),
        Index("ix_cases_first_contact_at", "first_contact_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="self_service", index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    # The woman herself, when she has an account.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who filed it: herself, a staff member or a committee member (执委) who visited her.
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    business_name: Mapped[str] = mapped_column(String(80))
    business_size: Mapped[str] = mapped_column(String(12), default="solo")
    industry: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(12))
    district: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    # The profile of the woman the case is for (always set for cases filed on her behalf).
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("client_profiles.id"), index=True)
    # Her chosen contact, collected at intake; shown to her mentors only with her consent.
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contact_wechat: Mapped[str] = mapped_column(String(40), default="")
    # The current consent of each scope: a copy of the latest CaseConsent row, written only
    # by market.mentoring.services.consent in the same transaction (lists read it cheaply).
    consent_to_share: Mapped[bool] = mapped_column(default=False)
    consent_contact: Mapped[bool] = mapped_column(default=False)
    consent_sms: Mapped[bool] = mapped_column(default=False)
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisans.id", ondelete="SET NULL"))
    # Why a proposed case was suggested, and why staff dismissed one.
    proposed_reason: Mapped[str] = mapped_column(Text, default="")
    dismissed_reason: Mapped[str] = mapped_column(Text, default="")

    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentor_profiles.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    opened_at: Mapped[datetime | None]
    matched_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The time of the first log entry of a CONTACT_KINDS kind (call, visit, WeChat, meeting):
    # kept by the listener below whenever an entry is written, so the reports' median days to
    # first contact read one column instead of grouping the whole log.
    first_contact_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    next_follow_up_on: Mapped[date | None] = mapped_column(Date)
    closure_proposed_at: Mapped[datetime | None]
    # Staff who signed off a case filed on her behalf (she cannot confirm it herself).
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # 0: not escalated; 1: the staff of its area were told; 2: a supervisor was told.
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(Text, default="")

    author = relationship("User", foreign_keys=[author_id])
    filed_by = relationship("User", foreign_keys=[filed_by_id])
    profile: Mapped[ClientProfile | None] = relationship()
    artisan = relationship("Artisan")
    mentor: Mapped[MentorProfile | None] = relationship()
    difficulty_items: Mapped[list[CaseDifficulty]] = relationship(
        back_populates="case", order_by="CaseDifficulty.position", cascade="all, delete-orphan"
    )
    introductions: Mapped[list[Introduction]] = relationship(
        back_populates="case", order_by="Introduction.rank", cascade="all, delete-orphan"
    )
    entries: Mapped[list[CaseEntry]] = relationship(
        back_populates="case", order_by="CaseEntry.id", cascade="all, delete-orphan"
    )
    consents: Mapped[list[CaseConsent]] = relationship(
        back_populates="case", order_by="CaseConsent.id", cascade="all, delete-orphan"
    )

    @property
    def on_behalf(self) -> bool:
        """Filed for a woman without an account (or before she claimed it)."""
        return self.author_id is None

    @property
    def difficulties(self) -> list[str]:
        """The difficulty codes, in the order she gave them (what the matcher reads)."""
        return [d.code for d in self.difficulty_items]


class CaseDifficulty(db.Model):
    """One difficulty of a case, followed on its own: open → in hand → solved, or cannot be
    solved here; with the measures taken and the result."""

    __tablename__ = "case_difficulties"
    __table_args__ = (
        UniqueConstraint("case_id", "code", name="uq_case_difficulties_case_code"),
        Index("ix_case_difficulties_status_updated", "status", "updated_at"),  # solved in a period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    measures: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="difficulty_items")


class Introduction(db.Model):
    """One mentor suggested for one case, and what became of it. Every suggestion, ask,
    accept and decline is kept: they are the outcomes the matcher learns from."""

    __tablename__ = "case_introductions"
    __table_args__ = (UniqueConstraint("case_id", "mentor_id", name="uq_case_introductions_case_mentor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    # [{"code": ..., "params": {...}}, ...] as the matcher explained the match.
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(12), default="matcher")  # matcher | staff
    # lead: the case's mentor; second: a second mentor added by staff.
    role: Mapped[str] = mapped_column(String(8), default="lead")
    status: Mapped[str] = mapped_column(String(12), default="suggested", index=True)
    asked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    decline_code: Mapped[str] = mapped_column(String(16), default="")
    decline_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    case: Mapped[Case] = relationship(back_populates="introductions")
    mentor: Mapped[MentorProfile] = relationship()

    @property
    def request(self) -> Case:  # the help desk's older name, kept for templates
        return self.case


class CaseEntry(db.Model):
    """The case log: typed follow-ups (visit, call, WeChat, meeting, measure, note) with the
    day they happened and the next follow-up date, and every status change (kind "status")."""

    __tablename__ = "case_log_entries"
    # The first contact of each case (market.staff.reports): by kind, then case, then time.
    __table_args__ = (Index("ix_case_log_entries_kind_case_created", "kind", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(12))
    body: Mapped[str] = mapped_column(Text, default="")
    happened_on: Mapped[date | None] = mapped_column(Date)
    next_follow_up_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    case: Mapped[Case] = relationship(back_populates="entries")
    author = relationship("User")


# The log entries that count as contact with her (the reports' "first contact").
CONTACT_KINDS = ("call", "visit", "wechat", "meeting")


@event.listens_for(CaseEntry, "after_insert")
def _first_contact(mapper, connection, entry: CaseEntry) -> None:
    """A contact entry was written (market.mentoring.services.common.entry, or any other
    writer): the case's first contact becomes the earliest contact entry, in the same flush and
    transaction. Computed from the entries rather than the new row's time, so a back-dated or
    server-dated entry keeps it exact, and one indexed lookup (kind, case_id, created_at)."""
    if entry.kind not in CONTACT_KINDS:
        return
    cases, entries = Case.__table__, CaseEntry.__table__
    first = select(func.min(entries.c.created_at)).where(
        entries.c.case_id == entry.case_id, entries.c.kind.in_(CONTACT_KINDS)).scalar_subquery()
    connection.execute(update(cases).where(cases.c.id == entry.case_id).values(first_contact_at=first))


class CaseConsent(db.Model):
    """One consent given or withdrawn, for one case and one scope: by her, or recorded for
    her by the person who filed the case (how: online, spoken, signed paper). The latest row
    of a scope is the consent in force. Rows are never changed."""

    __tablename__ = "case_consents"
    __table_args__ = (Index("ix_case_consents_case_scope", "case_id", "scope", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(10))
    given: Mapped[bool]
    method: Mapped[str] = mapped_column(String(10), default="online")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    on_behalf: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    case: Mapped[Case] = relationship(back_populates="consents")
    recorded_by = relationship("User")


INFERRED_NEED_STATUSES = ("pending", "confirmed", "removed")


class CaseInferredNeed(db.Model):
    """A need the matcher read in a case's free text, and what the woman (or the person who
    filed for her) said: confirmed (it becomes one of the case's difficulties) or removed
    (never inferred again for the case). Decided ones are training data for the matcher."""

    __tablename__ = "case_inferred_needs"
    __table_args__ = (UniqueConstraint("case_id", "code", name="uq_case_inferred_needs_case_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(default=0.0)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    case: Mapped[Case] = relationship()


class NeedPhrase(db.Model):
    """An example phrasing of a difficulty added by staff (on top of the shipped defaults):
    how women say it. Editing them refits the matcher's text-to-needs model."""

    __tablename__ = "need_phrases"
    __table_args__ = (UniqueConstraint("code", "phrase", name="uq_need_phrases_code_phrase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), index=True)
    phrase: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MatcherModel(db.Model):
    """A fitted matcher shared by every app process: the newest `version` is the one in use;
    `signature` says which mentors, groups, districts and phrasings it was fitted on."""

    __tablename__ = "matcher_models"

    version: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), index=True)
    mentors: Mapped[int] = mapped_column(default=0)
    weight_source: Mapped[str] = mapped_column(String(12), default="params")
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
