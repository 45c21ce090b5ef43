"""Staff's global assignment: a capacity-aware proposal for every waiting case, reviewed and
sent as asks. Waiting cases include those whose ask is stuck (unanswered for
MENTORING_STUCK_ASK_HOURS): sending another mentor for one withdraws the stuck ask first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from market import audit
from market.extensions import db
from market.mentoring.matcher import get_matcher, reasons_as_json, to_request
from market.mentoring.services.common import entry, get, load_case, log, move_introduction, utcnow
from market.mentoring.services.introductions import outstanding_ask, set_asked
from market.mentoring.services.notify import notify_asked
from market.models import Case, Introduction, MentorProfile, User


@dataclass
class ProposedPair:
    case: Case
    mentor: MentorProfile | None
    score: float
    reasons: list[dict]
    stuck_ask: Introduction | None = None  # an unanswered ask this proposal would withdraw

    @property
    def request(self) -> Case:
        return self.case


def stuck_before(now: datetime | None = None) -> datetime:
    hours = max(int(current_app.config.get("MENTORING_STUCK_ASK_HOURS", 48)), 1)
    return (now or utcnow()) - timedelta(hours=hours)


def stuck_ask(case: Case, now: datetime | None = None) -> Introduction | None:
    limit = stuck_before(now)
    return next((i for i in case.introductions if i.status == "asked" and i.role == "lead"
                 and i.asked_at is not None and i.asked_at <= limit), None)


def waiting_cases(now: datetime | None = None) -> list[Case]:
    """Open cases with nobody asked, or whose ask is stuck: the ones a global assignment may place."""
    asked = select(Introduction.case_id).where(Introduction.status == "asked")
    stuck = select(Introduction.case_id).where(Introduction.status == "asked", Introduction.role == "lead",
                                               Introduction.asked_at <= stuck_before(now))
    return list(db.session.scalars(
        select(Case).where(Case.status == "open", or_(Case.id.not_in(asked), and_(Case.id.in_(stuck))))
        .order_by(Case.created_at, Case.id)
    ))


def propose_assignment() -> tuple[list[ProposedPair], list[MentorProfile]]:
    """A capacity-aware assignment of every waiting case, for staff to review."""
    cases = waiting_cases()
    mentors = list(db.session.scalars(select(MentorProfile).join(User, User.id == MentorProfile.user_id)
                                      .where(MentorProfile.status == "approved", MentorProfile.paused.is_(False),
                                             User.active.is_(True))
                                      .order_by(MentorProfile.display_name)))
    matcher = get_matcher()
    if not cases or matcher is None:
        return [ProposedPair(c, None, 0.0, [], stuck_ask(c)) for c in cases], mentors
    by_id = {m.id: m for m in mentors}
    result = matcher.assign([to_request(c) for c in cases])
    placed = {cid: (mid, score) for cid, mid, score in result.pairs}
    proposal = []
    for case in cases:
        mid, score = placed.get(case.id, (None, 0.0))
        mentor = by_id.get(int(mid)) if mid is not None else None
        reasons = reasons_as_json(matcher.explain(to_request(case), mid)) if mentor else []
        stuck = stuck_ask(case)
        if stuck is not None and mentor is not None and mentor.id == stuck.mentor_id:
            mentor = None  # she has not answered: propose someone else or nobody
        proposal.append(ProposedPair(case, mentor, float(score) if mentor else 0.0, reasons if mentor else [], stuck))
    return proposal, mentors


def confirm_assignment(staff: User, pairs: dict[int, int | None]) -> tuple[int, list[int]]:
    """Send the reviewed pairs ({case_id: mentor_id}) as introductions the mentors answer.
    Returns (how many were sent, case ids skipped because they changed or the mentor is full)."""
    sent, skipped = 0, []
    planned: dict[int, int] = {}
    asked: list[Introduction] = []
    matcher = get_matcher()
    for case_id, mentor_id in sorted(pairs.items()):
        if mentor_id is None:
            continue
        case = load_case(case_id)
        mentor = get(MentorProfile, mentor_id)
        pending = outstanding_ask(case) if case is not None else None
        stuck = stuck_ask(case) if case is not None else None
        if (case is None or mentor is None or case.status != "open" or (pending is not None and pending is not stuck)
                or (stuck is not None and stuck.mentor_id == mentor.id)
                or not mentor.matchable or mentor.spare - planned.get(mentor.id, 0) <= 0):
            skipped.append(case_id)
            continue
        if stuck is not None:
            why = str(_l("%(name)s did not answer; the ask is withdrawn.", name=stuck.mentor.display_name))
            if not move_introduction(stuck.id, "asked", "withdrawn", decided_at=utcnow(), decline_reason=why[:200]):
                skipped.append(case_id)  # answered meanwhile: nothing changed
                continue
            entry(case, staff, "note", why)
            audit.record(staff, "case.withdraw_ask", case)
            db.session.expire(case, ["introductions"])
        intro = next((i for i in case.introductions if i.mentor_id == mentor_id), None)
        if intro is not None and intro.status != "suggested":
            skipped.append(case_id)  # she already declined or was withdrawn: do not ask again
            continue
        if intro is None:
            intro = new_introduction(case, mentor, matcher, source="staff")
        else:
            intro.source = "staff"
            db.session.flush()
        set_asked(intro)
        asked.append(intro)
        planned[mentor.id] = planned.get(mentor.id, 0) + 1
        entry(case, staff, "introduced", mentor.display_name)
        sent += 1
    db.session.commit()
    log.info("global assignment confirmed by staff=%s: %s sent, %s skipped", staff.id, sent, len(skipped))
    for intro in asked:
        notify_asked(intro)
    return sent, skipped


def new_introduction(case: Case, mentor: MentorProfile, matcher=None, *, source: str, role: str = "lead") -> Introduction:
    match = None
    if matcher is not None:
        try:
            match = matcher.explain(to_request(case), mentor.id)
        except ValueError:  # not indexed yet (approved since the last fit): no reasons
            match = None
    intro = Introduction(case_id=case.id, mentor_id=mentor.id, rank=0, source=source, role=role,
                         status="suggested", created_at=utcnow(),
                         score=round(float(match.score), 4) if match else 0.0,
                         reasons=reasons_as_json(match) if match else [])
    db.session.add(intro)
    db.session.flush()
    return intro
