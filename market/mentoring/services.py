"""The mutual-aid help desk: every rule and state change of mentors, help requests, the
introductions between them and the case log. Views and the CLI call these; nothing else
changes mentoring rows.

Rules that keep people safe and the numbers true:
- A request is seen only by its author, staff, and the mentor asked or matched to it.
- A mentor's `current_load` changes only by conditional UPDATEs, so two accepts racing for
  her last slot cannot both win, on SQLite or PostgreSQL.
- A request has at most one mentor asked at a time; a decline moves on to the next suggestion.
"""
from __future__ import annotations

import csv
import io
import logging
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from market import areas
from market.extensions import db
from market.mail import send_mail
from market.mentoring import groups, states
from market.mentoring.matcher import get_matcher, reasons_as_json, to_request
from market.models import Artisan, CaseEntry, HelpRequest, Introduction, MentorProfile, User, UserRole
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

log = logging.getLogger(__name__)

SUGGESTIONS = 5
FOLLOW_UP_KINDS = ("visit", "call", "wechat", "meeting", "measure")


class MentoringError(ValueError):
    """A rule was broken; the message is safe to show."""


class NotFound(LookupError):
    """Missing, or not the caller's to see (the two look the same from outside)."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _add_role(user: User, role: str) -> None:
    if not user.has_role(role):
        db.session.add(UserRole(user_id=user.id, role=role))
        db.session.flush()
        db.session.expire(user, ["roles"])


def _entry(req: HelpRequest, author: User | None, kind: str, body: str, happened_on: datetime | None = None) -> None:
    db.session.add(CaseEntry(request_id=req.id, author_id=author.id if author else None, kind=kind, body=body[:4000],
                             happened_on=happened_on))


def _move(req: HelpRequest, new: str, **values) -> bool:
    """Compare-and-set the case status in the database, so two people acting at once can
    never both apply one change. False if someone else moved it first."""
    states.check(req.status, new)
    result = db.session.execute(
        update(HelpRequest).where(HelpRequest.id == req.id, HelpRequest.status == req.status)
        .values(status=new, **values).execution_options(synchronize_session=False)
    )
    db.session.refresh(req)
    return result.rowcount == 1


def _touch_mentor(mentor_id: int) -> None:
    db.session.execute(update(MentorProfile).where(MentorProfile.id == mentor_id).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))


# ---- mentors --------------------------------------------------------------------------

@dataclass
class MentorData:
    display_name: str
    group: str
    industries: list[str]
    skills: list[str]
    bio: str
    district: str
    capacity: int
    availability: str = ""

    def cleaned(self) -> MentorData:
        name = " ".join((self.display_name or "").split())
        if not 1 <= len(name) <= 80:
            raise MentoringError(_l("Enter the name mentees will see (at most 80 characters)."))
        if not groups.is_group(self.group):
            raise MentoringError(_l("Choose your group in the mutual-aid team."))
        industries = [c for c in dict.fromkeys(self.industries or []) if c in INDUSTRIES]
        if not industries or len(industries) != len(set(self.industries or [])):
            raise MentoringError(_l("Choose at least one industry you know well."))
        skills = [c for c in dict.fromkeys(self.skills or []) if c in DIFFICULTIES]
        if not skills or len(skills) != len(set(self.skills or [])):
            raise MentoringError(_l("Choose at least one kind of help you can give."))
        if not areas.is_district(self.district):
            raise MentoringError(_l("Choose your district or county."))
        if not isinstance(self.capacity, int) or not 1 <= self.capacity <= 20:
            raise MentoringError(_l("You can take between 1 and 20 mentees at a time."))
        bio = (self.bio or "").strip()
        if len(bio) > 2000:
            raise MentoringError(_l("Your introduction is too long (at most 2000 characters)."))
        return MentorData(name, self.group, industries, skills, bio, self.district, self.capacity,
                          " ".join((self.availability or "").split())[:200])


def mentor_profile(user: User) -> MentorProfile | None:
    return db.session.scalar(select(MentorProfile).where(MentorProfile.user_id == user.id))


def save_mentor_profile(user: User, data: MentorData) -> MentorProfile:
    """Enrol (awaiting staff approval) or update one's mentor profile."""
    data = data.cleaned()
    profile = mentor_profile(user)
    if profile is not None and data.capacity < profile.current_load:
        raise MentoringError(_l("You are helping %(n)s entrepreneurs now: capacity cannot be lower than that.",
                                n=profile.current_load))
    new = profile is None
    if new:
        profile = MentorProfile(user_id=user.id, status="pending", current_load=0)
        db.session.add(profile)
    profile.display_name, profile.group, profile.bio = data.display_name, data.group, data.bio
    profile.industries, profile.skills, profile.district = data.industries, data.skills, data.district
    profile.availability = data.availability
    profile.capacity = data.capacity
    profile.updated_at = utcnow()
    _add_role(user, "mentor")
    db.session.flush()
    if not new:
        # Capacity never drops below the load, even if a case was accepted since we read it.
        db.session.execute(update(MentorProfile).where(MentorProfile.id == profile.id,
                                                       MentorProfile.current_load > data.capacity)
                           .values(capacity=MentorProfile.current_load).execution_options(synchronize_session=False))
    db.session.commit()
    log.info("mentor profile %s id=%s user=%s", "enrolled" if new else "updated", profile.id, user.id)
    return profile


def set_paused(user: User, paused: bool) -> MentorProfile:
    profile = mentor_profile(user)
    if profile is None:
        raise NotFound("mentor")
    profile.paused = bool(paused)
    profile.updated_at = utcnow()
    db.session.commit()
    log.info("mentor %s %s by herself", profile.id, "paused" if paused else "resumed")
    return profile


def review_mentor(staff: User, mentor_id: int, decision: str) -> MentorProfile:
    profile = db.session.get(MentorProfile, mentor_id)
    if profile is None:
        raise NotFound(mentor_id)
    if decision not in ("approved", "rejected"):
        raise MentoringError(_l("Unknown decision."))
    profile.status = decision
    profile.approved_at = utcnow() if decision == "approved" else None
    profile.updated_at = utcnow()
    db.session.commit()
    log.info("mentor %s %s by staff=%s", profile.id, decision, staff.id)
    return profile


def mentors_for_staff(status: str | None = None) -> list[MentorProfile]:
    stmt = select(MentorProfile).options(joinedload(MentorProfile.user)).order_by(MentorProfile.id)
    if status:
        stmt = stmt.where(MentorProfile.status == status)
    return list(db.session.scalars(stmt))


# ---- help requests --------------------------------------------------------------------

@dataclass
class RequestData:
    business_name: str
    industry: str
    stage: str
    district: str
    difficulties: list[str]
    description: str
    consent_to_share: bool
    link_shop: bool = False

    def cleaned(self) -> RequestData:
        name = " ".join((self.business_name or "").split())
        if not 1 <= len(name) <= 80:
            raise MentoringError(_l("Enter the name of your business (at most 80 characters)."))
        if self.industry not in INDUSTRIES:
            raise MentoringError(_l("Choose your industry."))
        if self.stage not in BUSINESS_STAGES:
            raise MentoringError(_l("Choose the stage of your business."))
        if not areas.is_district(self.district):
            raise MentoringError(_l("Choose your district or county."))
        difficulties = [c for c in dict.fromkeys(self.difficulties or []) if c in DIFFICULTIES]
        if not difficulties or len(difficulties) != len(set(self.difficulties or [])):
            raise MentoringError(_l("Choose at least one difficulty you face."))
        description = (self.description or "").strip()
        if len(description) > 4000:
            raise MentoringError(_l("The description is too long (at most 4000 characters)."))
        return RequestData(name, self.industry, self.stage, self.district, difficulties, description,
                           bool(self.consent_to_share), bool(self.link_shop))


def file_request(user: User, data: RequestData) -> HelpRequest:
    """File a request for help and record the matcher's first suggestions."""
    data = data.cleaned()
    artisan = db.session.scalar(select(Artisan).where(Artisan.user_id == user.id)) if data.link_shop else None
    req = HelpRequest(author_id=user.id, business_name=data.business_name, industry=data.industry, stage=data.stage,
                      district=data.district, difficulties=data.difficulties, description=data.description,
                      consent_to_share=data.consent_to_share, artisan_id=artisan.id if artisan else None,
                      status="open", last_activity_at=utcnow())
    db.session.add(req)
    _add_role(user, "entrepreneur")
    db.session.flush()
    _entry(req, user, "status", "open")
    db.session.commit()
    log.info("help request filed id=%s author=%s difficulties=%s", req.id, user.id, ",".join(data.difficulties))
    refresh_suggestions(req)
    return req


def refresh_suggestions(req: HelpRequest, k: int = SUGGESTIONS) -> list[Introduction]:
    """Record the matcher's best mentors for an open request that are not yet introduced."""
    if req.status != "open":
        return []
    matcher = get_matcher()
    if matcher is None:
        return []
    known = {i.mentor_id for i in req.introductions}
    try:
        matches = matcher.rank(to_request(req), k=k + len(known))
    except ValueError as exc:  # a code the matcher does not know: show none, never a 500
        log.warning("request %s cannot be ranked: %s", req.id, exc)
        return []
    next_rank = max((i.rank for i in req.introductions), default=0)
    added = []
    for match in matches:
        if match.mentor_id in known or len(added) >= k:
            continue
        next_rank += 1
        intro = Introduction(request_id=req.id, mentor_id=int(match.mentor_id), rank=next_rank,
                             score=round(float(match.score), 4), reasons=reasons_as_json(match), source="matcher",
                             status="suggested")
        db.session.add(intro)
        added.append(intro)
    db.session.commit()
    if added:
        log.info("request %s: %s suggestion(s) recorded", req.id, len(added))
    db.session.refresh(req)
    return added


def _load_request(request_id: int) -> HelpRequest | None:
    return db.session.scalar(
        select(HelpRequest).where(HelpRequest.id == request_id).options(
            selectinload(HelpRequest.introductions).joinedload(Introduction.mentor),
            selectinload(HelpRequest.entries).joinedload(CaseEntry.author),
            joinedload(HelpRequest.mentor), joinedload(HelpRequest.author), joinedload(HelpRequest.artisan),
        )
    )


@dataclass
class Access:
    """Who the viewer is to this request; decides what the page shows and allows."""

    is_author: bool = False
    is_staff: bool = False
    is_mentor: bool = False  # the mentor matched to it
    is_asked: bool = False  # a mentor asked and not yet answered

    @property
    def sees_details(self) -> bool:
        return self.is_author or self.is_staff

    @property
    def can_log(self) -> bool:
        return self.is_author or self.is_staff or self.is_mentor


def access(user: User, req: HelpRequest) -> Access:
    mentor = mentor_profile(user) if user.has_role("mentor") else None
    return Access(
        is_author=req.author_id == user.id,
        is_staff=user.is_staff,
        is_mentor=mentor is not None and req.mentor_id == mentor.id,
        is_asked=mentor is not None and any(i.mentor_id == mentor.id and i.status == "asked"
                                            for i in req.introductions),
    )


def visible_request(user: User, request_id: int) -> tuple[HelpRequest, Access]:
    """The request and the viewer's access, or NotFound for anyone who may not see it."""
    req = _load_request(request_id)
    if req is None:
        raise NotFound(request_id)
    acc = access(user, req)
    if not (acc.is_author or acc.is_staff or acc.is_mentor or acc.is_asked):
        raise NotFound(request_id)  # never reveal that someone else's request exists
    return req, acc


def my_requests(user: User) -> list[HelpRequest]:
    return list(db.session.scalars(
        select(HelpRequest).where(HelpRequest.author_id == user.id).order_by(HelpRequest.id.desc())
        .options(joinedload(HelpRequest.mentor))
    ))


# ---- asking, accepting, declining ----------------------------------------------------

def _outstanding_ask(req: HelpRequest) -> Introduction | None:
    return next((i for i in req.introductions if i.status == "asked"), None)


def _set_asked(intro: Introduction) -> bool:
    result = db.session.execute(
        update(Introduction).where(Introduction.id == intro.id, Introduction.status == "suggested")
        .values(status="asked", asked_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def ask_mentor(user: User, request_id: int, introduction_id: int) -> Introduction:
    """The author asks one suggested mentor to help."""
    req, acc = visible_request(user, request_id)
    if not acc.is_author:
        raise NotFound(request_id)
    if req.status != "open":
        raise MentoringError(_l("This request already has a mentor or is closed."))
    if _outstanding_ask(req) is not None:
        raise MentoringError(_l("You have already asked a mentor; please wait for her answer."))
    intro = next((i for i in req.introductions if i.id == introduction_id), None)
    if intro is None or intro.status != "suggested":
        raise MentoringError(_l("This mentor cannot be asked."))
    if not intro.mentor.matchable or intro.mentor.spare <= 0:
        raise MentoringError(_l("This mentor has no free place just now. Please ask another."))
    if not _set_asked(intro):
        db.session.rollback()
        raise MentoringError(_l("This mentor cannot be asked."))
    db.session.commit()
    log.info("request %s: mentor %s asked by author=%s", req.id, intro.mentor_id, user.id)
    db.session.refresh(intro)
    notify_asked(intro)
    return intro


def _own_asked_intro(user: User, introduction_id: int) -> Introduction:
    mentor = mentor_profile(user)
    intro = db.session.get(Introduction, introduction_id)
    if mentor is None or intro is None or intro.mentor_id != mentor.id:
        raise NotFound(introduction_id)
    if intro.status != "asked":
        raise MentoringError(_l("This request has already been answered."))
    return intro


def accept(user: User, introduction_id: int) -> HelpRequest:
    """The asked mentor accepts: she takes one place of her capacity and the case is matched.
    Safe under concurrency: her load only grows while it is below her capacity."""
    intro = _own_asked_intro(user, introduction_id)
    mentor_id, request_id = intro.mentor_id, intro.request_id
    took_place = db.session.execute(
        update(MentorProfile)
        .where(MentorProfile.id == mentor_id, MentorProfile.current_load < MentorProfile.capacity,
               MentorProfile.status == "approved")
        .values(current_load=MentorProfile.current_load + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not took_place:
        db.session.rollback()
        raise MentoringError(_l("You have no free place for another mentee. Finish a case or raise your capacity."))
    req = db.session.get(HelpRequest, request_id)
    now = utcnow()
    if req.status != "open" or not _move(req, "matched", mentor_id=mentor_id, matched_at=now, last_activity_at=now):
        db.session.rollback()  # gives the place back too
        raise MentoringError(_l("This request has already been answered."))
    claimed = db.session.execute(
        update(Introduction).where(Introduction.id == intro.id, Introduction.status == "asked")
        .values(status="accepted", decided_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not claimed:
        db.session.rollback()
        raise MentoringError(_l("This request has already been answered."))
    # The other suggestions are no longer needed (kept for learning, marked as such).
    db.session.execute(
        update(Introduction).where(Introduction.request_id == req.id, Introduction.status == "suggested")
        .values(status="expired").execution_options(synchronize_session=False)
    )
    _entry(req, user, "status", "matched")
    db.session.commit()
    log.info("request %s matched with mentor %s (accepted by user=%s)", req.id, mentor_id, user.id)
    notify_matched(req)
    return req


def decline(user: User, introduction_id: int, reason: str = "") -> HelpRequest:
    """The asked mentor declines; the request moves on to the next suggestion at once."""
    intro = _own_asked_intro(user, introduction_id)
    declined = db.session.execute(
        update(Introduction).where(Introduction.id == intro.id, Introduction.status == "asked")
        .values(status="declined", decided_at=utcnow(), decline_reason=(reason or "").strip()[:200])
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not declined:
        db.session.rollback()
        raise MentoringError(_l("This request has already been answered."))
    db.session.commit()
    log.info("request %s: mentor %s declined", intro.request_id, intro.mentor_id)
    req = _load_request(intro.request_id)
    move_on(req)
    return req


def move_on(req: HelpRequest) -> Introduction | None:
    """Ask the next suggested mentor with a free place; fetch new suggestions if none is left.
    Returns the introduction now asked, or None (the request waits for staff)."""
    if req.status != "open" or _outstanding_ask(req) is not None:
        return None
    for attempt in range(2):
        for intro in sorted(req.introductions, key=lambda i: i.rank):
            if intro.status == "suggested" and intro.mentor.matchable and intro.mentor.spare > 0 and _set_asked(intro):
                db.session.commit()
                log.info("request %s moved on: mentor %s asked", req.id, intro.mentor_id)
                notify_asked(intro)
                return intro
        if attempt == 0:
            refresh_suggestions(req)
            req = _load_request(req.id)
    log.warning("request %s: no mentor left to ask; staff will follow up", req.id)
    return None


def mentor_home(user: User) -> tuple[MentorProfile | None, list[Introduction], list[HelpRequest]]:
    """The mentor's page: requests waiting for her answer and the cases she follows."""
    profile = mentor_profile(user)
    if profile is None:
        return None, [], []
    asks = list(db.session.scalars(
        select(Introduction).where(Introduction.mentor_id == profile.id, Introduction.status == "asked")
        .options(joinedload(Introduction.request)).order_by(Introduction.asked_at)
    ))
    cases = list(db.session.scalars(
        select(HelpRequest).where(HelpRequest.mentor_id == profile.id).order_by(HelpRequest.id.desc())
        .options(joinedload(HelpRequest.author))
    ))
    return profile, asks, cases


# ---- the case: follow-up log, resolution, closing ------------------------------------

LOG_LABELS = {
    "visit": _l("Visit"),
    "call": _l("Phone call"),
    "wechat": _l("WeChat"),
    "meeting": _l("Meeting"),
    "note": _l("Note"),
    "measure": _l("Measure taken"),
    "status": _l("Status"),
    "introduced": _l("Introduced by staff"),
}
# Written by the system, never typed by a person.
SYSTEM_LOG_KINDS = ("status", "introduced")


def add_entry(user: User, request_id: int, kind: str, body: str, happened_on: date | None = None) -> CaseEntry:
    """Log a follow-up on a case. The first follow-up by the mentor or staff puts a matched
    case in progress."""
    req, acc = visible_request(user, request_id)
    if not acc.can_log:
        raise NotFound(request_id)
    if kind not in LOG_LABELS or kind in SYSTEM_LOG_KINDS:
        raise MentoringError(_l("Choose what kind of follow-up this was."))
    if kind != "note" and not (acc.is_mentor or acc.is_staff):
        raise MentoringError(_l("Only the mentor or federation staff record follow-ups; you can add a note."))
    body = (body or "").strip()
    if not 1 <= len(body) <= 4000:
        raise MentoringError(_l("Write what happened (at most 4000 characters)."))
    if req.status in ("resolved", "closed_unresolved"):
        raise MentoringError(_l("This case is closed."))
    when = datetime.combine(happened_on, datetime.min.time()) if happened_on else None
    if when and when > utcnow() + timedelta(days=1):
        raise MentoringError(_l("The date cannot be in the future."))
    now = utcnow()
    if req.status == "matched" and kind in FOLLOW_UP_KINDS:
        _move(req, "in_progress", last_activity_at=now)
        _entry(req, user, "status", "in_progress")
    entry = CaseEntry(request_id=req.id, author_id=user.id, kind=kind, body=body, happened_on=when)
    db.session.add(entry)
    db.session.execute(update(HelpRequest).where(HelpRequest.id == req.id).values(last_activity_at=now)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    log.info("case %s: %s logged by user=%s", req.id, kind, user.id)
    return entry


def _release_place(req: HelpRequest) -> None:
    if req.mentor_id is not None:
        db.session.execute(
            update(MentorProfile).where(MentorProfile.id == req.mentor_id, MentorProfile.current_load > 0)
            .values(current_load=MentorProfile.current_load - 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def resolve(user: User, request_id: int, rating: int, outcome: str) -> HelpRequest:
    """The entrepreneur says her problem is solved, rates the help and says what changed."""
    req, acc = visible_request(user, request_id)
    if not acc.is_author:
        raise NotFound(request_id)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise MentoringError(_l("Rate the help from 1 to 5 stars."))
    outcome = (outcome or "").strip()
    if not 1 <= len(outcome) <= 4000:
        raise MentoringError(_l("Tell us in a few words what changed for your business."))
    if req.status not in ("matched", "in_progress"):
        raise states.InvalidTransition(_l("Only a case with a mentor can be resolved."))
    now = utcnow()
    if not _move(req, "resolved", resolved_at=now, rating=rating, outcome=outcome, last_activity_at=now):
        db.session.rollback()
        raise MentoringError(_l("This case has just changed. Please reload the page."))
    _release_place(req)
    _entry(req, user, "status", "resolved")
    db.session.commit()
    log.info("case %s resolved rating=%s mentor=%s", req.id, rating, req.mentor_id)
    return req


def close_unresolved(user: User, request_id: int, reason: str) -> HelpRequest:
    """The author withdraws, or staff close a case that cannot be solved."""
    req, acc = visible_request(user, request_id)
    if not (acc.is_author or acc.is_staff):
        raise NotFound(request_id)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 1000:
        raise MentoringError(_l("Say briefly why the case is closed."))
    now = utcnow()
    if not _move(req, "closed_unresolved", closed_at=now, last_activity_at=now):
        db.session.rollback()
        raise MentoringError(_l("This case has just changed. Please reload the page."))
    _release_place(req)
    db.session.execute(
        update(Introduction).where(Introduction.request_id == req.id, Introduction.status.in_(("suggested", "asked")))
        .values(status="withdrawn").execution_options(synchronize_session=False)
    )
    _entry(req, user, "status", "closed_unresolved")
    _entry(req, user, "note", reason)
    db.session.commit()
    log.info("case %s closed unresolved by user=%s", req.id, user.id)
    return req


# ---- staff: global assignment ------------------------------------------------------

@dataclass
class ProposedPair:
    request: HelpRequest
    mentor: MentorProfile | None
    score: float
    reasons: list[dict]


def waiting_requests() -> list[HelpRequest]:
    """Open requests with nobody asked: the ones a global assignment may place."""
    asked = select(Introduction.request_id).where(Introduction.status == "asked")
    return list(db.session.scalars(
        select(HelpRequest).where(HelpRequest.status == "open", HelpRequest.id.not_in(asked))
        .order_by(HelpRequest.created_at, HelpRequest.id)
    ))


def propose_assignment() -> tuple[list[ProposedPair], list[MentorProfile]]:
    """A capacity-aware assignment of every waiting request, for staff to review."""
    requests = waiting_requests()
    mentors = list(db.session.scalars(select(MentorProfile).where(MentorProfile.status == "approved",
                                                                   MentorProfile.paused.is_(False))
                                      .order_by(MentorProfile.display_name)))
    matcher = get_matcher()
    if not requests or matcher is None:
        return [ProposedPair(r, None, 0.0, []) for r in requests], mentors
    by_id = {m.id: m for m in mentors}
    result = matcher.assign([to_request(r) for r in requests])
    placed = {rid: (mid, score) for rid, mid, score in result.pairs}
    proposal = []
    for req in requests:
        mid, score = placed.get(req.id, (None, 0.0))
        mentor = by_id.get(int(mid)) if mid is not None else None
        reasons = reasons_as_json(matcher.explain(to_request(req), mid)) if mentor else []
        proposal.append(ProposedPair(req, mentor, float(score), reasons))
    return proposal, mentors


def confirm_assignment(staff: User, pairs: dict[int, int | None]) -> tuple[int, list[int]]:
    """Send the reviewed pairs ({request_id: mentor_id}) as introductions the mentors answer.
    Returns (how many were sent, request ids skipped because they changed or the mentor is
    full)."""
    sent, skipped = 0, []
    planned: dict[int, int] = {}
    asked: list[Introduction] = []
    matcher = get_matcher()
    for request_id, mentor_id in sorted(pairs.items()):
        if mentor_id is None:
            continue
        req = _load_request(request_id)
        mentor = db.session.get(MentorProfile, mentor_id)
        if (req is None or mentor is None or req.status != "open" or _outstanding_ask(req) is not None
                or not mentor.matchable or mentor.spare - planned.get(mentor.id, 0) <= 0):
            skipped.append(request_id)
            continue
        intro = next((i for i in req.introductions if i.mentor_id == mentor_id), None)
        if intro is not None and intro.status != "suggested":
            skipped.append(request_id)  # she already declined or was withdrawn: do not ask again
            continue
        if intro is None:
            match = matcher.explain(to_request(req), mentor_id) if matcher is not None else None
            intro = Introduction(request_id=req.id, mentor_id=mentor_id, rank=0, source="staff", status="suggested",
                                 score=round(float(match.score), 4) if match else 0.0,
                                 reasons=reasons_as_json(match) if match else [])
            db.session.add(intro)
            db.session.flush()
        else:
            intro.source = "staff"
        _set_asked(intro)
        asked.append(intro)
        planned[mentor.id] = planned.get(mentor.id, 0) + 1
        _entry(req, staff, "introduced", mentor.display_name)
        sent += 1
    db.session.commit()
    log.info("global assignment confirmed by staff=%s: %s sent, %s skipped", staff.id, sent, len(skipped))
    for intro in asked:
        notify_asked(intro)
    return sent, skipped


# ---- notifications -------------------------------------------------------------------

def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, _external=True, **values)
    except RuntimeError:  # no request (CLI, demo seed): the help desk's path is still useful
        return "/mentoring/"


def notify_asked(intro: Introduction) -> None:
    mentor = db.session.get(MentorProfile, intro.mentor_id)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        send_mail(mentor.user.email, _("An entrepreneur asks for your help"),
                  _("An entrepreneur has asked you to be her mentor. Please accept or decline at %(url)s",
                    url=_url("mentoring.index")))


def notify_matched(req: HelpRequest) -> None:
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        send_mail(req.author.email, _("%(name)s will be your mentor", name=req.mentor.display_name),
                  _("%(name)s has accepted your request for help. Follow your case at %(url)s",
                    name=req.mentor.display_name, url=_url("mentoring.request_page", request_id=req.id)))


# ---- staff: dashboard, overdue cases, export -----------------------------------------

def overdue_days() -> int:
    return int(current_app.config.get("CASE_OVERDUE_DAYS", 14))


def overdue_cases(now: datetime | None = None) -> list[HelpRequest]:
    """Cases with a mentor and no follow-up for CASE_OVERDUE_DAYS, and open requests that
    have waited that long for a mentor."""
    limit = (now or utcnow()) - timedelta(days=overdue_days())
    return list(db.session.scalars(
        select(HelpRequest).where(HelpRequest.status.in_(("open", "matched", "in_progress")),
                                  func.coalesce(HelpRequest.last_activity_at, HelpRequest.created_at) < limit)
        .options(joinedload(HelpRequest.mentor)).order_by(HelpRequest.last_activity_at)
    ))


def all_requests(status: str | None = None) -> list[HelpRequest]:
    stmt = select(HelpRequest).options(joinedload(HelpRequest.mentor), joinedload(HelpRequest.author)) \
        .order_by(HelpRequest.id.desc())
    if status in states.LABELS:
        stmt = stmt.where(HelpRequest.status == status)
    return list(db.session.scalars(stmt))


@dataclass
class Dashboard:
    by_status: dict[str, int]
    by_difficulty: dict[str, int]
    by_district: dict[str, int]
    resolved_this_year: int
    median_days_to_match: float | None
    median_days_to_resolve: float | None
    mentors: list[MentorProfile]
    overdue: list[HelpRequest]
    average_rating: float | None
    total: int


def _median_days(pairs) -> float | None:
    days = [(end - start).total_seconds() / 86400 for start, end in pairs if start and end and end >= start]
    return round(statistics.median(days), 1) if days else None


def dashboard(now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    by_status = dict.fromkeys(states.LABELS, 0)
    for status, n in db.session.execute(select(HelpRequest.status, func.count()).group_by(HelpRequest.status)):
        by_status[status] = n
    # Difficulties are a JSON list per request: counted here, portable across databases.
    by_difficulty = dict.fromkeys(DIFFICULTIES, 0)
    by_district = dict.fromkeys(areas.districts(), 0)
    match_times, resolve_times, ratings = [], [], []
    resolved_this_year = 0
    for difficulties, district, created, matched, resolved, rating in db.session.execute(
        select(HelpRequest.difficulties, HelpRequest.district, HelpRequest.created_at, HelpRequest.matched_at,
               HelpRequest.resolved_at, HelpRequest.rating)
    ):
        for d in difficulties or []:
            if d in by_difficulty:
                by_difficulty[d] += 1
        if district in by_district:
            by_district[district] += 1
        match_times.append((created, matched))
        resolve_times.append((matched, resolved))
        if resolved and resolved.year == now.year:
            resolved_this_year += 1
        if rating:
            ratings.append(rating)
    mentors = list(db.session.scalars(select(MentorProfile).where(MentorProfile.status == "approved")
                                      .order_by(MentorProfile.current_load.desc(), MentorProfile.display_name)))
    return Dashboard(
        by_status=by_status, by_difficulty=by_difficulty, by_district=by_district,
        resolved_this_year=resolved_this_year, median_days_to_match=_median_days(match_times),
        median_days_to_resolve=_median_days(resolve_times), mentors=mentors, overdue=overdue_cases(now),
        average_rating=round(sum(ratings) / len(ratings), 1) if ratings else None, total=sum(by_status.values()),
    )


CSV_COLUMNS = ("id", "status", "business_name", "industry", "stage", "district", "difficulties", "mentor",
               "created_at", "matched_at", "resolved_at", "closed_at", "last_activity_at", "follow_ups", "rating",
               "outcome")


def cases_csv() -> str:
    """Every case as CSV (UTF-8 with BOM so that Excel opens Chinese text correctly)."""
    follow_ups = dict(db.session.execute(
        select(CaseEntry.request_id, func.count()).where(CaseEntry.kind.in_(FOLLOW_UP_KINDS))
        .group_by(CaseEntry.request_id)
    ).all())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for req in db.session.scalars(select(HelpRequest).options(joinedload(HelpRequest.mentor)).order_by(HelpRequest.id)):
        writer.writerow([
            req.id, req.status, _csv_safe(req.business_name), req.industry, req.stage, req.district,
            ";".join(req.difficulties or []), _csv_safe(req.mentor.display_name) if req.mentor else "",
            _iso(req.created_at), _iso(req.matched_at), _iso(req.resolved_at), _iso(req.closed_at),
            _iso(req.last_activity_at), follow_ups.get(req.id, 0), req.rating or "", _csv_safe(req.outcome),
        ])
    return out.getvalue()


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else ""


def _csv_safe(text: str | None) -> str:
    """Text typed by users must not run as a formula when staff open the file in Excel."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
