"""The help desk's case figures drawn as charts (market.charts, server-side SVG), for the
reports page and the insights dashboard: both draw the same report-service figures
(market.staff.reports) the same way."""
from __future__ import annotations

from dataclasses import replace

from flask_babel import gettext as _
from markupsafe import Markup

from market import charts
from market.staff import reports

# The labels of reports.SOLVE_BUCKETS' codes.
BUCKET_DAYS = {"0-30": "≤ 30", "31-60": "31–60", "61-90": "61–90", "90+": "> 90"}


def per_month(months: list[reports.Month], css_id: str = "chart-cases") -> Markup:
    """Cases filed and solved per month (reports.cases_per_month)."""
    return charts.column_chart([(m.month, m.filed, m.solved) for m in months], series=[_("Opened"), _("Solved")],
                               title=_("Cases opened and solved per month"), css_id=css_id)


def found_solved(rows: list[reports.Row], *, title: str, css_id: str) -> Markup:
    """Difficulties found and solved per value of one dimension (reports.difficulties_by)."""
    return charts.column_chart([(r.label, r.found, r.solved) for r in rows],
                               series=[_("Difficulties found"), _("Difficulties solved")], title=title, css_id=css_id)


def solve_times(solve: reports.SolveTimes, css_id: str = "chart-time") -> Markup:
    """Cases solved by days from filing to solving (reports.solve_times)."""
    return charts.bar_chart([(_("%(days)s days", days=BUCKET_DAYS.get(code, code)), n) for code, n in solve.buckets],
                            title=_("Time to solve"), css_id=css_id)


def report_charts(r: reports.CaseReport) -> dict[str, Markup]:
    """The reports page's charts: difficulties found and solved by kind and by district (the
    report's own rows), and cases filed and solved per month (a month's report shows the twelve
    months up to it, so the month stands among its neighbours)."""
    f = r.filters
    months = reports.cases_per_month(replace(f, start=None) if f.period == "month" else f)
    return {
        "months": per_month(months, css_id="chart-report-months"),
        "difficulty": found_solved(r.by["difficulty"], title=_("Difficulties found and solved by kind"),
                                   css_id="chart-report-difficulty"),
        "district": found_solved(r.by["district"], title=_("Difficulties found and solved by district"),
                                 css_id="chart-report-district"),
    }
