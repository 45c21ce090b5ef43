"""What every report of the service shares: the filters (period, areas, language), period
boundaries in Beijing time, and the SQL building blocks (days between two timestamps, a
median per group) that work on PostgreSQL and SQLite alike.

Every figure is computed in the database (GROUP BY, a median per group): nothing loads the
cases into Python, so a report costs a few indexed queries whatever the number of cases.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import Float, and_, cast, extract, func, literal, literal_column, or_, select

from market import clock
from market.extensions import db

PERIODS = ("month", "year", "all", "custom")


@dataclass(frozen=True)
class Filters:
    """What a report is about. `start`/`end` are naive UTC (the database's time), `end`
    exclusive; None means unbounded. `districts` limits the report to those districts (their
    official names; empty: all). `lang` ("zh" or "en") is the language of the labels."""

    start: datetime | None = None
    end: datetime | None = None
    districts: tuple[str, ...] = ()
    lang: str = "zh"
    period: str = "all"
    label: str = ""
    extra: dict = field(default_factory=dict)  # filters a later report understands (kept as given)

    def with_lang(self, lang: str) -> Filters:
        return replace(self, lang="en" if lang == "en" else "zh")


def beijing_midnight(day: date) -> datetime:
    """Midnight of `day` in Beijing, as naive UTC."""
    return datetime(day.year, day.month, day.day) - clock.BEIJING


def period_filters(period: str = "month", *, year: int | None = None, month: int | None = None,
                   start: date | None = None, end: date | None = None, districts=(), lang: str = "zh") -> Filters:
    """Filters for "this month", "this year", "all time" or a custom range of Beijing days
    (`end` inclusive). `year`/`month` pick another month or year than the current one."""
    today = clock.today()
    districts = tuple(d for d in districts if d)
    if period == "custom":
        if start is None and end is None:
            raise ValueError("a custom period needs a start or an end date")
        if start and end and end < start:
            raise ValueError("the period ends before it starts")
        return Filters(beijing_midnight(start) if start else None,
                       beijing_midnight(end + timedelta(days=1)) if end else None, districts, lang, "custom",
                       f"{start or '…'} – {end or '…'}")
    if period == "year":
        y = year or today.year
        return Filters(beijing_midnight(date(y, 1, 1)), beijing_midnight(date(y + 1, 1, 1)), districts, lang,
                       "year", str(y))
    if period == "month":
        y, m = year or today.year, month or today.month
        if not 1 <= m <= 12:
            raise ValueError("month must be 1..12")
        first = date(y, m, 1)
        following = date(y + (m == 12), m % 12 + 1, 1)
        return Filters(beijing_midnight(first), beijing_midnight(following), districts, lang, "month",
                       f"{y}-{m:02d}")
    return Filters(None, None, districts, lang, "all", "")


def in_period(column, filters: Filters):
    """`column` falls in the filters' period (NULLs never do)."""
    conds = [column.is_not(None)]
    if filters.start is not None:
        conds.append(column >= filters.start)
    if filters.end is not None:
        conds.append(column < filters.end)
    return and_(*conds)


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def days_between(start, end):
    """(end - start) in days, as a float SQL expression."""
    if is_postgres():
        return extract("epoch", end - start) / 86400.0
    return cast(func.julianday(end) - func.julianday(start), Float)


def beijing_month(column):
    """The Beijing calendar month ("YYYY-MM") of a naive-UTC timestamp, as an SQL expression."""
    if is_postgres():
        return func.to_char(column + literal_column("interval '8 hours'"), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def month_start(year: int, month: int) -> datetime:
    """Midnight of the first of that month in Beijing, as naive UTC (month may run past 12)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return beijing_midnight(date(year, month, 1))


def months_of(filters: Filters, last: int = 12) -> tuple[list[str], datetime, datetime]:
    """The Beijing months a per-month series of `filters` shows, and the bounds it counts in:
    the period's own months when it has both ends (a year: its twelve); otherwise the `last`
    months up to the period's end (or this month). Bounds are naive UTC, the end exclusive."""
    if filters.start is not None and filters.end is not None:
        first = (filters.start + clock.BEIJING).date()
        final = (filters.end - timedelta(microseconds=1) + clock.BEIJING).date()
        start, end = filters.start, filters.end
    else:
        final = (filters.end - timedelta(microseconds=1) + clock.BEIJING).date() if filters.end else clock.today()
        back = final.year * 12 + final.month - 1 - (last - 1)
        first = date(back // 12, back % 12 + 1, 1)
        start = max(month_start(first.year, first.month), filters.start) if filters.start else \
            month_start(first.year, first.month)
        end = filters.end or month_start(final.year, final.month + 1)
    labels, y, m = [], first.year, first.month
    while (y, m) <= (final.year, final.month):
        labels.append(f"{y:04d}-{m:02d}")
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return labels, start, end


def medians(rows_select, *, digits: int = 1) -> dict:
    """{group: median of value} for a SELECT of two columns (group, value), in the database:
    percentile_cont on PostgreSQL, the middle row(s) of a window per group on SQLite."""
    sub = rows_select.subquery()
    grp, val = list(sub.c)
    if is_postgres():
        stmt = select(grp, func.percentile_cont(0.5).within_group(val)).where(val.is_not(None)).group_by(grp)
    else:
        ranked = select(grp.label("g"), val.label("v"),
                        func.row_number().over(partition_by=grp, order_by=val).label("rn"),
                        func.count(literal(1)).over(partition_by=grp).label("n")).where(val.is_not(None)).subquery()
        stmt = select(ranked.c.g, func.avg(ranked.c.v)).where(
            or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)).group_by(ranked.c.g)
    return {g: (round(float(m), digits) if m is not None else None) for g, m in db.session.execute(stmt)}


def translated(labels: dict, code: str, lang: str) -> str:
    """A lazily translated label in `lang` (outside the request's own locale)."""
    value = labels.get(code)
    if value is None:
        return code or ""
    with force_locale(lang):
        return str(value)


def _date(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("dates are written YYYY-MM-DD") from exc


def _small_int(value: str | None, low: int, high: int) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"expected a number from {low} to {high}")
    return int(value)


def filters_from_args(args, lang: str = "zh", known_districts=(), default_period: str = "month") -> Filters:
    """Filters from a query string (?period=month&year=2026&month=11&district=象山县, or
    period=custom&start=2026-01-01&end=2026-03-31). Raises ValueError on a malformed value;
    unknown districts are dropped."""
    period = (args.get("period") or default_period).strip()
    if period not in PERIODS:
        raise ValueError("unknown period")
    districts = [d for d in args.getlist("district") if d in known_districts] if hasattr(args, "getlist") \
        else [d for d in [args.get("district")] if d in known_districts]
    return period_filters(period, year=_small_int(args.get("year"), 2000, 2100),
                          month=_small_int(args.get("month"), 1, 12), start=_date(args.get("start")),
                          end=_date(args.get("end")), districts=districts, lang=lang)
