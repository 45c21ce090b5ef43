"""The case log: typed follow-ups with the day they happened and the next follow-up date."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from market import audit
from market.extensions import db
from market.mentoring.services.access import visible_case
from market.mentoring.services.common import (
    MentoringError,
    NotFound,
    entry,
    log,
    move,
    today,
    utcnow,
)
from market.models import Case, CaseEntry, User

LOG_LABELS = {
    "visit": _l("Visit"),
    "call": _l("Phone call"),
    "wechat": _l("WeChat"),
    "meeting": _l("Meeting"),
    "measure": _l("Measure taken"),
    "note": _l("Note"),
    "status": _l("Status"),
    "introduced": _l("Introduced by staff"),
    "joined": _l("Second mentor joined"),
}
# Written by the system, never typed by a person.
SYSTEM_LOG_KINDS = ("status", "introduced", "joined")
FOLLOW_UP_KINDS = ("visit", "call", "wechat", "meeting", "measure")
TYPED_KINDS = tuple(k for k in LOG_LABELS if k not in SYSTEM_LOG_KINDS)


def add_entry(user: User, case_id: int, kind: str, body: str, happened_on: date | None = None,
              next_follow_up_on: date | None = None) -> CaseEntry:
    """Log a follow-up on a case. The first follow-up by a mentor or staff puts a matched
    case in progress; a next follow-up date becomes the case's."""
    case, acc = visible_case(user, case_id)
    if not acc.can_log and not acc.closed:
        raise NotFound(case_id)
    if kind not in TYPED_KINDS:
        raise MentoringError(_l("Choose what kind of follow-up this was."))
    if kind != "note" and not acc.log_kinds_all:
        raise MentoringError(_l("Only the mentor or federation staff record follow-ups; you can add a note."))
    body = (body or "").strip()
    if not 1 <= len(body) <= 4000:
        raise MentoringError(_l("Write what happened (at most 4000 characters)."))
    if acc.closed:
        raise MentoringError(_l("This case is closed."))
    happened_on = happened_on or today()
    if happened_on > today():
        raise MentoringError(_l("The date cannot be in the future."))
    if happened_on < (case.created_at.date() if case.created_at else happened_on):
        raise MentoringError(_l("The date cannot be before the case was filed."))
    if next_follow_up_on is not None and not happened_on <= next_follow_up_on:
        raise MentoringError(_l("The next follow-up cannot be before this one."))
    if next_follow_up_on is not None and (next_follow_up_on - today()).days > 366:
        raise MentoringError(_l("Plan the next follow-up within a year."))
    now = utcnow()
    if case.status == "matched" and kind in FOLLOW_UP_KINDS and acc.log_kinds_all:
        move(case, "in_progress", last_activity_at=now)
        entry(case, user, "status", "in_progress")
    row = entry(case, user, kind, body, happened_on, next_follow_up_on)
    values = {"last_activity_at": now, "escalation_level": 0, "escalated_at": None}
    if next_follow_up_on is not None or kind in FOLLOW_UP_KINDS:
        # A follow-up done clears the date it answered; a new date is the case's next one.
        values["next_follow_up_on"] = next_follow_up_on
    db.session.execute(update(Case).where(Case.id == case.id).values(**values)
                       .execution_options(synchronize_session=False))
    if case.on_behalf and not acc.is_mentor:
        audit.record(user, "case.log", case, on_behalf_of=("client_profiles", case.profile_id))
    db.session.commit()
    log.info("case %s: %s logged by user=%s", case.id, kind, user.id)
    return row


def timeline(case: Case) -> list[CaseEntry]:
    """The log by the day things happened (then by the order they were written)."""
    return sorted(case.entries, key=lambda e: (e.happened_on or e.created_at.date(), e.id))
