"""Who hears of each step of a case, through market.notifications. Each function runs after
the step's own commit and commits its notices (delivery follows that commit); the event id
makes a repeated call harmless."""
from __future__ import annotations

from flask import url_for

from market.extensions import db
from market.mentoring.services.common import responsible_staff
from market.models import Case, Introduction, MentorProfile, User
from market.notifications.service import after_the_fact, notify


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request and no SERVER_NAME (CLI, jobs): the path is still useful
        return "/mentoring/" if "case_id" not in values else f"/mentoring/cases/{values['case_id']}"


def her(case: Case):
    """The woman the case is for: her account, else her profile (SMS when she consented)."""
    if case.author_id is not None:
        return case.author
    return case.profile


def _done() -> None:
    db.session.commit()


@after_the_fact
def notify_asked(intro: Introduction) -> None:
    mentor = db.session.get(MentorProfile, intro.mentor_id)
    notify(mentor.user, "case_asked", {"case_id": intro.case_id, "url": _url("mentoring.index")},
           event=f"case_asked:{intro.id}")
    _done()


@after_the_fact
def notify_matched(case: Case, mentor: MentorProfile) -> None:
    url = _url("mentoring.case_page", case_id=case.id)
    notify(her(case), "case_matched", {"case": case, "name": mentor.display_name, "url": url},
           event=f"case_matched:{case.id}:{mentor.id}")
    notify(mentor.user, "case_mentee", {"case": case, "url": url}, event=f"case_mentee:{case.id}:{mentor.id}")
    _done()


@after_the_fact
def notify_declined(case: Case, intro: Introduction) -> None:
    notify(her(case), "case_declined", {"case": case, "url": _url("mentoring.case_page", case_id=case.id)},
           event=f"case_declined:{intro.id}")
    _done()


@after_the_fact
def notify_reasked(case: Case, expired: Introduction) -> None:
    """The ask ran out and the case moved on: she hears of it, and so do the area's staff."""
    url = _url("mentoring.case_page", case_id=case.id)
    notify(her(case), "case_reasked", {"case": case, "url": url}, event=f"case_reasked:{expired.id}")
    for person in responsible_staff(case, "staff"):
        notify(person, "case_expired", {"case": case, "url": url}, event=f"case_expired:{expired.id}")
    _done()


@after_the_fact
def notify_new_case(case: Case) -> list[User]:
    """A new case reaches the staff responsible for its area (all staff when nobody is). Returns
    who was told, for pages that say so."""
    told = responsible_staff(case, "staff")
    for person in told:
        notify(person, "case_new", {"case": case, "url": _url("mentoring.case_page", case_id=case.id)},
               event=f"case_new:{case.id}")
    _done()
    return told


@after_the_fact
def notify_closure_proposed(case: Case) -> None:
    url = _url("mentoring.case_page", case_id=case.id)
    notify(her(case), "closure_proposed", {"case": case, "url": url}, event=f"closure_proposed:{case.id}:{case.closure_proposed_at}")
    if case.author_id is None and case.filed_by is not None:
        # filed on her behalf: the person who filed it confirms with her
        notify(case.filed_by, "closure_proposed", {"case": case, "url": url},
               event=f"closure_proposed:{case.id}:{case.closure_proposed_at}")
    _done()


@after_the_fact
def notify_reopened(case: Case, reason: str, mentors: list[User]) -> None:
    url = _url("mentoring.case_page", case_id=case.id)
    for person in [her(case), *mentors]:
        notify(person, "case_reopened", {"case": case, "reason": reason, "url": url},
               event=f"case_reopened:{case.id}:{case.last_activity_at}")
    _done()


@after_the_fact
def notify_escalated(person: User, case: Case, level: int) -> None:
    kind = "case_escalated" if level == 1 else "case_escalated_supervisor"
    notify(person, kind, {"case": case, "url": _url("mentoring.case_page", case_id=case.id)},
           event=f"case_escalated:{case.id}:{level}")
    _done()


@after_the_fact
def notify_followup_due(case: Case, mentor: User, due) -> None:
    notify(mentor, "followup_due", {"case": case, "due": due.isoformat(),
                                    "url": _url("mentoring.case_page", case_id=case.id)},
           event=f"followup_due:{case.id}:{due.isoformat()}")
    _done()
