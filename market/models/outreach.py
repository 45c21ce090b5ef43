"""The federation's front line (四必访): each cadre's contact list of women, the visits written
down under three heads (basic situation, difficulties, measures), needs questionnaires and
their answers, job posts by approved organisations, and feedback on training events.

A woman on a list is a ClientProfile (market.models.mentoring): with an account or only
recorded by her contact person. Grids are the lowest level of the area tree
(market.models.areas); events are market.models.supply.Event. Only market.outreach's
services change these rows.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

VISIT_METHODS = ("visit", "call", "wechat", "meeting")
# The five steps of a visit, in order: 1 show who you are … 5 serve precisely.
VISIT_STEPS = (1, 2, 3, 4, 5)
QUESTION_KINDS = ("single", "multiple", "scale", "text", "difficulty")
QUESTIONNAIRE_STATES = ("draft", "published", "closed")
JOB_KINDS = ("full_time", "part_time", "home_based", "seasonal")


class OutreachContact(db.Model):
    """A woman on a cadre's contact list: one contact person per woman."""

    __tablename__ = "outreach_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("client_profiles.id", ondelete="CASCADE"), unique=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    profile = relationship("ClientProfile")
    cadre = relationship("User", foreign_keys=[cadre_id])


class Visit(db.Model):
    """One contact with her (visit, call, WeChat, meeting), written down under the three heads.
    `client_id` is made by the phone that wrote it, so a visit sent twice is stored once.
    `stale`: the server already held a newer visit when this one arrived (kept and flagged)."""

    __tablename__ = "outreach_visits"
    __table_args__ = (
        CheckConstraint("step >= 1 AND step <= 5", name="visit_step"),
        Index("ix_outreach_visits_profile_day", "profile_id", "happened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("client_profiles.id", ondelete="CASCADE"))
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    happened_on: Mapped[date] = mapped_column(Date)
    step: Mapped[int] = mapped_column(default=1)
    situation: Mapped[str] = mapped_column(Text, default="")  # 家情、企情、妇情
    difficulties: Mapped[list] = mapped_column(JSON, default=list)  # difficulty codes
    difficulty_notes: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    # She agreed that her difficulties go to the case desk (how: spoken, paper).
    consent: Mapped[bool] = mapped_column(default=False)
    consent_method: Mapped[str] = mapped_column(String(10), default="")
    consent_photos: Mapped[bool] = mapped_column(default=False)
    photo: Mapped[str] = mapped_column(String(200), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    stale: Mapped[bool] = mapped_column(default=False)
    written_at: Mapped[datetime | None]  # when the phone wrote it (UTC, as the phone said)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    profile = relationship("ClientProfile")
    cadre = relationship("User")
    case = relationship("Case")


class Questionnaire(db.Model):
    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(12), unique=True)
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    closes_on: Mapped[date | None] = mapped_column(Date)
    # Respondents may leave a contact (with consent); otherwise every answer is anonymous.
    allow_identified: Mapped[bool] = mapped_column(default=True)
    one_per_person: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    questions: Mapped[list[Question]] = relationship(back_populates="questionnaire", order_by="Question.position",
                                                     cascade="all, delete-orphan")

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" or not self.title_en else self.title_en


class Question(db.Model):
    __tablename__ = "questionnaire_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10))
    label_zh: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300), default="")
    # [[zh, en], ...] for choices; [low, high] for a scale.
    options: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" or not self.label_en else self.label_en


class QuestionnaireResponse(db.Model):
    __tablename__ = "questionnaire_responses"
    __table_args__ = (UniqueConstraint("questionnaire_id", "respondent", name="uq_questionnaire_responses_respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    # The signed cookie's random id (or "user:<id>"): one answer per person when asked for.
    respondent: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    district: Mapped[str] = mapped_column(String(20), default="")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # {question id: value}
    name: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    consent: Mapped[bool] = mapped_column(default=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class JobPost(db.Model):
    __tablename__ = "job_posts"
    __table_args__ = (CheckConstraint("pay_min_fen >= 0 AND pay_max_fen >= pay_min_fen", name="pay_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    position: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12), default="full_time")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    district: Mapped[str] = mapped_column(String(20), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    pay_min_fen: Mapped[int] = mapped_column(default=0)  # a month
    pay_max_fen: Mapped[int] = mapped_column(default=0)
    hours: Mapped[str] = mapped_column(String(120), default="")
    contact: Mapped[str] = mapped_column(String(120), default="")
    valid_until: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation = relationship("Organisation")


class EventFeedback(db.Model):
    """A participant's short feedback on a training, lecture or job fair, after it."""

    __tablename__ = "event_feedback"
    __table_args__ = (CheckConstraint("rating >= 1 AND rating <= 5", name="feedback_rating"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    rating: Mapped[int]
    useful: Mapped[bool] = mapped_column(default=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
