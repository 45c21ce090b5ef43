"""Keeping every case moving: asks expire and move on, staff withdraw an ask, reassign, ask a
named mentor or add a second one, overdue cases escalate (to the staff of the case's area,
then to a supervisor), the mentor proposes closure with a result per difficulty, she confirms
(or staff verify, for cases filed on her behalf), and staff reopen with a reason.

`sweep()` runs the clock-driven part (expiry, escalation); the scheduler calls it every few
minutes (`flask --app market mentoring-sweep` does it by hand), tests call it with their clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market import audit, jobs
from market.clock import BEIJING
from market.extensions import db
from market.mentoring import states
from market.mentoring.matcher import get_matcher, to_request
from market.mentoring.services.access import mentor_profile, visible_case
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
    move_difficulty,
    move_introduction,
    move_introductions,
    release_place,
    responsible_staff,  # noqa: F401  (part of this module's API)
    take_place,
    utcnow,
)
from market.mentoring.services.introductions import move_on, outstanding_ask, set_asked
from market.mentoring.services.notify import (
    notify_asked,
    notify_closure_proposed,
    notify_escalated,
    notify_followup_due,
    notify_reasked,
    notify_reopened,
)
from market.mentoring.services.reports import overdue_condition
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


# ---- closure ---------------------------------------------------------------------------------

@dataclass
class DifficultyResult:
    difficulty_id: int
    status: str  # solved | unsolvable | in_hand (not done yet)
    result: str


def propose_closure(user: User, case_id: int, results: list[DifficultyResult], summary: str) -> Case:
    """The mentor says the work is done: a result for every difficulty."""
    case, acc = visible_case(user, case_id)
    if not acc.is_mentor:
        raise NotFound(case_id)
    if case.status not in ("matched", "in_progress"):
        raise states.InvalidTransition(_l("Only a case being worked on can be proposed for closure."))
    summary = _reason(summary, _l("Sum up what was done."))
    given = {r.difficulty_id: r for r in results}
    for item in case.difficulty_items:
        r = given.get(item.id)
        if r is None or r.status not in ("solved", "unsolvable") or not (r.result or "").strip():
            raise MentoringError(_l("Give a result for every difficulty: solved or cannot be solved here."))
        if len(r.result) > 4000:
            raise MentoringError(_l("Measures and result: at most 4000 characters each."))
    now = utcnow()
    if not move(case, "closure_proposed", closure_proposed_at=now, last_activity_at=now):
        db.session.rollback()
        raise MentoringError(CHANGED)
    for item in case.difficulty_items:
        r = given[item.id]
        if item.status != r.status:
            if not states.can(item.status, r.status, "difficulty"):
                move_difficulty(item, "in_hand")  # taken up again before its new result
                db.session.refresh(item)
            move_difficulty(item, r.status, result=r.result.strip())
        else:
            item.result = r.result.strip()
    entry(case, user, "measure", summary)
    entry(case, user, "status", "closure_proposed")
    db.session.commit()
    notify_closure_proposed(case)
    return case


def _close_resolved(case: Case, actor: User, **values) -> None:
    now = utcnow()
    if not move(case, "resolved", resolved_at=now, last_activity_at=now, **values):
        db.session.rollback()
        raise MentoringError(CHANGED)
    for intro in case.introductions:
        if intro.status == "accepted":
            release_place(intro.mentor_id)
    entry(case, actor, "status", "resolved")


def confirm_closure(user: User, case_id: int, rating: int, outcome: str) -> Case:
    """She confirms her difficulties are dealt with, rates the help, says what changed."""
    case, acc = visible_case(user, case_id)
    if not acc.is_author:
        raise NotFound(case_id)
    if case.status != "closure_proposed":
        raise states.InvalidTransition(_l("Nothing to confirm: the mentor has not proposed closing."))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise MentoringError(_l("Rate the help from 1 to 5 stars."))
    outcome = _reason(outcome, _l("Tell us in a few words what changed for your business."))
    _close_resolved(case, user, rating=rating, outcome=outcome)
    db.session.commit()
    return case


def not_yet(user: User, case_id: int, reason: str) -> Case:
    """She (or staff for her) says it is not done: back to work."""
    case, acc = visible_case(user, case_id)
    if not (acc.is_author or acc.is_staff or acc.is_filer):
        raise NotFound(case_id)
    reason = _reason(reason, _l("Say what is still missing."))
    if case.status != "closure_proposed" or not move(case, "in_progress", closure_proposed_at=None,
                                                     last_activity_at=utcnow()):
        db.session.rollback()
        raise states.InvalidTransition(_l("Nothing to confirm: the mentor has not proposed closing."))
    entry(case, user, "note", reason)
    entry(case, user, "status", "in_progress")
    if not acc.is_author:
        audit.record(user, "case.not_yet", case, on_behalf_of=_whose(case))
    db.session.commit()
    return case


def verify_closure(staff: User, case_id: int, note: str) -> Case:
    """Staff sign off a case filed on her behalf (after checking with her: say how)."""
    case = _staff_case(staff, case_id)
    if case.status != "closure_proposed":
        raise states.InvalidTransition(_l("Nothing to confirm: the mentor has not proposed closing."))
    note = _reason(note, _l("Say how you checked with her."))
    _close_resolved(case, staff, verified_by_id=staff.id, outcome=case.outcome or note)
    entry(case, staff, "call", note)
    audit.record(staff, "case.verify", case, on_behalf_of=_whose(case))
    db.session.commit()
    return case


def reopen(staff: User, case_id: int, reason: str) -> Case:
    """A closed case is not done after all. Her mentor takes it up again if she has a place;
    otherwise it is open for a new mentor."""
    case = _staff_case(staff, case_id)
    reason = _reason(reason, _l("Say why the case is reopened."))
    if case.status not in ("resolved", "closed_unresolved"):
        raise states.InvalidTransition(_l("Only a closed case can be reopened."))
    lead = next((i for i in case.introductions if i.status == "accepted" and i.role == "lead"), None)
    now = utcnow()
    if lead is not None and take_place(lead.mentor_id):
        ok = move(case, "in_progress", resolved_at=None, closed_at=None, last_activity_at=now, escalation_level=0)
        for intro in case.introductions:
            if intro.status == "accepted" and intro.id != lead.id:
                move_introduction(intro.id, "accepted", "released", decided_at=now)
    else:
        ok = move(case, "open", mentor_id=None, matched_at=None, resolved_at=None, closed_at=None,
                  last_activity_at=now, escalation_level=0)
        for intro in case.introductions:
            if intro.status == "accepted":
                move_introduction(intro.id, "accepted", "released", decided_at=now)
        _revive_suggestions(case.id)
    if not ok:
        db.session.rollback()
        raise MentoringError(CHANGED)
    entry(case, staff, "status", case.status)
    entry(case, staff, "note", reason)
    audit.record(staff, "case.reopen", case, on_behalf_of=_whose(case))
    db.session.commit()
    notify_reopened(case, reason, [i.mentor.user for i in case.introductions if i.status == "accepted"])
    if case.status == "open":
        move_on(load_case(case.id))
    return load_case(case.id)


# ---- escalation --------------------------------------------------------------------------------

def _days(name: str) -> int:
    return max(int(current_app.config.get(name, 0) or 0), 0)


def escalate_overdue(now: datetime | None = None) -> list[tuple[int, int]]:
    """Overdue cases climb the rules in configuration: after ESCALATE_STAFF_AFTER_DAYS the staff
    of the case's area are told, after ESCALATE_SUPERVISOR_AFTER_DAYS more a supervisor.
    Returns (case id, new level) pairs."""
    now = now or utcnow()
    staff_days, supervisor_days = _days("ESCALATE_STAFF_AFTER_DAYS"), _days("ESCALATE_SUPERVISOR_AFTER_DAYS")
    done = []
    for case in db.session.scalars(select(Case).where(overdue_condition(now), Case.escalation_level < 2)):
        if case.escalation_level == 0:
            since = _overdue_since(case)
            if since is None or now - since < timedelta(days=staff_days):
                continue
            level, role = 1, "staff"
        else:
            if not supervisor_days or case.escalated_at is None or now - case.escalated_at < timedelta(
                    days=supervisor_days):
                continue
            level, role = 2, "supervisor"
        moved = db.session.execute(
            update(Case).where(Case.id == case.id, Case.escalation_level == level - 1)
            .values(escalation_level=level, escalated_at=now).execution_options(synchronize_session=False)
        ).rowcount == 1
        if not moved:
            db.session.rollback()
            continue
        entry(case, None, "status", f"escalated_{level}")
        audit.record(None, f"case.escalate.{role}", case)
        db.session.commit()
        for person in responsible_staff(case, role):
            notify_escalated(person, case, level)
        done.append((case.id, level))
        log.warning("case %s escalated to level %s (%s)", case.id, level, role)
    return done


def _overdue_since(case: Case) -> datetime | None:
    limit = timedelta(days=int(current_app.config.get("CASE_OVERDUE_DAYS", 14)))
    by_silence = (case.last_activity_at or case.created_at) + limit
    # A planned follow-up is missed once its day (in Beijing) is over.
    by_missed = datetime.combine(case.next_follow_up_on + timedelta(days=1), datetime.min.time()) - BEIJING \
        if case.next_follow_up_on else None
    return min(d for d in (by_silence, by_missed) if d is not None)


def remind_followups(now: datetime | None = None) -> int:
    """Each mentor hears the day before a planned follow-up (once per case and date)."""
    now = now or utcnow()
    tomorrow = (now + BEIJING).date() + timedelta(days=1)
    rows = db.session.execute(
        select(Case, MentorProfile).join(Introduction, Introduction.case_id == Case.id)
        .join(MentorProfile, MentorProfile.id == Introduction.mentor_id)
        .where(Introduction.status == "accepted", Case.status.in_(states.MENTORED_CASE_STATES),
               Case.next_follow_up_on == tomorrow)).all()
    for case, mentor in rows:
        notify_followup_due(case, mentor.user, case.next_follow_up_on)
    return len(rows)


@jobs.task("mentoring_sweep", every=300)
def sweep(now: datetime | None = None) -> dict:
    """The clock-driven part of the loop: expire asks, escalate overdue cases, remind mentors
    of tomorrow's follow-ups."""
    now = now or utcnow()
    return {"expired": expire_asks(now), "escalated": len(escalate_overdue(now)),
            "reminded": remind_followups(now)}


def due_this_week(user: User) -> list[Case]:
    """The mentor's follow-ups due within seven days (or missed)."""
    from market.mentoring.services.common import today

    profile = mentor_profile(user)
    if profile is None:
        return []
    return list(db.session.scalars(
        select(Case).join(Introduction, Introduction.case_id == Case.id)
        .where(Introduction.mentor_id == profile.id, Introduction.status == "accepted",
               Case.status.in_(states.MENTORED_CASE_STATES), Case.next_follow_up_on.is_not(None),
               Case.next_follow_up_on <= today() + timedelta(days=7))
        .order_by(Case.next_follow_up_on)
    ))


__all__ = ["DifficultyResult", "add_second_mentor", "ask_named_mentor", "confirm_closure", "due_this_week",
           "escalate_overdue", "expire_asks", "not_yet", "propose_closure", "reassign", "reopen",
           "responsible_staff", "sweep", "verify_closure", "withdraw_ask"]


# ---- teams for the case desk --------------------------------------------------------------

def team_suggestions(case: Case, k: int = 3) -> list[dict]:
    """Small complementary teams for an open case (staff see them on the case desk):
    [{"coverage", "members": [(MentorProfile, [difficulty codes])], "uncovered"}]."""
    matcher = get_matcher()
    if matcher is None:
        return []
    try:
        teams = matcher.rank_teams(to_request(case), k=k, max_size=3)
    except ValueError as exc:
        log.warning("case %s: no teams: %s", case.id, exc)
        return []
    out = []
    for team in teams:
        if len(team.members) < 2:
            continue  # a single mentor is already among the suggestions
        profiles = [db.session.get(MentorProfile, int(m.mentor_id)) for m in team.members]
        if any(p is None for p in profiles):
            continue
        out.append({"coverage": team.coverage, "uncovered": list(team.uncovered),
                    "members": [(p, list(m.covers)) for p, m in zip(profiles, team.members, strict=True)],
                    "mentor_ids": [p.id for p in profiles]})
    return out


def ask_team(staff: User, case_id: int, mentor_ids: list[int]):
    """The case desk asks a team: the first member is asked as the case's mentor now; the
    others are recorded as the team's planned second mentors (staff ask them to join, one at a
    time, once the first has accepted: one ask at a time keeps answers clear)."""
    if not mentor_ids or len(mentor_ids) != len(set(mentor_ids)) or len(mentor_ids) > 3:
        raise MentoringError(_l("Choose a team of up to three different mentors."))
    intro = ask_named_mentor(staff, case_id, mentor_ids[0])
    case = load_case(case_id)
    known = {i.mentor_id: i for i in case.introductions}
    matcher = get_matcher()
    for mentor_id in mentor_ids[1:]:
        mentor = db.session.get(MentorProfile, mentor_id)
        if mentor is None:
            continue
        if mentor_id in known:
            if known[mentor_id].status == "suggested":  # planned for the team, not the next lead
                known[mentor_id].role, known[mentor_id].source = "second", "staff"
            continue
        new_introduction(case, mentor, matcher, source="staff", role="second")
    audit.record(staff, "case.ask_team", case)
    db.session.commit()
    return intro


def escalate_case(staff: User, case_id: int, reason: str) -> Case:
    """Staff hand an active case to a supervisor now (from the queue), with a reason."""
    case = _staff_case(staff, case_id)
    reason = _reason(reason, _l("Say why the case goes to a supervisor."))
    if case.status not in states.ACTIVE_CASE_STATES:
        raise MentoringError(_l("Only an active case can be escalated."))
    if case.escalation_level >= 2:
        raise MentoringError(_l("A supervisor already has this case."))
    now = utcnow()
    moved = db.session.execute(
        update(Case).where(Case.id == case.id, Case.escalation_level == case.escalation_level)
        .values(escalation_level=2, escalated_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not moved:
        db.session.rollback()
        raise MentoringError(CHANGED)
    entry(case, staff, "status", "escalated_2")
    entry(case, staff, "note", reason)
    audit.record(staff, "case.escalate.supervisor", case, on_behalf_of=_whose(case))
    db.session.commit()
    for person in responsible_staff(case, "supervisor"):
        notify_escalated(person, case, 2)
    log.warning("case %s escalated to a supervisor by staff=%s", case.id, staff.id)
    return load_case(case.id)


# Accounts know nothing of the help desk: a suspension reaches it through a signal.
from market import signals  # noqa: E402

signals.user_suspended.connect(_on_user_suspended)
