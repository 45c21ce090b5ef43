"""The help desk's figures, as the federation publishes them: difficulties found and solved
(by channel, area, difficulty and mentor group), median days from filing to first contact,
to match and to solve, overdue cases and mentor load; and the staff dashboard built from them.

Definitions (the README repeats them):
- A case is *filed* when it reached us (`opened_at` for a proposed case staff opened, else
  `created_at`); proposed and dismissed cases are not cases yet and are never counted.
- A difficulty is *found* in a period when its case was filed in it, *solved* in a period when
  it was marked solved in it (its last change).
- *First contact*: the first log entry of kind call, visit, WeChat or meeting.
- Each median is over the cases whose event (first contact, match, solve) fell in the period.
- *Overdue*: active, with no activity for CASE_OVERDUE_DAYS or a planned follow-up missed;
  counted now (a period does not apply).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload

from market import areas, clock
from market.extensions import db
from market.mentoring import groups, states
from market.mentoring.forms import CHANNEL_LABELS
from market.models import Case, CaseDifficulty, MentorProfile
from market.models.mentoring import CONTACT_KINDS  # noqa: F401  (re-exported: the kinds that count as contact)
from market.staff.reports.common import (
    Filters,
    beijing_midnight,
    beijing_month,
    days_between,
    in_period,
    medians,
    months_of,
    translated,
)
from matching import schema

DIMENSIONS = ("channel", "district", "difficulty", "group")
NOT_CASES = ("proposed", "dismissed")
NO_GROUP = ""  # cases without a mentor, in the "by mentor group" figures
DASHBOARD_OVERDUE = 100  # overdue cases listed on the dashboard (the queue lists them all)


def overdue_days() -> int:
    return int(current_app.config.get("CASE_OVERDUE_DAYS", 14))


def overdue_condition(now: datetime):
    """Active cases with no activity for CASE_OVERDUE_DAYS, or whose next follow-up date has
    passed (a missed follow-up makes the case overdue)."""
    limit = now - timedelta(days=overdue_days())
    return and_(Case.status.in_(states.ACTIVE_CASE_STATES),
                or_(func.coalesce(Case.last_activity_at, Case.created_at) < limit,
                    Case.next_follow_up_on < clock.today()))


def overdue_cases(now: datetime | None = None, limit: int | None = None) -> list[Case]:
    """Overdue cases, longest without activity first (`limit`: only the first ones)."""
    stmt = select(Case).where(overdue_condition(now or clock.now())).options(joinedload(Case.mentor)) \
        .order_by(Case.last_activity_at, Case.id)
    return list(db.session.scalars(stmt.limit(limit) if limit else stmt))


def overdue_count(now: datetime | None = None) -> int:
    return db.session.scalar(select(func.count(Case.id)).where(overdue_condition(now or clock.now()))) or 0


def overdue_ids(now: datetime | None = None) -> set[int]:
    return set(db.session.scalars(select(Case.id).where(overdue_condition(now or clock.now()))))


def filed_at():
    return func.coalesce(Case.opened_at, Case.created_at)


def filed_in(filters: Filters):
    """The case was filed in the period: written so that the indexes on created_at and
    opened_at serve it (a proposed case counts from the day staff opened it)."""
    if filters.start is None and filters.end is None:
        return Case.created_at.is_not(None)
    return or_(and_(Case.opened_at.is_(None), in_period(Case.created_at, filters)), in_period(Case.opened_at, filters))


def label(dimension: str, code: str | None, lang: str) -> str:
    """A code of one of the report's dimensions, in the reader's language."""
    code = code or ""
    if dimension == "channel":
        return translated(CHANNEL_LABELS, code, lang)
    if dimension == "district":
        return areas.district_label(code, lang)
    if dimension == "difficulty":
        return schema.label(schema.DIFFICULTIES, code, lang) if code in schema.DIFFICULTIES else code
    if dimension == "group":
        if code == NO_GROUP:
            return "尚无导师" if lang == "zh" else "No mentor yet"
        return groups.label(code, lang)
    if dimension == "status":
        return translated(states.CASE_LABELS, code, lang)
    return code


def _column(dimension: str):
    return {"channel": Case.channel, "district": Case.district, "difficulty": CaseDifficulty.code,
            "group": func.coalesce(MentorProfile.group, literal(NO_GROUP))}[dimension]


def _scoped(stmt, filters: Filters):
    """Only real cases, of the chosen districts."""
    stmt = stmt.where(Case.status.not_in(NOT_CASES))
    if filters.districts:
        stmt = stmt.where(Case.district.in_(filters.districts))
    return stmt


@dataclass
class Row:
    code: str
    label: str
    found: int = 0
    solved: int = 0


def _found_solved(filters: Filters, dimensions: tuple[str, ...]) -> dict[str, list[Row]]:
    """Difficulties found and solved in the period per value of each of `dimensions`, largest
    first: two GROUP BY queries whatever the number of dimensions (grouped by all of them at
    once: at most channels x districts x kinds x groups rows come back, summed here), each
    narrowed by an index (filings; difficulties solved in the period)."""
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}")
    cols = [_column(d) for d in dimensions]
    base = select(*cols, func.count(CaseDifficulty.id)).select_from(CaseDifficulty) \
        .join(Case, Case.id == CaseDifficulty.case_id).outerjoin(MentorProfile, MentorProfile.id == Case.mentor_id)
    rows: dict[str, dict[str, Row]] = {d: {} for d in dimensions}
    for attr, cond in (("found", filed_in(filters)),
                       ("solved", and_(CaseDifficulty.status == "solved", in_period(CaseDifficulty.updated_at, filters)))):
        for *codes, n in db.session.execute(_scoped(base, filters).where(cond).group_by(*cols)):
            for dimension, code in zip(dimensions, codes, strict=True):
                row = rows[dimension].get(code or "")
                if row is None:
                    row = rows[dimension][code or ""] = Row(code or "", label(dimension, code, filters.lang))
                setattr(row, attr, getattr(row, attr) + n)
    return {d: sorted(r.values(), key=lambda r: (-r.found, -r.solved, r.code)) for d, r in rows.items()}


def difficulties_by(filters: Filters, dimension: str) -> list[Row]:
    """Difficulties found and solved in the period, per value of `dimension` (channel,
    district, difficulty or group), largest first. Two GROUP BY queries."""
    return _found_solved(filters, (dimension,))[dimension]


@dataclass
class Medians:
    """Median days from filing to first contact, to match and to solve (None: no case)."""

    first_contact: float | None
    match: float | None
    solve: float | None


def median_days(filters: Filters, dimension: str | None = None) -> dict[str, Medians]:
    """{group code (or "" for all): Medians}, each median computed in the database."""
    col = _column(dimension) if dimension else literal("")

    def source(end_column):
        stmt = select(col.label("g"), days_between(filed_at(), end_column).label("d")).select_from(Case)
        if dimension == "group":
            stmt = stmt.outerjoin(MentorProfile, MentorProfile.id == Case.mentor_id)
        if dimension == "difficulty":
            stmt = stmt.join(CaseDifficulty, CaseDifficulty.case_id == Case.id)
        return _scoped(stmt, filters).where(in_period(end_column, filters), end_column >= filed_at())

    # First contact: the column the log keeps on the case (market.models.mentoring), no scan of the log.
    contact = medians(source(Case.first_contact_at))
    match = medians(source(Case.matched_at))
    solve = medians(source(Case.resolved_at).where(Case.status == "resolved"))
    keys = set(contact) | set(match) | set(solve) if dimension else {""}
    return {k or "": Medians(contact.get(k), match.get(k), solve.get(k)) for k in keys}


@dataclass
class Totals:
    filed: int
    resolved: int
    closed_unresolved: int
    difficulties_found: int
    difficulties_solved: int
    overdue: int


def totals(filters: Filters, now: datetime | None = None, by: list[Row] | None = None) -> Totals:
    """Counts of the period, one indexed query each; `by`: the period's difficulties found and
    solved by one dimension, already counted (their sums are the difficulty counts)."""
    def count(stmt) -> int:
        return db.session.scalar(stmt) or 0

    cases = _scoped(select(func.count(Case.id)), filters)
    diffs = _scoped(select(func.count(CaseDifficulty.id)).select_from(CaseDifficulty)
                    .join(Case, Case.id == CaseDifficulty.case_id), filters)
    return Totals(
        filed=count(cases.where(filed_in(filters))),
        resolved=count(cases.where(Case.status == "resolved", in_period(Case.resolved_at, filters))),
        closed_unresolved=count(cases.where(Case.status == "closed_unresolved", in_period(Case.closed_at, filters))),
        difficulties_found=sum(r.found for r in by) if by is not None else count(diffs.where(filed_in(filters))),
        difficulties_solved=sum(r.solved for r in by) if by is not None else count(
            diffs.where(CaseDifficulty.status == "solved", in_period(CaseDifficulty.updated_at, filters))),
        overdue=count(cases.where(overdue_condition(now or clock.now()))),
    )


def overdue_by_district(filters: Filters, now: datetime | None = None) -> list[tuple[str, str, int]]:
    """(district, label, overdue cases now), largest first."""
    rows = db.session.execute(_scoped(select(Case.district, func.count(Case.id)), filters)
                              .where(overdue_condition(now or clock.now())).group_by(Case.district)).all()
    return sorted(((d, label("district", d, filters.lang), n) for d, n in rows), key=lambda r: (-r[2], r[0]))


@dataclass
class GroupLoad:
    code: str
    label: str
    mentors: int
    capacity: int
    load: int

    @property
    def spare(self) -> int:
        return max(self.capacity - self.load, 0)


def mentor_load(filters: Filters) -> list[GroupLoad]:
    """Approved mentors per group: how many, their places, and the places taken."""
    stmt = select(MentorProfile.group, func.count(MentorProfile.id), func.coalesce(func.sum(MentorProfile.capacity), 0),
                  func.coalesce(func.sum(MentorProfile.current_load), 0)) \
        .where(MentorProfile.status == "approved").group_by(MentorProfile.group)
    if filters.districts:
        stmt = stmt.where(MentorProfile.district.in_(filters.districts))
    return [GroupLoad(code, label("group", code, filters.lang), n, int(cap), int(load))
            for code, n, cap, load in db.session.execute(stmt.order_by(MentorProfile.group))]


@dataclass
class Month:
    month: str  # "YYYY-MM", Beijing time
    filed: int = 0
    solved: int = 0


def cases_per_month(filters: Filters, last: int = 12) -> list[Month]:
    """Cases filed and cases solved per Beijing month (as `totals` counts them): the months of
    the period, or the `last` months up to its end for an open period. Two GROUP BY queries."""
    labels, start, end = months_of(filters, last)
    bounded = replace(filters, start=start, end=end)
    out = {m: Month(m) for m in labels}
    for attr, month, cond in (
        ("filed", beijing_month(filed_at()), filed_in(bounded)),
        ("solved", beijing_month(Case.resolved_at), and_(Case.status == "resolved", in_period(Case.resolved_at, bounded))),
    ):
        stmt = _scoped(select(month.label("m"), func.count(Case.id)), bounded).where(cond).group_by(month)
        for m, n in db.session.execute(stmt):
            if m in out:
                setattr(out[m], attr, n)
    return list(out.values())


# Days from filing to solving, in the buckets the charts show: (code, upper bound in days).
SOLVE_BUCKETS = (("0-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))


@dataclass
class SolveTimes:
    buckets: list[tuple[str, int]]  # (bucket code of SOLVE_BUCKETS, cases), in order
    median: float | None            # the same as median_days(filters)[""].solve


def solve_times(filters: Filters) -> SolveTimes:
    """Cases solved in the period by days from filing to solving, counted in one GROUP BY over
    the same cases as the median days to solve."""
    days = days_between(filed_at(), Case.resolved_at)
    bucket = case(*((days <= upper, code) for code, upper in SOLVE_BUCKETS if upper is not None),
                  else_=SOLVE_BUCKETS[-1][0])
    stmt = _scoped(select(bucket.label("b"), func.count(Case.id)), filters) \
        .where(Case.status == "resolved", in_period(Case.resolved_at, filters), Case.resolved_at >= filed_at()) \
        .group_by(bucket)
    counts = dict(db.session.execute(stmt).all())
    return SolveTimes([(code, int(counts.get(code, 0))) for code, _upper in SOLVE_BUCKETS],
                      median_days(filters)[""].solve)


def active_cases():
    """Active cases now (open, matched, in progress, closure proposed): a SELECT of the count,
    to run or to embed as a scalar subquery (the staff overview)."""
    return select(func.count(Case.id)).where(Case.status.in_(states.ACTIVE_CASE_STATES))


def filed_since(moment: datetime, until: datetime | None = None):
    """Cases filed from `moment` (until `until`, exclusive), as the reports count filings
    (proposed and dismissed cases are not cases yet): a SELECT of the count (the staff digest)."""
    return _scoped(select(func.count(Case.id)), Filters()).where(filed_in(Filters(start=moment, end=until)))


def waiting_cases():
    """Cases filed and waiting for a mentor (status open): a SELECT of the count."""
    return select(func.count(Case.id)).where(Case.status == "open")


@dataclass
class CaseReport:
    filters: Filters
    totals: Totals
    by: dict[str, list[Row]]
    medians: Medians
    overdue_by_district: list[tuple[str, str, int]]
    mentor_load: list[GroupLoad]


def case_report(filters: Filters, now: datetime | None = None) -> CaseReport:
    """Everything the federation publishes about its help desk for one period and area."""
    by = _found_solved(filters, DIMENSIONS)
    return CaseReport(filters=filters, totals=totals(filters, now, by=by["channel"]), by=by,
                      medians=median_days(filters)[""], overdue_by_district=overdue_by_district(filters, now),
                      mentor_load=mentor_load(filters))


# ---- the staff dashboard, from the same queries --------------------------------------------

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
    overdue: list[Case]  # the most overdue (at most DASHBOARD_OVERDUE); `overdue_count` counts them all
    overdue_count: int
    average_rating: float | None
    total: int


def dashboard(now: datetime | None = None) -> Dashboard:
    now = now or clock.now()
    everything = Filters()
    by_status = dict.fromkeys(states.CASE_LABELS, 0)
    for status, n in db.session.execute(select(Case.status, func.count()).group_by(Case.status)):
        by_status[status] = n
    by_difficulty = dict.fromkeys(schema.DIFFICULTIES, 0)
    kinds = difficulties_by(everything, "difficulty")
    for row in kinds:
        if row.code in by_difficulty:
            by_difficulty[row.code] = row.found
    solved = sum(row.solved for row in kinds)
    by_district = dict.fromkeys(areas.districts(), 0)
    for district, n in db.session.execute(_scoped(select(Case.district, func.count()), everything)
                                          .group_by(Case.district)):
        if district in by_district:
            by_district[district] = n
    by_channel = dict(db.session.execute(_scoped(select(Case.channel, func.count()), everything)
                                         .group_by(Case.channel)).all())
    year_start = beijing_midnight(clock.today().replace(month=1, day=1))
    resolved_this_year = db.session.scalar(_scoped(select(func.count()).select_from(Case), everything)
                                           .where(Case.resolved_at >= year_start)) or 0
    average = db.session.scalar(_scoped(select(func.avg(Case.rating)).select_from(Case), everything)
                                .where(Case.rating.is_not(None)))
    m = median_days(everything)[""]
    mentors = list(db.session.scalars(select(MentorProfile).where(MentorProfile.status == "approved")
                                      .order_by(MentorProfile.current_load.desc(), MentorProfile.display_name)))
    total = sum(n for s, n in by_status.items() if s not in NOT_CASES)
    return Dashboard(
        by_status=by_status, by_difficulty=by_difficulty, by_district=by_district, by_channel=by_channel,
        resolved_this_year=resolved_this_year, difficulties_solved=solved,
        median_days_to_match=m.match, median_days_to_resolve=m.solve,
        mentors=mentors, overdue=overdue_cases(now, DASHBOARD_OVERDUE), overdue_count=overdue_count(now),
        average_rating=round(float(average), 1) if average is not None else None, total=total,
    )
