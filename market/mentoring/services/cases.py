"""Cases: intake (the basic situation and each difficulty as its own item), proposed cases
that staff open or dismiss, the woman's list, resolution, closing and reopening."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from market import areas, audit
from market.extensions import db
from market.mentoring import states
from market.mentoring.services.access import visible_case
from market.mentoring.services.common import (
    CHANGED,
    MentoringError,
    NotFound,
    add_role,
    entry,
    load_case,
    log,
    move,
    move_difficulty,
    move_introductions,
    release_place,
    today,
    utcnow,
)
from market.mentoring.services.introductions import refresh_suggestions
from market.models import Artisan, Case, CaseDifficulty, User
from market.models.mentoring import BUSINESS_SIZES, CHANNELS
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

# Channels a person chooses when filing; early warning and questionnaire open proposed cases.
FILING_CHANNELS = ("self_service", "visit", "committee", "hotline")


@dataclass
class CaseData:
    business_name: str
    industry: str
    stage: str
    district: str
    difficulties: list[str]
    description: str
    consent_to_share: bool
    link_shop: bool = False
    business_size: str = "solo"

    def cleaned(self) -> CaseData:
        name = " ".join((self.business_name or "").split())
        if not 1 <= len(name) <= 80:
            raise MentoringError(_l("Enter the name of your business (at most 80 characters)."))
        if self.industry not in INDUSTRIES:
            raise MentoringError(_l("Choose your industry."))
        if self.stage not in BUSINESS_STAGES:
            raise MentoringError(_l("Choose the stage of your business."))
        if self.business_size not in BUSINESS_SIZES:
            raise MentoringError(_l("Choose the size of the business."))
        if not areas.is_district(self.district):
            raise MentoringError(_l("Choose your district or county."))
        given = self.difficulties or []
        difficulties = [c for c in dict.fromkeys(given) if isinstance(c, str) and c in DIFFICULTIES]
        if not difficulties or len(difficulties) != len(set(given)):
            raise MentoringError(_l("Choose at least one difficulty you face."))
        description = (self.description or "").strip()
        if len(description) > 4000:
            raise MentoringError(_l("The description is too long (at most 4000 characters)."))
        return CaseData(name, self.industry, self.stage, self.district, difficulties, description,
                        bool(self.consent_to_share), bool(self.link_shop), self.business_size)


def _new_case(data: CaseData, *, author: User | None, filed_by: User | None, channel: str, status: str) -> Case:
    if channel not in CHANNELS:
        raise MentoringError(_l("Choose how this case reached us."))
    now = utcnow()
    case = Case(author_id=author.id if author else None, filed_by_id=filed_by.id if filed_by else None,
                channel=channel, status=status, business_name=data.business_name, business_size=data.business_size,
                industry=data.industry, stage=data.stage, district=data.district, description=data.description,
                consent_to_share=data.consent_to_share, created_at=now, last_activity_at=now,
                opened_at=now if status == "open" else None)
    db.session.add(case)
    db.session.flush()
    for position, code in enumerate(data.difficulties):
        db.session.add(CaseDifficulty(case_id=case.id, code=code, position=position, status="open"))
    return case


def file_case(user: User, data: CaseData) -> Case:
    """She files her own case (self-service) and sees the matcher's first suggestions."""
    data = data.cleaned()
    case = _new_case(data, author=user, filed_by=user, channel="self_service", status="open")
    if data.link_shop:
        artisan = db.session.scalar(select(Artisan).where(Artisan.user_id == user.id))
        case.artisan_id = artisan.id if artisan else None
    add_role(user, "entrepreneur")
    entry(case, user, "status", "open")
    db.session.commit()
    log.info("case filed id=%s author=%s difficulties=%s", case.id, user.id, ",".join(data.difficulties))
    refresh_suggestions(case)
    return case


def propose_case(actor: User | None, data: CaseData, reason: str, *, channel: str, author: User | None = None) -> Case:
    """Something suggests she may need help (a staff member's hunch, an early warning, a
    questionnaire answer); nobody has talked to her yet. Only staff see it until they open it."""
    data = data.cleaned()
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 2000:
        raise MentoringError(_l("Say why she may need help."))
    case = _new_case(data, author=author, filed_by=actor, channel=channel, status="proposed")
    case.proposed_reason = reason
    entry(case, actor, "status", "proposed")
    audit.record(actor, "case.propose", case, on_behalf_of=author)
    db.session.commit()
    log.info("case proposed id=%s channel=%s by=%s", case.id, channel, actor.id if actor else None)
    return case


def open_proposed(staff: User, case_id: int, contact_note: str) -> Case:
    """Staff have talked to her and she wants help: the case opens and is matched."""
    case, acc = visible_case(staff, case_id)
    if not acc.is_staff:
        raise NotFound(case_id)
    note = (contact_note or "").strip()
    if not 1 <= len(note) <= 4000:
        raise MentoringError(_l("Write how you contacted her and what she said."))
    now = utcnow()
    if not move(case, "open", opened_at=now, last_activity_at=now):
        db.session.rollback()
        raise MentoringError(CHANGED)
    entry(case, staff, "call", note)
    entry(case, staff, "status", "open")
    audit.record(staff, "case.open", case, on_behalf_of=case.author)
    db.session.commit()
    refresh_suggestions(case)
    return case


def dismiss_proposed(staff: User, case_id: int, reason: str) -> Case:
    case, acc = visible_case(staff, case_id)
    if not acc.is_staff:
        raise NotFound(case_id)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 2000:
        raise MentoringError(_l("Say why this case is dismissed."))
    if not move(case, "dismissed", dismissed_reason=reason, closed_at=utcnow()):
        db.session.rollback()
        raise MentoringError(CHANGED)
    entry(case, staff, "status", "dismissed")
    audit.record(staff, "case.dismiss", case)
    db.session.commit()
    return case


def my_cases(user: User) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(Case.author_id == user.id, Case.status.not_in(("proposed", "dismissed")))
        .order_by(Case.id.desc()).options(joinedload(Case.mentor))
    ))


def _mark_remaining_solved(case: Case) -> None:
    for item in case.difficulty_items:
        if item.status in ("open", "in_hand"):
            move_difficulty(item, "solved")


def resolve(user: User, case_id: int, rating: int, outcome: str) -> Case:
    """She says her difficulties are solved, rates the help and says what changed."""
    case, acc = visible_case(user, case_id)
    if not acc.is_author:
        raise NotFound(case_id)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise MentoringError(_l("Rate the help from 1 to 5 stars."))
    outcome = (outcome or "").strip()
    if not 1 <= len(outcome) <= 4000:
        raise MentoringError(_l("Tell us in a few words what changed for your business."))
    if not acc.can_resolve:
        raise states.InvalidTransition(_l("Only a case with a mentor can be resolved."))
    now = utcnow()
    if not move(case, "resolved", resolved_at=now, rating=rating, outcome=outcome, last_activity_at=now):
        db.session.rollback()
        raise MentoringError(CHANGED)
    _finish(case, user, "resolved")
    db.session.commit()
    log.info("case %s resolved rating=%s mentor=%s", case.id, rating, case.mentor_id)
    return case


def _finish(case: Case, actor: User, status: str) -> None:
    """What closing means for the rest: mentors' places are freed, pending asks end."""
    for intro in case.introductions:
        if intro.status == "accepted":
            release_place(intro.mentor_id)
    move_introductions(case.id, "superseded")
    if status == "resolved":
        _mark_remaining_solved(case)
    entry(case, actor, "status", status)


def close_unresolved(user: User, case_id: int, reason: str) -> Case:
    """She withdraws, or staff close a case that cannot be solved."""
    case, acc = visible_case(user, case_id)
    if not (acc.is_author or acc.is_staff):
        raise NotFound(case_id)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 1000:
        raise MentoringError(_l("Say briefly why the case is closed."))
    now = utcnow()
    if not move(case, "closed_unresolved", closed_at=now, last_activity_at=now):
        db.session.rollback()
        raise MentoringError(CHANGED)
    _finish(case, user, "closed_unresolved")
    entry(case, user, "note", reason)
    if not acc.is_author:
        audit.record(user, "case.close", case, on_behalf_of=case.author)
    db.session.commit()
    log.info("case %s closed unresolved by user=%s", case.id, user.id)
    return case


def get_case_for_staff(case_id: int) -> Case:
    case = load_case(case_id)
    if case is None:
        raise NotFound(case_id)
    return case


__all__ = ["CaseData", "FILING_CHANNELS", "close_unresolved", "dismiss_proposed", "file_case", "my_cases",
           "open_proposed", "propose_case", "resolve", "today"]
