"""Overdue cases escalate (to the staff of the case's area, then to a supervisor, or by staff
from the queue), mentors hear of tomorrow's follow-ups, and the mentor's follow-ups due this week.

`sweep()` runs the clock-driven part of the loop (expiry, escalation, reminders); the scheduler
calls it every few minutes (`flask --app market mentoring-sweep` does it by hand), tests call it
with their clock."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market import audit, jobs
from market.clock import BEIJING
from market.extensions import db
from market.mentoring import states
from market.mentoring.services.access import mentor_profile
from market.mentoring.services.common import (
    CHANGED,
    MentoringError,
    entry,
    load_case,
    log,
    responsible_staff,
    utcnow,
)
from market.mentoring.services.loop import _reason, _staff_case, _whose, expire_asks
from market.mentoring.services.notify import (
    notify_escalated,
    notify_followup_due,
)
from market.mentoring.services.reports import overdue_condition
from market.models import Case, Introduction, MentorProfile, User


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
