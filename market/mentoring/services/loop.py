"""Keeping every case moving: asks expire and move on, staff withdraw an ask, reassign, ask a
named mentor or add a second one, and a suspended mentor's asks are withdrawn. The rest of the
loop: `closure` (the mentor proposes closure, she confirms or staff verify, staff reopen),
`escalation` (overdue cases escalate, follow-up reminders, the `sweep()` job) and
`mentor_teams` (teams for the case desk)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market import audit
from market.extensions import db
from market.mentoring import states
from market.mentoring.matcher import get_matcher
from market.mentoring.services.access import visible_case
from market.mentoring.services.assignment import new_introduction
from market.mentoring.services.common import (
    CHANGED,
    MentoringError,
    NotFound,
    entry,
    get,
    load_case,
    log,
    move,
    move_introduction,
    move_introductions,
    release_place,
    utcnow,
)
from market.mentoring.services.introductions import move_on, outstanding_ask, set_asked
from market.mentoring.services.notify import (
    notify_asked,
    notify_reasked,
)
from market.models import Case, Introduction, MentorProfile, User


def _staff_case(user: User, case_id: int) -> Case:
    case, acc = visible_case(user, case_id)
    if not acc.is_staff:
        raise NotFound(case_id)
    return case


def _whose(case: Case):
    if case.profile_id is not None:
        return ("client_profiles", case.profile_id)
    return ("users", case.author_id) if case.author_id else None


def _reason(text: str, message) -> str:
    text = (text or "").strip()
    if not 1 <= len(text) <= 2000:
        raise MentoringError(message)
    return text


# ---- asks: expiry, withdrawal, asking a named mentor, a second mentor ----------------------

def expire_asks(now: datetime | None = None) -> int:
    """Asks not answered in time expire; each case moves on to its next suggestion."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Introduction).where(Introduction.status == "asked",
                                                             Introduction.expires_at <= now)))
    expired = 0
    for intro in due:
        if move_introduction(intro.id, "asked", "expired", decided_at=now):
            expired += 1
            db.session.commit()
            log.info("case %s: ask to mentor %s expired", intro.case_id, intro.mentor_id)
            case = load_case(intro.case_id)
            if intro.role == "lead":
                notify_reasked(case, intro)
                move_on(case)
        else:
            db.session.rollback()
    return expired


def withdraw_asks_of_suspended(user_id: int) -> int:
    """Staff suspended a mentor's account: every ask still waiting on her is withdrawn (she can
    no longer answer it), noted on each case, and each case moves on to its next suggestion, as
    when an ask runs out. Returns how many asks were withdrawn."""
    waiting = list(db.session.scalars(
        select(Introduction).join(MentorProfile, MentorProfile.id == Introduction.mentor_id)
        .where(MentorProfile.user_id == user_id, Introduction.status == "asked")))
    why = str(_l("The mentor is no longer available; the ask is withdrawn."))
    withdrawn = 0
    for intro in waiting:
        if not move_introduction(intro.id, "asked", "withdrawn", decided_at=utcnow(), decline_reason=why[:200]):
            db.session.rollback()
            continue
        case = load_case(intro.case_id)
        entry(case, None, "note", why)
        db.session.commit()
        withdrawn += 1
        log.info("case %s: ask to suspended mentor %s withdrawn", intro.case_id, intro.mentor_id)
        if intro.role == "lead":
            db.session.expire(case, ["introductions"])
            notify_reasked(case, intro)
            move_on(case)
    return withdrawn


def _on_user_suspended(user_id: int, **_extra) -> None:
    withdraw_asks_of_suspended(user_id)


def withdraw_ask(staff: User, case_id: int, introduction_id: int, reason: str) -> Introduction:
    case = _staff_case(staff, case_id)
    reason = _reason(reason, _l("Say why the ask is withdrawn."))
    intro = next((i for i in case.introductions if i.id == introduction_id and i.status == "asked"), None)
    if intro is None:
        raise MentoringError(_l("There is no ask waiting to withdraw."))
    if not move_introduction(intro.id, "asked", "withdrawn", decided_at=utcnow(), decline_reason=reason[:200]):
        db.session.rollback()
        raise MentoringError(CHANGED)
    entry(case, staff, "note", reason)
    audit.record(staff, "case.withdraw_ask", case, on_behalf_of=_whose(case))
    db.session.commit()
    return intro


def _ask(staff: User, case: Case, mentor: MentorProfile, role: str) -> Introduction:
    if not mentor.matchable or mentor.spare <= 0:
        raise MentoringError(_l("This mentor has no free place just now. Please ask another."))
    intro = next((i for i in case.introductions if i.mentor_id == mentor.id), None)
    if intro is not None and intro.status == "superseded":
        move_introduction(intro.id, "superseded", "suggested")
        intro.status = "suggested"
    if intro is not None and intro.status != "suggested":
        raise MentoringError(_l("This mentor was already asked for this case."))
    if intro is None:
        intro = new_introduction(case, mentor, get_matcher(), source="staff", role=role)
    else:
        intro.source, intro.role = "staff", role
        db.session.flush()
    if not set_asked(intro):
        db.session.rollback()
        raise MentoringError(CHANGED)
    entry(case, staff, "introduced", mentor.display_name)
    audit.record(staff, f"case.ask_{role}", case, on_behalf_of=_whose(case))
    db.session.commit()
    db.session.refresh(intro)
    notify_asked(intro)
    return intro


def ask_named_mentor(staff: User, case_id: int, mentor_id: int) -> Introduction:
    """Staff ask a mentor they choose (suggested or not) to be the case's mentor."""
    case = _staff_case(staff, case_id)
    mentor = get(MentorProfile, mentor_id)
    if mentor is None:
        raise MentoringError(_l("Choose a mentor."))
    if case.status != "open":
        raise MentoringError(_l("This request already has a mentor or is closed."))
    if outstanding_ask(case) is not None:
        raise MentoringError(_l("A mentor is asked already: withdraw that ask first."))
    return _ask(staff, case, mentor, "lead")


def add_second_mentor(staff: User, case_id: int, mentor_id: int) -> Introduction:
    """A second mentor for a case already under way (another skill, a closer place)."""
    case = _staff_case(staff, case_id)
    mentor = get(MentorProfile, mentor_id)
    if mentor is None:
        raise MentoringError(_l("Choose a mentor."))
    if case.status not in states.MENTORED_CASE_STATES:
        raise MentoringError(_l("A second mentor joins a case that already has its mentor."))
    if any(i.mentor_id == mentor.id and i.status in ("asked", "accepted") for i in case.introductions):
        raise MentoringError(_l("This mentor was already asked for this case."))
    if any(i.role == "second" and i.status == "asked" for i in case.introductions):
        raise MentoringError(_l("A mentor is asked already: withdraw that ask first."))
    return _ask(staff, case, mentor, "second")


def reassign(staff: User, case_id: int, reason: str) -> Case:
    """Release the case's mentor (she cannot go on, or it does not work out): the case is open
    again and moves on to the next suggestion; her place is freed."""
    case = _staff_case(staff, case_id)
    reason = _reason(reason, _l("Say why the case is reassigned."))
    lead = next((i for i in case.introductions if i.status == "accepted" and i.role == "lead"), None)
    if lead is None or case.status not in states.MENTORED_CASE_STATES:
        raise MentoringError(_l("This case has no mentor to release."))
    if not move(case, "open", mentor_id=None, matched_at=None, last_activity_at=utcnow()):
        db.session.rollback()
        raise MentoringError(CHANGED)
    move_introduction(lead.id, "accepted", "released", decided_at=utcnow())
    release_place(lead.mentor_id)
    _revive_suggestions(case.id)
    entry(case, staff, "status", "open")
    entry(case, staff, "note", reason)
    audit.record(staff, "case.reassign", case, on_behalf_of=_whose(case))
    db.session.commit()
    move_on(load_case(case.id))
    return load_case(case.id)


def _revive_suggestions(case_id: int) -> None:
    """The case looks for a mentor again: suggestions set aside when one accepted count again."""
    move_introductions(case_id, "suggested")


__all__ = ["add_second_mentor", "ask_named_mentor", "expire_asks", "reassign", "withdraw_ask",
           "withdraw_asks_of_suspended"]


# Accounts know nothing of the help desk: a suspension reaches it through a signal.
from market import signals  # noqa: E402

signals.user_suspended.connect(_on_user_suspended)
