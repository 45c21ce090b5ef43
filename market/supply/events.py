"""Events (matchmaking days, training, lectures, job fairs): create and cancel them, register
(with a waiting list), withdraw, check in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from market import audit, clock
from market.extensions import db
from market.models import Event, Organisation, Registration, User
from market.models.supply import EVENT_ELIGIBILITY, EVENT_KINDS
from market.supply.common import SupplyError, acting_org, clean, count, get, notify_user
from market.supply.event_meetings import schedule_event
from market.supply.slots import slot_codes


@dataclass
class EventData:
    title: str
    kind: str = "matchmaking"
    description: str = ""
    venue: str = ""
    starts_on: date | None = None
    days: int = 1
    first_slot: str = "09:00"
    slot_minutes: int = 20
    slot_count: int = 12
    tables: int = 10
    registration_deadline: datetime | None = None  # UTC
    capacity: int | None = None
    eligibility: str = "all"


def _valid_time(value: str) -> bool:
    try:
        datetime.strptime(value or "", "%H:%M")
    except ValueError:
        return False
    return True


def create_event(staff: User, data: EventData) -> Event:
    title = " ".join((data.title or "").split())
    if not 2 <= len(title) <= 120:
        raise SupplyError(_l("Enter a title (2 to 120 characters)."), field="title")
    if data.kind not in EVENT_KINDS:
        raise SupplyError(_l("Choose from the list."), field="kind")
    if data.eligibility not in EVENT_ELIGIBILITY:
        raise SupplyError(_l("Choose from the list."), field="eligibility")
    if data.starts_on is None or data.starts_on < clock.today():
        raise SupplyError(_l("Choose a date from today on."), field="starts_on")
    if not _valid_time(data.first_slot):
        raise SupplyError(_l("Enter a time such as 09:00."), field="first_slot")
    for name, lo, hi in (("days", 1, 7), ("slot_minutes", 5, 240), ("slot_count", 1, 48), ("tables", 1, 500)):
        value = getattr(data, name)
        if not isinstance(value, int) or not lo <= value <= hi:
            raise SupplyError(_l("Enter a whole number between %(lo)s and %(hi)s.", lo=lo, hi=hi), field=name)
    if data.registration_deadline is None:
        raise SupplyError(_l("Choose the registration deadline."), field="registration_deadline")
    if data.registration_deadline > datetime.combine(data.starts_on + timedelta(days=1), datetime.min.time()) \
            - clock.BEIJING:
        raise SupplyError(_l("Registration must close by the end of the event's first day."),
                          field="registration_deadline")
    capacity = count(data.capacity, "capacity", minimum=1)
    event = Event(kind=data.kind, title=title, description=clean(data.description, 4000),
                  venue=clean(data.venue, 200), starts_on=data.starts_on, days=data.days,
                  first_slot=data.first_slot, slot_minutes=data.slot_minutes, slot_count=data.slot_count,
                  tables=data.tables, registration_deadline=data.registration_deadline, capacity=capacity,
                  eligibility=data.eligibility, status="open", created_by_id=staff.id)
    db.session.add(event)
    db.session.flush()
    audit.record(staff, "event.create", event)
    db.session.commit()
    return event


def _participants(event: Event) -> list[Registration]:
    return [r for r in event.registrations if r.status in ("registered", "waiting")]


def cancel_event(staff: User, event_id: int, reason: str) -> Event:
    event = get(Event, event_id)
    reason = clean(reason, 2000)
    if not reason:
        raise SupplyError(_l("Say why the event is cancelled."), field="reason")
    won = db.session.execute(update(Event).where(Event.id == event.id, Event.status == "open")
                             .values(status="cancelled", cancel_reason=reason)).rowcount
    if won != 1:
        db.session.rollback()
        raise SupplyError(_l("This event is not open."))
    for reg in _participants(event):
        notify_user(reg.user, "event_cancelled", {"title": event.title, "reason": reason,
                                              "url": f"/events/{event.id}"}, event=f"event_cancelled:{event.id}:{reg.id}")
    audit.record(staff, "event.cancel", event)
    db.session.commit()
    db.session.refresh(event)
    return event


def eligible(user: User, event: Event, org: Organisation | None) -> bool:
    if event.eligibility == "organisations":
        return org is not None
    if event.eligibility == "women":
        return user.has_role("artisan", "entrepreneur")
    return True


def _one_at_a_time(event: Event) -> None:
    """Places are a stock: registrations and withdrawals of one event take turns. A no-op
    UPDATE of the event's row locks it on PostgreSQL and, as the transaction's first write,
    takes SQLite's write lock, so what is counted after it includes every other's commit (two
    women never get the last place, a double click never inserts twice)."""
    db.session.execute(update(Event).where(Event.id == event.id).values(status=Event.status)
                       .execution_options(synchronize_session=False))
    db.session.expire(event, ["registrations"])


def register(user: User, event_id: int, org_id: int | None = None, available: list[str] | None = None) -> Registration:
    event = get(Event, event_id)
    if event.status != "open" or clock.now() > event.registration_deadline:
        raise SupplyError(_l("Registration for this event is closed."))
    org = None
    if org_id:
        org = acting_org(user, org_id)
    if not eligible(user, event, org):
        raise SupplyError(_l("This event is open to approved organisations only.") if event.eligibility ==
                          "organisations" else _l("This event is open to women entrepreneurs and artisans only."),
                          field="organisation")
    codes = slot_codes(event)
    chosen = [s for s in (available or []) if s]
    if any(s not in codes for s in chosen):
        raise SupplyError(_l("Choose from the list."), field="available")
    _one_at_a_time(event)
    reg = db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                       Registration.user_id == user.id))
    taken = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.status == "registered",
        Registration.id != (reg.id if reg is not None else -1)))
    status = "waiting" if event.capacity is not None and taken >= event.capacity else "registered"
    if reg is None:
        reg = Registration(event_id=event.id, user_id=user.id)
        db.session.add(reg)
    elif reg.status == "registered":
        status = "registered"
    reg.organisation_id = org.id if org else None
    reg.available = " ".join(s for s in codes if s in chosen) if len(chosen) < len(codes) else ""
    reg.status = status
    db.session.flush()
    audit.record(user, "event.register", reg)
    db.session.commit()
    return reg


def withdraw(user: User, event_id: int) -> Registration:
    """She cancels her registration; after scheduling her meetings are re-scheduled (the
    others move as little as possible) and the first on the waiting list takes her place."""
    event = get(Event, event_id)
    _one_at_a_time(event)
    reg = db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                       Registration.user_id == user.id))
    if reg is None or reg.status == "cancelled":
        raise SupplyError(_l("You are not registered."))
    freed = reg.status == "registered"
    reg.status = "cancelled"
    waiting = next((r for r in event.registrations if r.status == "waiting"), None) if freed else None
    if waiting is not None:
        waiting.status = "registered"
        notify_user(waiting.user, "event_place", {"title": event.title, "url": f"/events/{event.id}"},
                event=f"event_place:{waiting.id}")
    audit.record(user, "event.withdraw", reg)
    db.session.commit()
    if event.scheduled_at is not None and event.status == "open":
        schedule_event(None, event.id, notify_changes=True)
    return reg



def check_in(staff: User, registration_id: int) -> Registration:
    reg = get(Registration, registration_id)
    if reg.checked_in_at is None:
        reg.checked_in_at = clock.now()
        audit.record(staff, "event.check_in", reg)
        db.session.commit()
    return reg
