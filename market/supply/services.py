"""The read side of supply-chain matchmaking: the board, suggestions from the matcher, who
may see whose contact details, slots, agendas, the floor plan and the event report."""
from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from market import clock
from market.extensions import db
from market.models import (
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
from market.supply.operations import is_member, organisations_of
from market.supply.slots import slot_codes, slot_labels  # noqa: F401  (the views read them here)
from matching.supply import Demand, Supplier, SupplyMatcher

# ---- the board -------------------------------------------------------------------------------


def board(kind: str | None = None, category: str | None = None) -> list[SupplyPost]:
    stmt = (select(SupplyPost).join(Organisation).where(SupplyPost.status == "open",
                                                        SupplyPost.open_until >= clock.today(),
                                                        Organisation.status == "approved")
            .options(selectinload(SupplyPost.organisation)).order_by(SupplyPost.id.desc()).limit(200))
    if kind in ("need", "offer"):
        stmt = stmt.where(SupplyPost.kind == kind)
    rows = list(db.session.scalars(stmt))
    if category:
        rows = [r for r in rows if category in r.category_codes]
    return rows


def may_see_post(user, row: SupplyPost) -> bool:
    if row.organisation.status == "approved" and row.status in ("open", "awarded"):
        return True
    return bool(user and getattr(user, "is_authenticated", False) and (user.is_staff or is_member(user, row.organisation)))


def may_see_contact(user, org: Organisation) -> bool:
    """Her own organisation, staff, or an organisation she has business with: a quote of one
    accepted on a need of the other, or a meeting scheduled between them at an event."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or is_member(user, org):
        return True
    mine = [o.id for o in organisations_of(user)]
    if mine:
        accepted = db.session.scalar(
            select(Quote.id).join(SupplyPost, SupplyPost.id == Quote.post_id)
            .where(Quote.status == "accepted",
                   or_((Quote.organisation_id == org.id) & SupplyPost.organisation_id.in_(mine),
                       (SupplyPost.organisation_id == org.id) & Quote.organisation_id.in_(mine))).limit(1))
        if accepted is not None:
            return True
    # a scheduled meeting between one of her registrations and one of the organisation's
    theirs = select(Registration.id).where(or_(Registration.organisation_id == org.id,
                                               Registration.user_id.in_(select(OrganisationMember.user_id)
                                                                        .where(OrganisationMember.organisation_id
                                                                               == org.id))))
    her_cond = Registration.user_id == user.id
    if mine:
        her_cond = or_(her_cond, Registration.organisation_id.in_(mine))
    her = select(Registration.id).where(her_cond)
    met = db.session.scalar(select(EventMeeting.id).where(
        or_(EventMeeting.a_id.in_(her) & EventMeeting.b_id.in_(theirs),
            EventMeeting.b_id.in_(her) & EventMeeting.a_id.in_(theirs))).limit(1))
    return met is not None


def may_see_user_contact(user, other: User, event: Event | None = None) -> bool:
    """A participant without an organisation: her details after a meeting with her is scheduled."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.id == other.id:
        return True
    her = select(Registration.id).where(Registration.user_id == user.id)
    theirs = select(Registration.id).where(Registration.user_id == other.id)
    return db.session.scalar(select(EventMeeting.id).where(
        or_(EventMeeting.a_id.in_(her) & EventMeeting.b_id.in_(theirs),
            EventMeeting.b_id.in_(her) & EventMeeting.a_id.in_(theirs))).limit(1)) is not None


def pending_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.status != "pending", Organisation.id)
                                   .limit(500)))


# ---- the matcher -----------------------------------------------------------------------------

def _regions() -> tuple[str, ...]:
    from market.areas.services import region_names

    return region_names()


class _FittedMatchers:
    """Fitted matchers kept per process, keyed by what they were fitted on: the suppliers and
    demands themselves (frozen, hashable) and the city's districts. That key is the version: it
    changes exactly when an organisation, a need or an offer that feeds the fit changes (an edit,
    an approval, a need closing or passing its date), so a page view reuses the fit and an edit
    refits. The rows are read on every view anyway (to show them); the fit is the cost saved."""

    def __init__(self, size: int = 64):
        self.size = size
        self.fits = 0  # how many fits this process has done (tests read it)
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, suppliers, demands=()) -> SupplyMatcher:
        regions = _regions()
        key = (tuple(suppliers), tuple(demands), tuple(regions))
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        matcher = SupplyMatcher(regions=regions).fit(list(key[0]), list(key[1]))
        with self._lock:
            self.fits += 1
            self._items[key] = matcher
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return matcher

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


matchers = _FittedMatchers()


def supplier_of(org: Organisation) -> Supplier:
    return Supplier(id=org.id, categories=tuple(org.category_codes),
                    text=" ".join(filter(None, (org.name, org.description, org.materials))),
                    capacity=org.capacity_month, certifications=tuple(org.certification_codes),
                    district=org.district or "", owner=org.id)


def demand_of(row: SupplyPost) -> Demand:
    return Demand(id=row.id, categories=tuple(row.category_codes), text=f"{row.title} {row.description}",
                  quantity=row.quantity, required_certifications=tuple(row.certification_codes),
                  district=row.organisation.district or "", region_preference=row.region_preference,
                  owner=row.organisation_id)


def approved_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.status == "approved")
                                   .order_by(Organisation.id)))


@dataclass
class Suggestion:
    item: object  # an Organisation or a SupplyPost
    match: object  # matching.supply.SupplyMatch


def suppliers_for(row: SupplyPost, k: int = 10) -> list[Suggestion]:
    orgs = approved_organisations()
    if not orgs:
        return []
    by_id = {o.id: o for o in orgs}
    matcher = matchers.get([supplier_of(o) for o in orgs])
    return [Suggestion(by_id[m.id], m) for m in matcher.rank(demand_of(row), k=k)]


def needs_for(org: Organisation, k: int = 10) -> list[Suggestion]:
    needs = board("need")
    if not needs:
        return []
    by_id = {n.id: n for n in needs}
    matcher = matchers.get([supplier_of(org)], [demand_of(n) for n in needs])
    return [Suggestion(by_id[m.id], m) for m in matcher.rank_demands(supplier_of(org), k=k)]


def needs_for_offer(row: SupplyPost, k: int = 10) -> list[Suggestion]:
    """Open needs an offer answers: the offer read as a supplier (its text and categories, its
    quantity as capacity, the organisation's certifications and district)."""
    org = row.organisation
    offer = Supplier(id=f"offer-{row.id}", categories=tuple(row.category_codes) or tuple(org.category_codes),
                     text=f"{row.title} {row.description}", capacity=row.quantity,
                     certifications=tuple(org.certification_codes), district=org.district or "", owner=org.id)
    needs = board("need")
    if not needs:
        return []
    by_id = {n.id: n for n in needs}
    matcher = matchers.get([offer], [demand_of(n) for n in needs])
    return [Suggestion(by_id[m.id], m) for m in matcher.rank_demands(offer, k=k)]


# ---- events ----------------------------------------------------------------------------------

def upcoming_events() -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.starts_on >= clock.today() - timedelta(days=30))
                                   .order_by(Event.starts_on, Event.id).limit(100)))


def registration_of(user, event: Event) -> Registration | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                        Registration.user_id == user.id))


def participant_label(reg: Registration) -> str:
    return reg.organisation.name if reg.organisation is not None else reg.user.name


def _participant_supplier(reg: Registration) -> Supplier:
    if reg.organisation is not None:
        return supplier_of(reg.organisation)
    artisan = reg.user.artisan
    text = f"{artisan.display_name} {artisan.story}" if artisan is not None else reg.user.name
    return Supplier(id=reg.id, text=text, district=(artisan.district if artisan is not None else "") or "")


def event_suggestions(event: Event, mine: Registration, k: int = 10) -> list[tuple[Registration, object]]:
    """Other participants ranked by the matcher for her: her organisation (or shop) read as a
    need against theirs read as suppliers, and the other way round; the better of the two."""
    others = [r for r in event.registrations if r.status == "registered" and r.id != mine.id]
    if not others:
        return []
    me = _participant_supplier(mine)
    people = [_participant_supplier(r) for r in others]
    people = [Supplier(id=r.id, categories=s.categories, text=s.text, capacity=s.capacity,
                       certifications=s.certifications, district=s.district) for r, s in zip(others, people,
                                                                                               strict=True)]
    as_need = Demand(id=mine.id, categories=me.categories, text=me.text, district=me.district)
    matcher = matchers.get(people)
    by_id = {r.id: r for r in others}
    return [(by_id[m.id], m) for m in matcher.rank(as_need, k=k)]


def requests_of(event: Event, mine: Registration) -> dict[int, str]:
    """Participant id -> her own request's status towards that participant."""
    rows = db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id,
                                                           MeetingRequest.from_id == mine.id))
    return {r.to_id: r.status for r in rows}


def requests_to(event: Event, mine: Registration) -> set[int]:
    return set(db.session.scalars(select(MeetingRequest.from_id).where(
        MeetingRequest.event_id == event.id, MeetingRequest.to_id == mine.id, MeetingRequest.status != "refused")))


def meetings(event: Event) -> list[EventMeeting]:
    return list(db.session.scalars(select(EventMeeting).where(EventMeeting.event_id == event.id)
                                   .options(selectinload(EventMeeting.a).selectinload(Registration.organisation),
                                            selectinload(EventMeeting.b).selectinload(Registration.organisation))
                                   .order_by(EventMeeting.slot, EventMeeting.table)))


def agenda(event: Event, mine: Registration) -> list[EventMeeting]:
    return [m for m in meetings(event) if mine.id in (m.a_id, m.b_id)]


def floor_plan(event: Event) -> dict[str, dict[int, EventMeeting]]:
    plan: dict[str, dict[int, EventMeeting]] = {code: {} for code in slot_codes(event)}
    for m in meetings(event):
        plan.setdefault(m.slot, {})[m.table] = m
    return plan


def feedback_of(reg: Registration) -> dict[int, MeetingFeedback]:
    return {f.meeting_id: f for f in db.session.scalars(select(MeetingFeedback).where(
        MeetingFeedback.registration_id == reg.id))}


@dataclass
class Report:
    meetings: int
    held: int
    no_shows: int
    unanswered: int
    interesting: int
    deals_expected: int
    deals_signed: int
    deal_value_fen: int
    by_category: list[tuple[str, int, int]]  # (label, meetings held, deal value fen)
    by_district: list[tuple[str, int, int]]


def report(event: Event, lang: str = "zh") -> Report:
    """Meetings held, no-shows, deals and their value, by sector and district. A meeting is
    held when either side says so, a no-show when an answer says not met and none says met;
    a signed deal counts once per meeting (the higher value given)."""
    from market.areas.services import district_label
    from matching.supply import SUPPLY_CATEGORIES

    rows = meetings(event)
    answers = defaultdict(list)
    if rows:
        for f in db.session.scalars(select(MeetingFeedback).where(MeetingFeedback.meeting_id.in_([m.id for m in rows]))):
            answers[f.meeting_id].append(f)
    held = no_show = unanswered = interesting = expected = signed = value = 0
    by_cat, by_district = Counter(), Counter()
    value_cat, value_district = Counter(), Counter()
    for m in rows:
        fs = answers.get(m.id, [])
        if not fs:
            unanswered += 1
            continue
        if not any(f.met for f in fs):
            no_show += 1
            continue
        held += 1
        interesting += any(f.interesting for f in fs)
        expected += any(f.deal_expected for f in fs)
        deal = max((f.value_fen or 0 for f in fs if f.deal_signed), default=None)
        if deal is not None:
            signed += 1
            value += deal
        for reg in (m.a, m.b):
            org = reg.organisation
            cats = org.category_codes if org is not None else ["other"]
            for c in cats[:1]:
                label = SUPPLY_CATEGORIES[c][0 if lang == "zh" else 1]
                by_cat[label] += 1
                value_cat[label] += deal or 0
            district = (org.district if org is not None else (reg.user.artisan.district if reg.user.artisan else ""))
            label = district_label(district, lang) if district else "—"
            by_district[label] += 1
            value_district[label] += deal or 0
    return Report(len(rows), held, no_show, unanswered, interesting, expected, signed, value,
                  [(k, v, value_cat[k]) for k, v in by_cat.most_common()],
                  [(k, v, value_district[k]) for k, v in by_district.most_common()])


def case_deals(case_id: int) -> tuple[int, int]:
    """A help-desk case's outcome: (needs it produced, deals signed from them)."""
    needs = db.session.scalars(select(SupplyPost.id).where(SupplyPost.case_id == case_id)).all()
    if not needs:
        return 0, 0
    deals = db.session.scalar(select(db.func.count(Quote.id)).where(Quote.post_id.in_(needs),
                                                                     Quote.deal_status == "signed"))
    return len(needs), int(deals or 0)
