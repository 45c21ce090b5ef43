"""Cases: intake (the basic situation and each difficulty as its own item), proposed cases
that staff open or dismiss, the woman's list, resolution, closing and reopening."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
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
from market.mentoring.services.consent import write_consent
from market.mentoring.services.introductions import refresh_suggestions
from market.mentoring.services.notify import notify_new_case
from market.mentoring.services.profiles import ProfileData, create_profile, may_file_for_others, normalise_phone
from market.models import Artisan, Case, CaseDifficulty, ClientProfile, User
from market.models.mentoring import BUSINESS_SIZES, CHANNELS
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

# Channels staff choose when filing for her; a committee member's cases come by 执委直通车;
# early warning and questionnaire open proposed cases.
ON_BEHALF_CHANNELS = ("visit", "committee", "hotline")
FILING_CHANNELS = ("self_service", *ON_BEHALF_CHANNELS)
_WECHAT = re.compile(r"^[A-Za-z][-_A-Za-z0-9]{5,19}$")
# A form sent again within this time with the same content (a double click, the back button
# and "send" again, a retry on a slow connection) is the case already filed, not a new one.
RESUBMIT_WINDOW = timedelta(minutes=30)


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
    contact_phone: str = ""
    contact_wechat: str = ""
    consent_contact: bool = False
    consent_sms: bool = False

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
        phone = normalise_phone(self.contact_phone) or ""
        wechat = (self.contact_wechat or "").strip()
        if wechat and not _WECHAT.match(wechat):
            raise MentoringError(_l("A WeChat id has 6 to 20 letters, digits, - or _, starting with a letter."))
        if self.consent_contact and not (phone or wechat):
            raise MentoringError(_l("Give a phone number or WeChat id to share with your mentor."))
        return CaseData(name, self.industry, self.stage, self.district, difficulties, description,
                        bool(self.consent_to_share), bool(self.link_shop), self.business_size, phone, wechat,
                        bool(self.consent_contact), bool(self.consent_sms))


def _new_case(data: CaseData, *, author: User | None, filed_by: User | None, channel: str, status: str,
              profile: ClientProfile | None = None, consent_method: str = "online") -> Case:
    if channel not in CHANNELS:
        raise MentoringError(_l("Choose how this case reached us."))
    now = utcnow()
    case = Case(author_id=author.id if author else None, filed_by_id=filed_by.id if filed_by else None,
                profile_id=profile.id if profile else None, channel=channel, status=status,
                business_name=data.business_name, business_size=data.business_size, industry=data.industry,
                stage=data.stage, district=data.district, description=data.description,
                contact_phone=data.contact_phone, contact_wechat=data.contact_wechat, created_at=now,
                last_activity_at=now, opened_at=now if status == "open" else None)
    db.session.add(case)
    db.session.flush()
    for position, code in enumerate(data.difficulties):
        db.session.add(CaseDifficulty(case_id=case.id, code=code, position=position, status="open"))
    on_behalf = author is None or (filed_by is not None and filed_by.id != author.id)
    for scope, given in (("details", data.consent_to_share), ("contact", data.consent_contact),
                         ("sms", data.consent_sms)):
        # Every scope gets a first record, given or not: what she was asked is on file.
        # (Nobody has asked her anything about a proposed case yet.)
        if status != "proposed":
            write_consent(case, filed_by or author, scope, given, consent_method, on_behalf)
    db.session.refresh(case)
    return case


def _just_filed(data: CaseData, *, filed_by: User, author: User | None = None,
                profile: ClientProfile | None = None, her: ProfileData | None = None) -> Case | None:
    """The case this person filed moments ago with the same content, if any."""
    stmt = (select(Case).where(Case.filed_by_id == filed_by.id, Case.created_at >= utcnow() - RESUBMIT_WINDOW,
                               Case.business_name == data.business_name, Case.description == data.description,
                               Case.industry == data.industry, Case.district == data.district)
            .order_by(Case.id.desc()))
    if author is not None:
        stmt = stmt.where(Case.author_id == author.id)
    if profile is not None:
        stmt = stmt.where(Case.profile_id == profile.id)
    elif her is not None:  # a new profile typed in: the same woman, as typed the first time
        stmt = stmt.join(ClientProfile, Case.profile_id == ClientProfile.id).where(
            ClientProfile.phone == her.phone, ClientProfile.name == her.name)
    for case in db.session.scalars(stmt):
        if case.difficulties == data.difficulties:
            return case
    return None


def file_case(user: User, data: CaseData, *, form_sent_again_ok: bool = False) -> Case:
    """She files her own case (self-service) and sees the matcher's first suggestions.
    `form_sent_again_ok` (the web form): the same form sent again moments later answers with
    the case it filed."""
    data = data.cleaned()
    again = _just_filed(data, filed_by=user, author=user) if form_sent_again_ok else None
    if again is not None:
        log.info("case form sent again id=%s author=%s", again.id, user.id)
        return again
    case = _new_case(data, author=user, filed_by=user, channel="self_service", status="open")
    if data.link_shop:
        artisan = db.session.scalar(select(Artisan).where(Artisan.user_id == user.id))
        case.artisan_id = artisan.id if artisan else None
    add_role(user, "entrepreneur")
    entry(case, user, "status", "open")
    db.session.commit()
    log.info("case filed id=%s author=%s difficulties=%s", case.id, user.id, ",".join(data.difficulties))
    notify_new_case(case)
    refresh_suggestions(case)
    return case


def file_on_behalf(actor: User, data: CaseData, *, channel: str, consent_method: str,
                   profile_id: int | None = None, profile_data: ProfileData | None = None,
                   form_sent_again_ok: bool = False) -> Case:
    """Staff or a committee member (执委) files for a woman who has only a profile (no account,
    or no smartphone): her consent is recorded by the person filing, saying how she gave it.
    A committee member's cases come by 执委直通车."""
    from market.mentoring.services.profiles import visible_profile

    if not may_file_for_others(actor):
        raise NotFound("case")
    if not actor.is_staff:
        channel = "committee"
    if channel not in ON_BEHALF_CHANNELS:
        raise MentoringError(_l("Choose how this case reached us."))
    if consent_method not in ("spoken", "paper"):
        raise MentoringError(_l("Say how she gave or withdrew her consent: spoken or on signed paper."))
    existing = visible_profile(actor, profile_id) if profile_id else None
    if existing is not None and existing.anonymised_at is not None:
        raise MentoringError(_l("This profile was anonymised at her request."))
    if existing is None and profile_data is None:
        raise MentoringError(_l("Enter her name and phone number."))
    if not (data.contact_phone or "").strip():
        # The phone she gave is the one to share, unless another is given.
        data.contact_phone = existing.phone if existing else profile_data.phone
    data = data.cleaned()
    again = _just_filed(data, filed_by=actor, profile=existing,
                        her=None if existing else profile_data.cleaned()) if form_sent_again_ok else None
    if again is not None:
        log.info("case form sent again id=%s by=%s", again.id, actor.id)
        return again
    profile = existing or create_profile(actor, profile_data)
    author = db.session.get(User, profile.user_id) if profile.user_id else None
    case = _new_case(data, author=author, filed_by=actor, channel=channel, status="open", profile=profile,
                     consent_method=consent_method)
    entry(case, actor, "status", "open")
    audit.record(actor, "case.file", case, on_behalf_of=profile)
    db.session.commit()
    log.info("case filed on behalf id=%s profile=%s by=%s channel=%s", case.id, profile.id, actor.id, channel)
    notify_new_case(case)
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


def filed_by(user: User) -> list[Case]:
    """Cases a committee member or staff filed for women (her referrals she follows)."""
    return list(db.session.scalars(
        select(Case).where(Case.filed_by_id == user.id, or_(Case.author_id.is_(None), Case.author_id != user.id))
        .order_by(Case.id.desc())
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


__all__ = ["CaseData", "FILING_CHANNELS", "ON_BEHALF_CHANNELS", "file_on_behalf", "close_unresolved", "dismiss_proposed", "file_case", "my_cases",
           "open_proposed", "propose_case", "resolve", "today"]
