"""The front line's figures (part of the staff report service, the one source of the
federation's figures), by area, cadre and period: women in contact, contacted this quarter,
visits by method and by step, difficulties found → sent to the case desk → solved (the figure
the federation publishes), questionnaire responses, and event sign-ups and attendance."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from market import areas, clock
from market.extensions import db
from market.models import (
    CaseDifficulty,
    ClientProfile,
    Event,
    OutreachContact,
    QuestionnaireResponse,
    Registration,
    Visit,
)
from market.outreach.coverage import quarter_start
from market.outreach.events import OUTREACH_EVENT_KINDS


@dataclass
class OutreachFigures:
    start: date
    end: date
    women_in_contact: int = 0
    contacted_this_quarter: int = 0
    visits: int = 0
    by_method: Counter = field(default_factory=Counter)
    by_step: Counter = field(default_factory=Counter)
    by_cadre: Counter = field(default_factory=Counter)  # cadre id -> visits
    difficulties_found: int = 0
    difficulties_sent: int = 0
    difficulties_solved: int = 0
    questionnaire_responses: int = 0
    event_signups: int = 0
    event_waiting: int = 0
    event_attended: int = 0


def figures(start: date | None = None, end: date | None = None, area_id: int | None = None,
            cadre_id: int | None = None) -> OutreachFigures:
    """Counts for visits that happened from `start` to `end` (Beijing days; default: this
    quarter so far), limited to women recorded in an area (and below) and/or one cadre's list."""
    today = clock.today()
    start = start or quarter_start(today)
    end = end or today
    out = OutreachFigures(start, end)
    area_ids = areas.subtree_ids({area_id}) if area_id else None

    contacts = select(OutreachContact.profile_id).join(ClientProfile, ClientProfile.id == OutreachContact.profile_id)
    if area_ids is not None:
        contacts = contacts.where(ClientProfile.area_id.in_(area_ids))
    if cadre_id:
        contacts = contacts.where(OutreachContact.cadre_id == cadre_id)
    profile_ids = set(db.session.scalars(contacts))
    out.women_in_contact = len(profile_ids)

    visits = select(Visit).where(Visit.happened_on >= start, Visit.happened_on <= end)
    if area_ids is not None or cadre_id:
        visits = visits.where(Visit.profile_id.in_(profile_ids or {0}))
    rows = list(db.session.scalars(visits))
    out.visits = len(rows)
    q_start = quarter_start(today)
    out.contacted_this_quarter = len({v.profile_id for v in db.session.scalars(
        select(Visit).where(Visit.happened_on >= q_start, Visit.profile_id.in_(profile_ids or {0})))})
    case_codes: dict[int, set[str]] = {}
    for v in rows:
        out.by_method[v.method] += 1
        out.by_step[v.step] += 1
        if v.cadre_id:
            out.by_cadre[v.cadre_id] += 1
        out.difficulties_found += len(v.difficulties or [])
        if v.case_id:
            out.difficulties_sent += len(v.difficulties or [])
            case_codes.setdefault(v.case_id, set()).update(v.difficulties or [])
    if case_codes:
        for case_id, code in db.session.execute(select(CaseDifficulty.case_id, CaseDifficulty.code).where(
                CaseDifficulty.case_id.in_(case_codes), CaseDifficulty.status == "solved")):
            if code in case_codes[case_id]:
                out.difficulties_solved += 1

    # Stored in UTC; the period is Beijing days.
    since = datetime.combine(start, time.min) - clock.BEIJING
    until = datetime.combine(end + timedelta(days=1), time.min) - clock.BEIJING
    responses = select(func.count()).select_from(QuestionnaireResponse).where(
        QuestionnaireResponse.created_at >= since, QuestionnaireResponse.created_at < until)
    if area_ids is not None:
        responses = responses.where(QuestionnaireResponse.area_id.in_(area_ids))
    out.questionnaire_responses = db.session.scalar(responses) or 0

    for status, checked, n in db.session.execute(
            select(Registration.status, Registration.checked_in_at.is_not(None), func.count())
            .join(Event, Event.id == Registration.event_id)
            .where(Event.kind.in_(OUTREACH_EVENT_KINDS), Event.starts_on >= start, Event.starts_on <= end)
            .group_by(Registration.status, Registration.checked_in_at.is_not(None))):
        if status == "registered":
            out.event_signups += n
            if checked:
                out.event_attended += n
        elif status == "waiting":
            out.event_waiting += n
    return out
