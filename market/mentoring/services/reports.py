"""Staff's view of the whole help desk: overdue cases, the list, the dashboard's figures and
the CSV export. (The staff-queue issue makes market/staff the one source of figures.)"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from market import areas
from market.extensions import db
from market.mentoring import states
from market.mentoring.services.common import today, utcnow
from market.mentoring.services.followups import FOLLOW_UP_KINDS
from market.models import Case, CaseDifficulty, CaseEntry, MentorProfile
from matching.schema import DIFFICULTIES


def overdue_days() -> int:
    return int(current_app.config.get("CASE_OVERDUE_DAYS", 14))


def overdue_condition(now: datetime):
    """Active cases with no activity for CASE_OVERDUE_DAYS, or whose next follow-up date has
    passed (a missed follow-up makes the case overdue)."""
    limit = now - timedelta(days=overdue_days())
    return and_(Case.status.in_(states.ACTIVE_CASE_STATES),
                or_(func.coalesce(Case.last_activity_at, Case.created_at) < limit,
                    Case.next_follow_up_on < today()))


def overdue_cases(now: datetime | None = None) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(overdue_condition(now or utcnow()))
        .options(joinedload(Case.mentor)).order_by(Case.last_activity_at, Case.id)
    ))


def all_cases(status: str | None = None) -> list[Case]:
    stmt = select(Case).options(joinedload(Case.mentor), joinedload(Case.author), selectinload(Case.difficulty_items)) \
        .order_by(Case.id.desc())
    if status in states.CASE_LABELS:
        stmt = stmt.where(Case.status == status)
    return list(db.session.scalars(stmt))


@dataclass
class Dashboard:
    by_status: dict[str, int]
    by_difficulty: dict[str, int]
    by_district: dict[str, int]
    by_channel: dict[str, int]
    resolved_this_year: int
    difficulties_solved: int
    median_days_to_match: float | None
    median_days_to_resolve: float | None
    mentors: list[MentorProfile]
    overdue: list[Case]
    average_rating: float | None
    total: int


def _median_days(pairs) -> float | None:
    days = [(end - start).total_seconds() / 86400 for start, end in pairs if start and end and end >= start]
    return round(statistics.median(days), 1) if days else None


def dashboard(now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    by_status = dict.fromkeys(states.CASE_LABELS, 0)
    for status, n in db.session.execute(select(Case.status, func.count()).group_by(Case.status)):
        by_status[status] = n
    by_difficulty = dict.fromkeys(DIFFICULTIES, 0)
    for code, n in db.session.execute(
        select(CaseDifficulty.code, func.count()).join(Case, Case.id == CaseDifficulty.case_id)
        .where(Case.status != "dismissed").group_by(CaseDifficulty.code)
    ):
        if code in by_difficulty:
            by_difficulty[code] = n
    solved = db.session.scalar(select(func.count()).select_from(CaseDifficulty)
                               .where(CaseDifficulty.status == "solved")) or 0
    by_district = dict.fromkeys(areas.districts(), 0)
    by_channel: dict[str, int] = {}
    match_times, resolve_times, ratings = [], [], []
    resolved_this_year = 0
    for district, channel, opened, created, matched, resolved, rating, status in db.session.execute(
        select(Case.district, Case.channel, Case.opened_at, Case.created_at, Case.matched_at, Case.resolved_at,
               Case.rating, Case.status)
    ):
        if status in ("proposed", "dismissed"):
            continue
        if district in by_district:
            by_district[district] += 1
        by_channel[channel] = by_channel.get(channel, 0) + 1
        match_times.append((opened or created, matched))
        resolve_times.append((matched, resolved))
        if resolved and resolved.year == now.year:
            resolved_this_year += 1
        if rating:
            ratings.append(rating)
    mentors = list(db.session.scalars(select(MentorProfile).where(MentorProfile.status == "approved")
                                      .order_by(MentorProfile.current_load.desc(), MentorProfile.display_name)))
    total = sum(n for s, n in by_status.items() if s not in ("proposed", "dismissed"))
    return Dashboard(
        by_status=by_status, by_difficulty=by_difficulty, by_district=by_district, by_channel=by_channel,
        resolved_this_year=resolved_this_year, difficulties_solved=solved,
        median_days_to_match=_median_days(match_times), median_days_to_resolve=_median_days(resolve_times),
        mentors=mentors, overdue=overdue_cases(now),
        average_rating=round(sum(ratings) / len(ratings), 1) if ratings else None, total=total,
    )


CSV_COLUMNS = ("id", "status", "channel", "business_name", "industry", "stage", "district", "difficulties",
               "difficulties_solved", "mentor", "created_at", "matched_at", "resolved_at", "closed_at",
               "last_activity_at", "next_follow_up_on", "follow_ups", "rating", "outcome")


def cases_csv() -> str:
    """Every case as CSV (UTF-8 with BOM so that Excel opens Chinese text correctly)."""
    follow_ups = dict(db.session.execute(
        select(CaseEntry.case_id, func.count()).where(CaseEntry.kind.in_(FOLLOW_UP_KINDS))
        .group_by(CaseEntry.case_id)
    ).all())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    stmt = select(Case).options(joinedload(Case.mentor), selectinload(Case.difficulty_items)).order_by(Case.id)
    for case in db.session.scalars(stmt).unique():
        items = case.difficulty_items
        writer.writerow([
            case.id, case.status, case.channel, _csv_safe(case.business_name), case.industry, case.stage,
            case.district, ";".join(d.code for d in items), sum(d.status == "solved" for d in items),
            _csv_safe(case.mentor.display_name) if case.mentor else "",
            _iso(case.created_at), _iso(case.matched_at), _iso(case.resolved_at), _iso(case.closed_at),
            _iso(case.last_activity_at), case.next_follow_up_on.isoformat() if case.next_follow_up_on else "",
            follow_ups.get(case.id, 0), case.rating or "", _csv_safe(case.outcome),
        ])
    return out.getvalue()


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else ""


def _csv_safe(text: str | None) -> str:
    """Text typed by users must not run as a formula when staff open the file in Excel."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
