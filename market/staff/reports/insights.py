"""The figures of the insights dashboard that are not case counts (part of the staff report
service, the one source of the federation's figures): early warnings raised / confirmed /
dismissed, business results, and the outcome of help in sales (before and after each case, and
the matched estimate of what help changed).

The dashboard's case figures (cases filed and solved per month, difficulties by kind, time to
solve) come from `market.staff.reports.cases` (`cases_per_month`, `difficulties_by`,
`solve_times`), the same functions as the staff dashboard and the published reports, so the
pages cannot disagree."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from market.clock import BEIJING
from market.clock import today as beijing_today
from market.extensions import db
from market.insights.sales import sales_arrays
from market.models import Case
from market.models.insights import CaseBusinessResult, SalesShop, SalesWarning
from signals.outcomes import WINDOW, CaseOutcome, Estimate, HelpedCase, case_outcomes, estimate, estimates_by

CLOSED = ("resolved", "closed_unresolved")


def _months(today: dt.date, n: int) -> list[str]:
    out, y, m = [], today.year, today.month
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def warnings_per_month(months: int = 12) -> list[tuple[str, int, int, int]]:
    """(month, warnings raised as proposed cases, confirmed by staff, dismissed) by month flagged."""
    labels = _months(beijing_today(), months)
    raised, confirmed, dismissed = Counter(), Counter(), Counter()
    for day, status in db.session.execute(select(SalesWarning.flagged_on, SalesWarning.status)
                                          .where(SalesWarning.status != "held")):
        m = day.strftime("%Y-%m")
        raised[m] += 1
        confirmed[m] += status == "confirmed"
        dismissed[m] += status == "dismissed"
    return [(m, raised[m], confirmed[m], dismissed[m]) for m in labels]


def warning_totals() -> dict[str, int]:
    rows = dict(db.session.execute(select(SalesWarning.status, func.count()).group_by(SalesWarning.status)).all())
    return {k: int(rows.get(k, 0)) for k in ("proposed", "confirmed", "dismissed", "held")}


@dataclass
class BusinessTotals:
    cases: int = 0
    new_channels: int = 0
    loans: int = 0
    loan_fen: int = 0
    jobs_created: int = 0
    jobs_kept: int = 0
    certificates: int = 0


def business_totals() -> BusinessTotals:
    t = BusinessTotals()
    for r in db.session.scalars(select(CaseBusinessResult)):
        t.cases += 1
        t.new_channels += bool(r.new_channel)
        t.loans += bool(r.loan_obtained)
        t.loan_fen += r.loan_fen or 0
        t.jobs_created += r.jobs_created
        t.jobs_kept += r.jobs_kept
        t.certificates += bool(r.certificate)
    return t


# ---- outcomes in sales -----------------------------------------------------------------------

@dataclass
class OutcomeReport:
    rows: list[tuple[Case, CaseOutcome | None]] = field(default_factory=list)
    overall: Estimate | None = None
    by: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    min_cases: int = 8
    waiting: int = 0          # closed cases whose 90 days after closing have not passed yet


def _shops_of(case: Case, shops: list[SalesShop]) -> list[int]:
    return [i for i, s in enumerate(shops)
            if (case.artisan_id and s.artisan_id == case.artisan_id) or (case.profile_id and s.profile_id == case.profile_id)]


def outcome_report(today: dt.date | None = None) -> OutcomeReport:
    """Per closed case of a woman with a shop: her orders and revenue in the 90 days before the
    case opened and the 90 days after it closed; and the matched estimate of what help changed
    (signals.outcomes), overall and by difficulty, mentor group and channel."""
    today = today or beijing_today()
    min_cases = int(current_app.config.get("INSIGHTS_MIN_CASES", 8))
    shops = list(db.session.scalars(select(SalesShop).order_by(SalesShop.id)))
    report = OutcomeReport(min_cases=min_cases)
    if not shops:
        report.overall = Estimate(n=0, enough=False)
        return report
    cases = list(db.session.scalars(
        select(Case).where(Case.status.not_in(("proposed", "dismissed")),
                           or_(Case.artisan_id.is_not(None), Case.profile_id.is_not(None)))
        .options(joinedload(Case.mentor), selectinload(Case.difficulty_items)).order_by(Case.id)))
    first_seen = min([c.opened_at for c in cases if c.opened_at] or [dt.datetime.combine(today, dt.time())])
    first = min((first_seen + BEIJING).date() - dt.timedelta(days=WINDOW + 180), today - dt.timedelta(days=540))
    orders, revenue, _refunded = sales_arrays(shops, first, today)
    n_days = orders.shape[1]
    helped, spans, owners = [], [], {}
    for case in cases:
        rows = _shops_of(case, shops)
        if not rows or case.opened_at is None:
            continue
        opened = ((case.opened_at + BEIJING).date() - first).days
        end = case.closed_at or case.resolved_at
        closed = ((end + BEIJING).date() - first).days if end else n_days
        for r in rows:
            spans.append((r, opened, closed))
        if case.status in CLOSED and end is not None:
            # a woman with two shops: the first one counts (her shop here before an imported one)
            helped.append(HelpedCase(key=str(case.id), shop=rows[0], opened=opened, closed=closed, groups={
                "difficulty": case.difficulties, "channel": case.channel,
                "group": case.mentor.group if case.mentor else "-"}))
            owners[str(case.id)] = case
    categories = [s.category or "-" for s in shops] if any(s.category for s in shops) else None
    outcomes = case_outcomes(orders, revenue, helped, categories=categories, helped_spans=spans)
    by_key = {o.key: o for o in outcomes}
    report.rows = [(owners[h.key], by_key.get(h.key)) for h in helped]
    report.waiting = sum(1 for h in helped if h.key not in by_key)
    seed = 20261127
    report.overall = estimate(outcomes, min_cases=min_cases, seed=seed)
    for dimension in ("difficulty", "group", "channel"):
        report.by[dimension] = estimates_by(outcomes, helped, dimension, min_cases=min_cases, seed=seed)
    return report


def case_before_after(case: Case) -> CaseOutcome | None:
    """Her 90 days before the case opened and 90 after it closed (None without a shop or before
    the 90 days after closing have passed)."""
    clauses = ([SalesShop.artisan_id == case.artisan_id] if case.artisan_id else []) + (
        [SalesShop.profile_id == case.profile_id] if case.profile_id else [])
    shops = list(db.session.scalars(select(SalesShop).where(or_(*clauses)).order_by(SalesShop.id))) if clauses else []
    end = case.closed_at or case.resolved_at
    if not shops or case.opened_at is None or end is None:
        return None
    opened, closed = (case.opened_at + BEIJING).date(), (end + BEIJING).date()
    first = opened - dt.timedelta(days=WINDOW)
    last = closed + dt.timedelta(days=WINDOW - 1)
    if last > beijing_today():
        return None
    orders, revenue, _r = sales_arrays(shops[:1], first, last)
    got = case_outcomes(orders, revenue, [HelpedCase(str(case.id), 0, WINDOW, (closed - first).days)],
                        n_controls=0)
    return got[0] if got else None


def weekly_sales(shop: SalesShop, weeks: int = 52, until: dt.date | None = None) -> list[tuple[str, int, int]]:
    """(week starting, orders, revenue in fen) for the shop's last `weeks` weeks."""
    until = until or beijing_today()
    first = until - dt.timedelta(days=7 * weeks - 1)
    orders, revenue, _r = sales_arrays([shop], first, until)
    out = []
    for k in range(weeks):
        s = slice(7 * k, 7 * k + 7)
        out.append(((first + dt.timedelta(days=7 * k)).strftime("%m-%d"), int(orders[0, s].sum()),
                    int(revenue[0, s].sum())))
    return out


def by_group_rows(estimates: dict[str, Estimate]) -> list[tuple[str, Estimate]]:
    return sorted(estimates.items(), key=lambda kv: (-kv[1].n, kv[0]))


__all__ = ["business_totals", "by_group_rows", "case_before_after", "outcome_report", "warning_totals",
           "warnings_per_month", "weekly_sales"]
