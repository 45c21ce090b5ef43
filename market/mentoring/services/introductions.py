"""Introductions between a case and mentors: the matcher's suggestions, asking one mentor at
a time, her answer, and moving on to the next when she declines."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from market import audit
from market.extensions import db
from market.mentoring.matcher import available, get_matcher, reasons_as_json, to_request
from market.mentoring.services.access import mentor_profile, visible_case
from market.mentoring.services.common import (
    MentoringError,
    NotFound,
    entry,
    get,
    load_case,
    log,
    move,
    move_introduction,
    move_introductions,
    take_place,
    touch,
    utcnow,
)
from market.mentoring.services.needs import read_needs
from market.mentoring.services.notify import notify_asked, notify_declined, notify_matched
from market.models import Case, CaseDifficulty, CaseInferredNeed, Introduction, MentorProfile, User

SUGGESTIONS = 5
DECLINE_LABELS_CODES = ("busy", "not_my_field", "too_far", "other")


def refresh_suggestions(case: Case, k: int = SUGGESTIONS) -> list[Introduction]:
    """Record the matcher's best mentors for an open case that are not yet introduced."""
    if case.status != "open":
        return []
    matcher = get_matcher()
    if matcher is None:
        return []
    read_needs(case, matcher)
    known = {i.mentor_id for i in case.introductions}
    try:
        matches = matcher.rank(to_request(case), k=k + len(known))
    except ValueError as exc:  # a code the matcher does not know: show none, never a 500
        log.warning("case %s cannot be ranked: %s", case.id, exc)
        return []
    next_rank = max((i.rank for i in case.introductions), default=0)
    added = []
    for match in matches:
        if match.mentor_id in known or len(added) >= k:
            continue
        next_rank += 1
        intro = Introduction(case_id=case.id, mentor_id=int(match.mentor_id), rank=next_rank,
                             score=round(float(match.score), 4), reasons=reasons_as_json(match), source="matcher",
                             status="suggested", created_at=utcnow())
        db.session.add(intro)
        added.append(intro)
    db.session.commit()
    if added:
        log.info("case %s: %s suggestion(s) recorded", case.id, len(added))
    db.session.refresh(case)
    return added


def outstanding_ask(case: Case) -> Introduction | None:
    return next((i for i in case.introductions if i.status == "asked"), None)


def ask_hours() -> int:
    from flask import current_app

    return max(int(current_app.config.get("MENTORING_ASK_HOURS", 72)), 1)


def set_asked(intro: Introduction) -> bool:
    from datetime import timedelta

    now = utcnow()
    return move_introduction(intro.id, "suggested", "asked", asked_at=now,
                             expires_at=now + timedelta(hours=ask_hours()))


def ask_mentor(user: User, case_id: int, introduction_id: int) -> Introduction:
    """She (or staff for her) asks one suggested mentor to help."""
    case, acc = visible_case(user, case_id)
    if not (acc.is_author or acc.is_staff or acc.is_filer):
        raise NotFound(case_id)
    if case.status != "open":
        raise MentoringError(_l("This request already has a mentor or is closed."))
    if outstanding_ask(case) is not None:
        raise MentoringError(_l("You have already asked a mentor; please wait for her answer."))
    intro = next((i for i in case.introductions if i.id == introduction_id), None)
    if intro is None or intro.status != "suggested":
        raise MentoringError(_l("This mentor cannot be asked."))
    if not intro.mentor.matchable or intro.mentor.spare <= 0:
        raise MentoringError(_l("This mentor has no free place just now. Please ask another."))
    if not set_asked(intro):
        db.session.rollback()
        raise MentoringError(_l("This mentor cannot be asked."))
    if not acc.is_author:
        audit.record(user, "case.ask", case, on_behalf_of=("client_profiles", case.profile_id) if case.profile_id
                     else ("users", case.author_id))
    db.session.commit()
    log.info("case %s: mentor %s asked by user=%s", case.id, intro.mentor_id, user.id)
    db.session.refresh(intro)
    notify_asked(intro)
    return intro


def own_asked_introduction(user: User, introduction_id: int) -> Introduction:
    mentor = mentor_profile(user)
    intro = get(Introduction, introduction_id)
    if mentor is None or intro is None or intro.mentor_id != mentor.id:
        raise NotFound(introduction_id)
    if intro.status != "asked":
        raise MentoringError(_l("This request has already been answered."))
    return intro


def accept(user: User, introduction_id: int) -> Case:
    """The asked mentor accepts: she takes one place of her capacity. As the lead mentor
    the case becomes matched; as a second mentor she joins a case already under way.
    Safe under concurrency: her load only grows while it is below her capacity."""
    intro = own_asked_introduction(user, introduction_id)
    mentor_id, case_id, role = intro.mentor_id, intro.case_id, intro.role
    if not take_place(mentor_id):
        db.session.rollback()
        raise MentoringError(_l("You have no free place for another mentee. Finish a case or raise your capacity."))
    case = db.session.get(Case, case_id)
    now = utcnow()
    if role == "lead":
        if case.status != "open" or not move(case, "matched", mentor_id=mentor_id, matched_at=now,
                                             last_activity_at=now):
            db.session.rollback()  # gives the place back too
            raise MentoringError(_l("This request has already been answered."))
    elif case.status not in ("matched", "in_progress", "closure_proposed"):
        db.session.rollback()
        raise MentoringError(_l("This request has already been answered."))
    if not move_introduction(intro.id, "asked", "accepted", decided_at=now):
        db.session.rollback()
        raise MentoringError(_l("This request has already been answered."))
    if role == "lead":
        # The other suggestions are no longer needed (kept for learning, marked as such).
        move_introductions(case.id, "superseded")
        entry(case, user, "status", "matched")
    else:
        entry(case, user, "joined", "")
        touch(case.id)
    db.session.commit()
    log.info("case %s: mentor %s accepted (%s) by user=%s", case.id, mentor_id, role, user.id)
    notify_matched(case, db.session.get(MentorProfile, mentor_id))
    return case


def decline(user: User, introduction_id: int, reason: str = "", code: str = "other") -> Case:
    """The asked mentor declines, saying why; the case moves on to the next suggestion."""
    intro = own_asked_introduction(user, introduction_id)
    code = code if code in DECLINE_LABELS_CODES else ""
    note = " ".join((reason or "").split())[:200]
    if not code:
        raise MentoringError(_l("Say why you cannot help this time."))
    if code == "other" and not note:
        raise MentoringError(_l("Say in a few words why you cannot help."))
    if not move_introduction(intro.id, "asked", "declined", decided_at=utcnow(), decline_code=code,
                             decline_reason=note):
        db.session.rollback()
        raise MentoringError(_l("This request has already been answered."))
    if code == "busy":
        # Availability, not fit: she is not suggested for a while; what she is good at stays.
        from datetime import timedelta

        from flask import current_app

        from market.mentoring.services.common import today

        days = max(int(current_app.config.get("MENTORING_BUSY_DAYS", 14)), 0)
        db.session.execute(update(MentorProfile).where(MentorProfile.id == intro.mentor_id)
                           .values(busy_until=today() + timedelta(days=days))
                           .execution_options(synchronize_session=False))
    db.session.commit()
    log.info("case %s: mentor %s declined (%s)", intro.case_id, intro.mentor_id, code)
    case = load_case(intro.case_id)
    if intro.role == "lead":
        notify_declined(case, intro)
    move_on(case)
    return case


def move_on(case: Case) -> Introduction | None:
    """Ask the next suggested mentor with a free place; fetch new suggestions if none is left.
    Returns the introduction now asked, or None (the case waits for staff)."""
    if case.status != "open" or outstanding_ask(case) is not None:
        return None
    for attempt in range(2):
        for intro in sorted(case.introductions, key=lambda i: i.rank):
            if (intro.status == "suggested" and intro.role == "lead" and available(intro.mentor)
                    and intro.mentor.spare > 0 and set_asked(intro)):
                db.session.commit()
                log.info("case %s moved on: mentor %s asked", case.id, intro.mentor_id)
                notify_asked(intro)
                return intro
        if attempt == 0:
            refresh_suggestions(case)
            case = load_case(case.id)
    log.warning("case %s: no mentor left to ask; staff will follow up", case.id)
    return None


def mentor_home(user: User) -> tuple[MentorProfile | None, list[Introduction], list[Case]]:
    """The mentor's page: asks waiting for her answer and the cases she works on."""
    profile = mentor_profile(user)
    if profile is None:
        return None, [], []
    asks = list(db.session.scalars(
        select(Introduction).where(Introduction.mentor_id == profile.id, Introduction.status == "asked")
        .options(joinedload(Introduction.case)).order_by(Introduction.asked_at)
    ))
    # Her story is on this page for each ask she agreed to share it in: each is a read.
    shown = [i.case for i in asks if i.case.consent_to_share and i.case.author_id != user.id]
    for case in shown:
        audit.record(user, "case.read", case, on_behalf_of=("client_profiles", case.profile_id) if case.profile_id
                     else ("users", case.author_id) if case.author_id else None)
    if shown:
        db.session.commit()
    cases = list(db.session.scalars(
        select(Case).join(Introduction, Introduction.case_id == Case.id)
        .where(Introduction.mentor_id == profile.id, Introduction.status == "accepted")
        .order_by(Case.id.desc())
    ))
    return profile, asks, cases


# ---- needs read from her text: her answer -----------------------------------------------

def answer_need(user: User, case_id: int, code: str, confirm: bool) -> Case:
    """She (or whoever filed for her) confirms or removes a need read in her text; the
    suggestions not yet asked are recomputed."""
    case, acc = visible_case(user, case_id)
    if not (acc.is_author or acc.is_filer):
        raise NotFound(case_id)
    row = db.session.scalar(select(CaseInferredNeed).where(CaseInferredNeed.case_id == case.id,
                                                           CaseInferredNeed.code == code))
    if row is None:
        raise MentoringError(_l("This need was not read in your request."))
    if row.status != "pending":
        raise MentoringError(_l("You already answered this."))
    row.status = "confirmed" if confirm else "removed"
    row.decided_by_id, row.decided_at = user.id, utcnow()
    if confirm and code not in case.difficulties:
        db.session.add(CaseDifficulty(case_id=case.id, code=code, position=len(case.difficulty_items)))
    audit.record(user, "case.need_confirm" if confirm else "case.need_remove", case,
                 on_behalf_of=("client_profiles", case.profile_id) if case.profile_id and not acc.is_author else None)
    db.session.commit()
    log.info("case %s: need %s %s by user=%s", case.id, code, row.status, user.id)
    _resuggest(case.id)
    return load_case(case.id)


def _resuggest(case_id: int) -> None:
    """Suggestions nobody acted on yet are recomputed with the needs as they now are."""
    case = load_case(case_id)
    if case is None or case.status != "open":
        return
    db.session.execute(delete(Introduction).where(Introduction.case_id == case_id, Introduction.status == "suggested",
                                                  Introduction.source == "matcher")
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()
    refresh_suggestions(load_case(case_id))
