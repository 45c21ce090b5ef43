"""Training, lectures and job fairs on the supply module's one event model (its registration
with capacity and waiting list, withdrawal moving the list up, and check-in are reused as they
are), plus what these kinds add: a reminder the day before (mail and SMS through notify) and a
short feedback form afterwards. And job posts by organisations staff approved, which women
browse by area and kind."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from market import areas, audit, clock, jobs
from market.extensions import db
from market.models import Area, Event, EventFeedback, JobPost, Organisation, Registration, User
from market.models.outreach import JOB_KINDS
from market.outreach.common import NotFound, OutreachError

OUTREACH_EVENT_KINDS = ("training", "lecture", "job_fair")


def _get(model, ident):
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**31:
        return None
    return db.session.get(model, ident)


def upcoming(kind: str | None = None) -> list[Event]:
    kinds = (kind,) if kind in OUTREACH_EVENT_KINDS else OUTREACH_EVENT_KINDS
    return list(db.session.scalars(select(Event).where(Event.kind.in_(kinds), Event.status == "open",
                                                       Event.starts_on >= clock.today() - timedelta(days=7))
                                   .order_by(Event.starts_on, Event.id)))


def my_registrations(user: User) -> dict[int, Registration]:
    if not user.is_authenticated:
        return {}
    return {r.event_id: r for r in db.session.scalars(select(Registration).where(Registration.user_id == user.id))}


@jobs.task("outreach_event_reminders", every=3600)
def send_reminders(today: date | None = None) -> int:
    """Everyone registered for a training, lecture or job fair that starts tomorrow (Beijing) is
    reminded once (the notice's event key makes repeated runs harmless). Returns how many."""
    from market.notifications import notify

    tomorrow = (today or clock.today()) + timedelta(days=1)
    regs = list(db.session.scalars(select(Registration).join(Event, Event.id == Registration.event_id).where(
        Event.kind.in_(OUTREACH_EVENT_KINDS), Event.status == "open", Event.starts_on == tomorrow,
        Registration.status == "registered").options(joinedload(Registration.event))))
    sent = 0
    for reg in regs:
        ev = reg.event
        if notify(reg.user, "event_reminder", {"title": ev.title, "day": ev.starts_on.isoformat(),
                                               "place": ev.venue or "", "url": f"/events/{ev.id}"},
                  event=f"event_reminder:{ev.id}:{reg.id}"):
            sent += 1
    db.session.commit()
    return sent


def give_feedback(user: User, event_id: int, rating: int, useful: bool, comment: str) -> EventFeedback:
    ev = _get(Event, event_id)
    if ev is None or ev.kind not in OUTREACH_EVENT_KINDS:
        raise NotFound(event_id)
    reg = db.session.scalar(select(Registration).where(Registration.event_id == ev.id, Registration.user_id == user.id,
                                                       Registration.status == "registered"))
    if reg is None:
        raise OutreachError(_l("Only participants can give feedback."))
    if clock.today() < ev.starts_on:
        raise OutreachError(_l("Feedback opens on the day of the event."))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise OutreachError(_l("Rate the event from 1 to 5."))
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise OutreachError(_l("At most 2000 characters."))
    row = db.session.get(EventFeedback, (ev.id, user.id))
    if row is None:
        row = EventFeedback(event_id=ev.id, user_id=user.id, rating=rating, created_at=clock.now())
        db.session.add(row)
    row.rating, row.useful, row.comment = rating, bool(useful), comment
    audit.record(user, "event.feedback", ev)
    db.session.commit()
    return row


def feedback_of(event_id: int) -> list[EventFeedback]:
    return list(db.session.scalars(select(EventFeedback).where(EventFeedback.event_id == event_id)))


# ---- job posts -------------------------------------------------------------------------------

@dataclass
class JobData:
    organisation_id: int
    position: str
    kind: str
    area_id: int | None
    place: str
    pay_min_fen: int
    pay_max_fen: int
    hours: str
    contact: str
    valid_until: date | None


def employer_organisations(user: User) -> list[Organisation]:
    from market.supply.operations import organisations_of

    return [o for o in organisations_of(user) if o.status == "approved"] if user.is_authenticated else []


def post_job(user: User, data: JobData) -> JobPost:
    org = _get(Organisation, data.organisation_id)
    if org is None or org not in employer_organisations(user):
        raise OutreachError(_l("Only organisations approved by staff can post jobs."))
    position = " ".join((data.position or "").split())
    if not 2 <= len(position) <= 120:
        raise OutreachError(_l("Enter the position (2 to 120 characters)."))
    if data.kind not in JOB_KINDS:
        raise OutreachError(_l("Choose from the list."))
    area = _get(Area, data.area_id) if data.area_id else None
    if area is None:
        raise OutreachError(_l("Choose where the job is."))
    for v in (data.pay_min_fen, data.pay_max_fen):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10**9:
            raise OutreachError(_l("Enter the monthly pay range in yuan."))
    if data.pay_max_fen < data.pay_min_fen:
        raise OutreachError(_l("The highest pay cannot be below the lowest."))
    if data.valid_until is None or data.valid_until < clock.today():
        raise OutreachError(_l("Choose until when the post is valid (from today on)."))
    contact = " ".join((data.contact or "").split())[:120]
    if not contact:
        raise OutreachError(_l("Say how to apply (a phone number or an address)."))
    top = area
    while top.parent_id is not None:
        top = db.session.get(Area, top.parent_id)
    row = JobPost(organisation_id=org.id, position=position, kind=data.kind, area_id=area.id, district=top.name,
                  place=" ".join((data.place or "").split())[:200], pay_min_fen=data.pay_min_fen,
                  pay_max_fen=data.pay_max_fen, hours=" ".join((data.hours or "").split())[:120], contact=contact,
                  valid_until=data.valid_until, created_by_id=user.id, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(user, "job.post", row)
    db.session.commit()
    return row


def browse_jobs(area_id: int | None = None, kind: str | None = None) -> list[JobPost]:
    stmt = select(JobPost).join(Organisation, Organisation.id == JobPost.organisation_id).where(
        JobPost.valid_until >= clock.today(), Organisation.status == "approved")
    if area_id:
        stmt = stmt.where(JobPost.area_id.in_(areas.subtree_ids({area_id})))
    if kind in JOB_KINDS:
        stmt = stmt.where(JobPost.kind == kind)
    return list(db.session.scalars(stmt.options(joinedload(JobPost.organisation))
                                   .order_by(JobPost.valid_until, JobPost.id)))
