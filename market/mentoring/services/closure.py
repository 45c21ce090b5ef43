"""Closing a case: the mentor proposes closure with a result per difficulty, she confirms (or
staff verify, for cases filed on her behalf) or says not yet, and staff reopen with a reason."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from market import audit
from market.extensions import db
from market.mentoring import states
from market.mentoring.services.access import visible_case
from market.mentoring.services.common import (
    CHANGED,
    MentoringError,
    NotFound,
    entry,
    load_case,
    move,
    move_difficulty,
    move_introduction,
    release_place,
    take_place,
    utcnow,
)
from market.mentoring.services.introductions import move_on
from market.mentoring.services.loop import _reason, _revive_suggestions, _staff_case, _whose
from market.mentoring.services.notify import (
    notify_closure_proposed,
    notify_reopened,
)
from market.models import Case, User


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
