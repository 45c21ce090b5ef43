"""Every change of supply-chain matchmaking: organisations (register, review), the board (post,
close), quotes (send, accept, sign the deal or say why not), events (create, cancel, register,
request and refuse meetings, schedule, check in, feedback).

Accepting a quote moves the need with a conditional UPDATE (WHERE status = 'open'), so of two
accepts at the same moment exactly one wins; the loser gets a message, never a second deal.
Each change writes one audit line (market.audit.record) and tells the people concerned
(market.notifications.notify) in the same transaction.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from market import audit, clock
from market.extensions import db
from market.models import (
    Case,
    Event,
    EventMeeting,
    MeetingFeedback,
    MeetingRequest,
    Organisation,
    OrganisationMember,
    Quote,
    Registration,
    SupplyPost,
    User,
)
from market.models.supply import EVENT_ELIGIBILITY, EVENT_KINDS, POST_KINDS
from market.supply.slots import slot_codes
from matching.supply import CERTIFICATIONS, REGION_PREFERENCES, SUPPLY_CATEGORIES

log = logging.getLogger(__name__)
MAX_ID = 2**31 - 1


class SupplyError(ValueError):
    """A rule was broken; the message is safe to show. `field` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(LookupError):
    pass


def get(model, ident):
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident <= MAX_ID:
        raise NotFound(ident)
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(ident)
    return row


def _notify(recipient, kind: str, context: dict, event: str | None = None) -> None:
    from market.notifications import notify

    notify(recipient, kind, context, event=event)


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def _codes(values, vocabulary, field: str) -> str:
    values = [v for v in (values or []) if v]
    bad = [v for v in values if v not in vocabulary]
    if bad:
        raise SupplyError(_l("Choose from the list."), field=field)
    return " ".join(dict.fromkeys(values))


def _count(value, field: str, *, allow_none=True, minimum=0) -> int | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise SupplyError(_l("Enter a number."), field=field)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 1_000_000_000:
        raise SupplyError(_l("Enter a whole number between %(lo)s and 1,000,000,000.", lo=minimum), field=field)
    return value


# ---- organisations ---------------------------------------------------------------------------

def organisations_of(user: User) -> list[Organisation]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(select(Organisation).join(OrganisationMember)
                                   .where(OrganisationMember.user_id == user.id).order_by(Organisation.id)))


def is_member(user: User, org: Organisation) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and db.session.get(
        OrganisationMember, (org.id, user.id)) is not None


@dataclass
class OrgData:
    name: str
    categories: list
    description: str = ""
    materials: str = ""
    capacity_month: int | None = None
    capacity_unit: str = ""
    min_order: int | None = None
    certifications: list = ()
    district: str = ""


def save_organisation(user: User, data: OrgData, org: Organisation | None = None) -> Organisation:
    """Register an organisation (awaiting staff approval; she becomes its contact and member)
    or change one she is a member of."""
    from market.areas.services import is_district

    name = " ".join((data.name or "").split())
    if not 2 <= len(name) <= 120:
        raise SupplyError(_l("Enter the organisation's name (2 to 120 characters)."), field="name")
    cats = _codes(data.categories, SUPPLY_CATEGORIES, "categories")
    if not cats:
        raise SupplyError(_l("Choose at least one category."), field="categories")
    certs = _codes(data.certifications, CERTIFICATIONS, "certifications")
    if data.district and not is_district(data.district):
        raise SupplyError(_l("Choose a district."), field="district")
    new = org is None
    if new:
        org = Organisation(contact_id=user.id, status="pending")
        artisan = getattr(user, "artisan", None)
        if artisan is not None:
            org.artisan_id = artisan.id
        db.session.add(org)
    elif not (is_member(user, org) or user.is_staff):
        raise NotFound(org.id)
    org.name = name
    org.categories = cats
    org.description = _clean(data.description, 4000)
    org.materials = _clean(data.materials, 2000)
    org.capacity_month = _count(data.capacity_month, "capacity_month")
    org.capacity_unit = _clean(data.capacity_unit, 20)
    org.min_order = _count(data.min_order, "min_order")
    org.certifications = certs
    org.district = data.district or ""
    db.session.flush()
    if new:
        db.session.add(OrganisationMember(organisation_id=org.id, user_id=user.id))
        audit.record(user, "supply.org_register", org)
        from market.notifications import notify_many, staff_members

        notify_many(staff_members(), "approval_needed", {"name": org.name, "role": _l("an organisation"),
                                                         "url": "/staff/organisations"},
                    event=f"approval:organisation:{org.id}")
    else:
        audit.record(user, "supply.org_update", org)
    db.session.commit()
    return org


def review_organisation(staff: User, org_id: int, decision: str) -> Organisation:
    org = get(Organisation, org_id)
    if decision not in ("approved", "rejected"):
        raise SupplyError(_l("Unknown decision."))
    org.status = decision
    org.reviewed_by_id = staff.id
    org.reviewed_at = clock.now()
    audit.record(staff, f"supply.org_{decision}", org)
    _notify(org.contact, "supply_org_reviewed", {"name": org.name, "url": f"/supply/organisations/{org.id}",
                                                 "decision": decision})
    db.session.commit()
    return org


def add_member(actor: User, org_id: int, email: str) -> OrganisationMember:
    org = get(Organisation, org_id)
    if not (is_member(actor, org) or actor.is_staff):
        raise NotFound(org_id)
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise SupplyError(_l("No account has this e-mail address."), field="email")
    if db.session.get(OrganisationMember, (org.id, user.id)) is None:
        db.session.add(OrganisationMember(organisation_id=org.id, user_id=user.id))
        audit.record(actor, "supply.org_member_add", org)
        db.session.commit()
    return db.session.get(OrganisationMember, (org.id, user.id))


# ---- the board -------------------------------------------------------------------------------

@dataclass
class PostData:
    kind: str
    title: str
    description: str = ""
    categories: list = ()
    quantity: int | None = None
    unit: str = ""
    timing: str = ""
    budget_min_fen: int | None = None
    budget_max_fen: int | None = None
    region_preference: str = "any"
    required_certifications: list = ()
    open_until: date | None = None
    case_id: int | None = None


def _acting_org(user: User, org_id) -> Organisation:
    try:
        org = get(Organisation, org_id)
    except NotFound:
        raise SupplyError(_l("Choose your organisation."), field="organisation") from None
    if not is_member(user, org):
        raise SupplyError(_l("Choose your organisation."), field="organisation")
    if org.status != "approved":
        raise SupplyError(_l("Your organisation waits for the federation's approval."), field="organisation")
    return org


def _may_link_case(user: User, case: Case) -> bool:
    """Staff, the woman who filed it or had it filed, and her mentor may link a need to a case."""
    if user.is_staff or user.id in (case.author_id, case.filed_by_id):
        return True
    mentor = getattr(case, "mentor", None)
    return mentor is not None and mentor.user_id == user.id


def post(user: User, org_id: int, data: PostData) -> SupplyPost:
    org = _acting_org(user, org_id)
    if data.kind not in POST_KINDS:
        raise SupplyError(_l("Choose need or offer."), field="kind")
    title = " ".join((data.title or "").split())
    if not 2 <= len(title) <= 120:
        raise SupplyError(_l("Enter a title (2 to 120 characters)."), field="title")
    if data.region_preference not in REGION_PREFERENCES:
        raise SupplyError(_l("Choose from the list."), field="region_preference")
    lo, hi = data.budget_min_fen, data.budget_max_fen
    if lo is not None and hi is not None and lo > hi:
        raise SupplyError(_l("The lowest price is above the highest."), field="budget_max")
    if data.open_until is None or data.open_until < clock.today():
        raise SupplyError(_l("Choose a date from today on."), field="open_until")
    if data.open_until > clock.today() + timedelta(days=366):
        raise SupplyError(_l("Choose a date within a year."), field="open_until")
    case_id = None
    if data.case_id:
        case = db.session.get(Case, data.case_id) if isinstance(data.case_id, int) and 0 < data.case_id <= MAX_ID \
            else None
        if case is None or not _may_link_case(user, case):
            raise SupplyError(_l("No such case."), field="case_id")
        if "supply_chain" not in case.difficulties:
            raise SupplyError(_l("Only a case with a supply-chain difficulty can be linked."), field="case_id")
        case_id = case.id
    row = SupplyPost(organisation_id=org.id, kind=data.kind, title=title, description=_clean(data.description, 4000),
                     categories=_codes(data.categories, SUPPLY_CATEGORIES, "categories"),
                     quantity=_count(data.quantity, "quantity"), unit=_clean(data.unit, 20),
                     timing=_clean(data.timing, 120), budget_min_fen=lo, budget_max_fen=hi,
                     region_preference=data.region_preference,
                     required_certifications=_codes(data.required_certifications, CERTIFICATIONS,
                                                    "required_certifications"),
                     open_until=data.open_until, status="open", case_id=case_id, created_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record(user, f"supply.{data.kind}_post", row)
    db.session.commit()
    return row


def close_post(user: User, post_id: int) -> SupplyPost:
    row = get(SupplyPost, post_id)
    if not (is_member(user, row.organisation) or user.is_staff):
        raise NotFound(post_id)
    db.session.execute(update(SupplyPost).where(SupplyPost.id == row.id, SupplyPost.status == "open")
                       .values(status="closed"))
    audit.record(user, "supply.post_close", row)
    db.session.commit()
    db.session.refresh(row)
    return row


# ---- quotes and deals ------------------------------------------------------------------------

def send_quote(user: User, post_id: int, org_id: int, *, price_fen, quantity, lead_days, note="") -> Quote:
    need = get(SupplyPost, post_id)
    org = _acting_org(user, org_id)
    if need.kind != "need" or need.status != "open" or need.open_until < clock.today():
        raise SupplyError(_l("This need no longer takes quotes."))
    if org.id == need.organisation_id:
        raise SupplyError(_l("You cannot quote on your own need."), field="organisation")
    missing = set(need.certification_codes) - set(org.certification_codes)
    if missing:
        raise SupplyError(_l("This need requires a certification your organisation does not hold."),
                          field="organisation")
    if not isinstance(price_fen, int) or not 0 < price_fen <= 10**12:
        raise SupplyError(_l("Enter the price."), field="price")
    quote = Quote(post_id=need.id, organisation_id=org.id, price_fen=price_fen,
                  quantity=_count(quantity, "quantity", allow_none=False, minimum=1),
                  lead_days=_count(lead_days, "lead_days", allow_none=False),
                  note=_clean(note, 2000), status="sent", created_by_id=user.id)
    db.session.add(quote)
    db.session.flush()
    audit.record(user, "supply.quote_send", quote)
    _notify(need.organisation.contact, "supply_quote", {"title": need.title, "name": org.name,
                                                        "url": f"/supply/posts/{need.id}"})
    db.session.commit()
    return quote


def accept_quote(user: User, quote_id: int) -> Quote:
    """The need's owner accepts one quote. The need moves open → awarded with a conditional
    UPDATE: of two accepts at once (two quotes, or two members), one wins."""
    quote = get(Quote, quote_id)
    need = quote.post
    if not is_member(user, need.organisation):
        raise NotFound(quote_id)
    if quote.status != "sent":
        raise SupplyError(_l("This quote can no longer be accepted."))
    now = clock.now()
    won = db.session.execute(update(SupplyPost).where(SupplyPost.id == need.id, SupplyPost.status == "open")
                             .values(status="awarded", accepted_quote_id=quote.id)).rowcount
    if won != 1:
        db.session.rollback()
        raise SupplyError(_l("Another quote was already accepted for this need."))
    db.session.execute(update(Quote).where(Quote.id == quote.id).values(status="accepted", accepted_at=now,
                                                                         deal_status="pending"))
    db.session.execute(update(Quote).where(Quote.post_id == need.id, Quote.id != quote.id, Quote.status == "sent")
                       .values(status="declined"))
    audit.record(user, "supply.quote_accept", quote)
    _notify(quote.organisation.contact, "supply_quote_accepted",
            {"title": need.title, "name": need.organisation.name, "url": f"/supply/posts/{need.id}"})
    db.session.commit()
    db.session.refresh(quote)
    return quote


def record_deal(user: User, quote_id: int, signed: bool, value_fen: int | None = None, note: str = "") -> Quote:
    """Either side marks the accepted quote's deal signed (with its value) or not signed (with
    why). The deal is signed once both sides said so; "not signed" from either side ends it."""
    quote = get(Quote, quote_id)
    need = quote.post
    buyer, supplier = is_member(user, need.organisation), is_member(user, quote.organisation)
    if not (buyer or supplier):
        raise NotFound(quote_id)
    if quote.status != "accepted" or quote.deal_status not in ("pending",):
        raise SupplyError(_l("This deal is already settled."))
    now = clock.now()
    if signed:
        if not isinstance(value_fen, int) or not 0 < value_fen <= 10**12:
            raise SupplyError(_l("Enter the deal's value."), field="value")
        quote.deal_value_fen = value_fen
        if buyer:
            quote.buyer_signed_at = now
        if supplier:
            quote.supplier_signed_at = now
        if quote.buyer_signed_at and quote.supplier_signed_at:
            quote.deal_status = "signed"
    else:
        reason = _clean(note, 2000)
        if not reason:
            raise SupplyError(_l("Say why the deal was not signed."), field="note")
        quote.deal_status = "not_signed"
        quote.deal_note = reason
    audit.record(user, "supply.deal_signed" if signed else "supply.deal_not_signed", quote)
    other = quote.organisation.contact if buyer else need.organisation.contact
    _notify(other, "supply_deal", {"title": need.title, "url": f"/supply/posts/{need.id}"})
    db.session.commit()
    return quote


# ---- events ----------------------------------------------------------------------------------

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
    capacity = _count(data.capacity, "capacity", minimum=1)
    event = Event(kind=data.kind, title=title, description=_clean(data.description, 4000),
                  venue=_clean(data.venue, 200), starts_on=data.starts_on, days=data.days,
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
    reason = _clean(reason, 2000)
    if not reason:
        raise SupplyError(_l("Say why the event is cancelled."), field="reason")
    won = db.session.execute(update(Event).where(Event.id == event.id, Event.status == "open")
                             .values(status="cancelled", cancel_reason=reason)).rowcount
    if won != 1:
        db.session.rollback()
        raise SupplyError(_l("This event is not open."))
    for reg in _participants(event):
        _notify(reg.user, "event_cancelled", {"title": event.title, "reason": reason,
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


def register(user: User, event_id: int, org_id: int | None = None, available: list[str] | None = None) -> Registration:
    event = get(Event, event_id)
    if event.status != "open" or clock.now() > event.registration_deadline:
        raise SupplyError(_l("Registration for this event is closed."))
    org = None
    if org_id:
        org = _acting_org(user, org_id)
    if not eligible(user, event, org):
        raise SupplyError(_l("This event is open to approved organisations only.") if event.eligibility ==
                          "organisations" else _l("This event is open to women entrepreneurs and artisans only."),
                          field="organisation")
    codes = slot_codes(event)
    chosen = [s for s in (available or []) if s]
    if any(s not in codes for s in chosen):
        raise SupplyError(_l("Choose from the list."), field="available")
    reg = db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                       Registration.user_id == user.id))
    taken = sum(1 for r in event.registrations if r.status == "registered" and (reg is None or r.id != reg.id))
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
    reg = db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                       Registration.user_id == user.id))
    if reg is None or reg.status == "cancelled":
        raise SupplyError(_l("You are not registered."))
    freed = reg.status == "registered"
    reg.status = "cancelled"
    waiting = next((r for r in event.registrations if r.status == "waiting"), None) if freed else None
    if waiting is not None:
        waiting.status = "registered"
        _notify(waiting.user, "event_place", {"title": event.title, "url": f"/events/{event.id}"},
                event=f"event_place:{waiting.id}")
    audit.record(user, "event.withdraw", reg)
    db.session.commit()
    if event.scheduled_at is not None and event.status == "open":
        schedule_event(None, event.id, notify_changes=True)
    return reg


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
    row = db.session.scalar(select(MeetingRequest).where(MeetingRequest.from_id == mine.id,
                                                         MeetingRequest.to_id == other.id))
    if row is None:
        row = MeetingRequest(event_id=event.id, from_id=mine.id, to_id=other.id)
        db.session.add(row)
    if row.status != "staff" or status == "refused":
        row.status = status
    row.score = float(score or 0.0)
    db.session.flush()
    audit.record(user, f"event.meeting_{status}", row)
    db.session.commit()
    return row


def staff_add_meeting(staff: User, event_id: int, a_id: int, b_id: int) -> MeetingRequest:
    event = get(Event, event_id)
    a, b = get(Registration, a_id), get(Registration, b_id)
    if a.event_id != event.id or b.event_id != event.id or a.id == b.id:
        raise SupplyError(_l("Choose two different participants of this event."), field="a")
    row = db.session.scalar(select(MeetingRequest).where(MeetingRequest.from_id == a.id, MeetingRequest.to_id == b.id))
    if row is None:
        row = MeetingRequest(event_id=event.id, from_id=a.id, to_id=b.id)
        db.session.add(row)
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
                _notify(reg.user, "event_agenda", {"title": event.title, "url": f"/events/{event.id}/agenda"})
    db.session.commit()
    log.info("event %s scheduled: %s meetings, %s unscheduled, %s kept, %s moved", event.id,
             len(result.meetings), len(result.unscheduled), result.kept, len(result.moved))
    return result


def check_in(staff: User, registration_id: int) -> Registration:
    reg = get(Registration, registration_id)
    if reg.checked_in_at is None:
        reg.checked_in_at = clock.now()
        audit.record(staff, "event.check_in", reg)
        db.session.commit()
    return reg


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
