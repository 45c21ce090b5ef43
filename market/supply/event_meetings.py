"""Meetings at a matchmaking day: who wants (or refuses) to meet whom, meetings staff add, the
schedule (matching.meetings places them into slot and table), and feedback on each meeting."""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from market import audit, clock
from market.extensions import db
from market.models import Event, EventMeeting, MeetingFeedback, MeetingRequest, Registration, User
from market.supply.common import NotFound, SupplyError, get, notify_user
from market.supply.slots import slot_codes

log = logging.getLogger("market.supply.operations")


def _registration_of(user: User, event: Event) -> Registration:
    reg = db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                       Registration.user_id == user.id,
                                                       Registration.status == "registered"))
    if reg is None:
        raise SupplyError(_l("Register for the event first."))
    return reg


def request_meeting(user: User, event_id: int, to_id: int, status: str = "wanted", score: float = 0.0) -> MeetingRequest:
    """She wants to meet participant `to_id` ("wanted") or refuses to ("refused")."""
    event = get(Event, event_id)
    if event.status != "open":
        raise SupplyError(_l("This event is not open."))
    mine = _registration_of(user, event)
    other = get(Registration, to_id)
    if other.event_id != event.id or other.id == mine.id or other.status == "cancelled":
        raise NotFound(to_id)
    if status not in ("wanted", "refused"):
        raise SupplyError(_l("Unknown decision."))
    row = _pair(event.id, mine.id, other.id)
    if row.status != "staff" or status == "refused":
        row.status = status
    row.score = float(score or 0.0)
    db.session.flush()
    audit.record(user, f"event.meeting_{status}", row)
    db.session.commit()
    return row


def _pair(event_id: int, from_id: int, to_id: int) -> MeetingRequest:
    """The request from one participant to another, made if there is none. A double click
    sends two at the same moment: the one that loses the unique key reads the winner's row."""
    def existing():
        return db.session.scalar(select(MeetingRequest).where(MeetingRequest.from_id == from_id,
                                                              MeetingRequest.to_id == to_id))

    row = existing()
    if row is None:
        row = MeetingRequest(event_id=event_id, from_id=from_id, to_id=to_id)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:  # nothing else is written before this: a rollback loses nothing
            db.session.rollback()
            row = existing()
    return row


def staff_add_meeting(staff: User, event_id: int, a_id: int, b_id: int) -> MeetingRequest:
    event = get(Event, event_id)
    a, b = get(Registration, a_id), get(Registration, b_id)
    if a.event_id != event.id or b.event_id != event.id or a.id == b.id:
        raise SupplyError(_l("Choose two different participants of this event."), field="a")
    row = _pair(event.id, a.id, b.id)
    row.status = "staff"
    db.session.flush()
    audit.record(staff, "event.meeting_staff", row)
    db.session.commit()
    return row


# Weights: a request is worth 1 plus the matcher's score; a mutual request counts double and
# then some (both sides want it); staff-added meetings weigh like a mutual one.
MUTUAL_FACTOR = 2.5
STAFF_WEIGHT = 3.0


def schedule_input(event: Event) -> dict:
    """The scheduler's input (matching.meetings) for this event's current requests."""
    codes = slot_codes(event)
    regs = {r.id: r for r in event.registrations if r.status == "registered"}
    rows = db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id)).all()
    refused = {frozenset((r.from_id, r.to_id)) for r in rows if r.status == "refused"}
    pairs: dict[frozenset, dict] = {}
    for r in rows:
        key = frozenset((r.from_id, r.to_id))
        if r.status == "refused" or key in refused or r.from_id not in regs or r.to_id not in regs:
            continue
        entry = pairs.setdefault(key, {"sides": set(), "staff": False, "score": 0.0})
        entry["sides"].add(r.from_id)
        entry["staff"] |= r.status == "staff"
        entry["score"] = max(entry["score"], r.score)
    requests = []
    for key, entry in pairs.items():
        a, b = sorted(key)
        weight = 1.0 + entry["score"]
        if len(entry["sides"]) == 2:
            weight *= MUTUAL_FACTOR
        if entry["staff"]:
            weight = max(weight, STAFF_WEIGHT)
        requests.append({"a": str(a), "b": str(b), "weight": round(weight, 4)})
    participants = [{"id": str(r.id), "available": r.available_slots or codes} for r in regs.values()]
    return {"slots": codes, "tables": event.tables, "participants": participants, "requests": requests}


def schedule_event(staff: User | None, event_id: int, notify_changes: bool = True, time_limit: float = 3.0):
    """Place the requested meetings into (slot, table) with matching.meetings. A second run
    (after a late cancellation or new requests) passes the current meetings as `previous`, so
    as few as possible move. Every participant gets her agenda by notice."""
    from matching.meetings import schedule

    event = get(Event, event_id)
    if event.status != "open":
        raise SupplyError(_l("This event is not open."))
    data = schedule_input(event)
    current = db.session.scalars(select(EventMeeting).where(EventMeeting.event_id == event.id)).all()
    with_feedback = set(db.session.scalars(select(MeetingFeedback.meeting_id).where(
        MeetingFeedback.meeting_id.in_([m.id for m in current])))) if current else set()
    if with_feedback:
        raise SupplyError(_l("Feedback has been given on this schedule; it can no longer change."))
    known = {p["id"] for p in data["participants"]}
    previous = [{"a": str(m.a_id), "b": str(m.b_id), "slot": m.slot, "table": m.table} for m in current
                if str(m.a_id) in known and str(m.b_id) in known and m.slot in data["slots"]
                and 1 <= m.table <= event.tables]
    result = schedule(data["slots"], data["tables"], data["participants"], data["requests"],
                      previous=previous or None, time_limit=time_limit)
    before = {(m.a_id, m.b_id): (m.slot, m.table) for m in current}
    db.session.execute(delete(EventMeeting).where(EventMeeting.event_id == event.id))
    weight = {frozenset((r["a"], r["b"])): r["weight"] for r in data["requests"]}
    changed: set[int] = set()
    for m in result.meetings:
        a, b = sorted((int(m.a), int(m.b)))
        db.session.add(EventMeeting(event_id=event.id, a_id=a, b_id=b, slot=m.slot, table=m.table,
                                    weight=weight.get(frozenset((m.a, m.b)), 0.0)))
        if before.get((a, b)) != (m.slot, m.table):
            changed |= {a, b}
    for (a, b) in set(before) - {tuple(sorted((int(m.a), int(m.b)))) for m in result.meetings}:
        changed |= {a, b}
    event.scheduled_at = clock.now()
    audit.record(staff, "event.schedule", event)
    if notify_changes:
        for reg in event.registrations:
            if reg.status == "registered" and reg.id in changed:
                notify_user(reg.user, "event_agenda", {"title": event.title, "url": f"/events/{event.id}/agenda"})
    db.session.commit()
    log.info("event %s scheduled: %s meetings, %s unscheduled, %s kept, %s moved", event.id,
             len(result.meetings), len(result.unscheduled), result.kept, len(result.moved))
    return result


def give_feedback(user: User, meeting_id: int, *, met: bool, interesting: bool, deal_expected: bool,
                  deal_signed: bool, value_fen: int | None) -> MeetingFeedback:
    meeting = get(EventMeeting, meeting_id)
    event = db.session.get(Event, meeting.event_id)
    mine = next((r for r in (meeting.a, meeting.b) if r.user_id == user.id), None)
    if mine is None:
        raise NotFound(meeting_id)
    if clock.today() < event.starts_on:
        raise SupplyError(_l("Feedback opens on the day of the event."))
    if value_fen is not None and (not isinstance(value_fen, int) or not 0 <= value_fen <= 10**12):
        raise SupplyError(_l("Enter the deal's value."), field="value")
    if deal_signed and not value_fen:
        raise SupplyError(_l("Enter the deal's value."), field="value")
    row = db.session.get(MeetingFeedback, (meeting.id, mine.id))
    if row is None:
        row = MeetingFeedback(meeting_id=meeting.id, registration_id=mine.id)
        db.session.add(row)
    row.met, row.interesting = bool(met), bool(met and interesting)
    row.deal_expected, row.deal_signed = bool(met and deal_expected), bool(met and deal_signed)
    row.value_fen = value_fen if row.deal_signed else None
    audit.record(user, "event.feedback", ("event_meetings", meeting.id))
    db.session.commit()
    return row
