"""Charts and evidence for the insights pages, built from the report service's figures."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from market import charts
from market.insights import services
from market.models.insights import SalesShop
from market.staff import case_charts, reports
from market.staff.reports import insights as figures


def warning_chart(w) -> Markup:
    """Weekly orders with the expected band and the point where the fall began (sales drops);
    weekly orders alone for the other signals."""
    weeks = (w.evidence or {}).get("weeks") or []
    if weeks:
        labels = [x["start"][5:] for x in weeks]
        marker = None
        change = (w.evidence or {}).get("change_point")
        if change:
            day = dt.date.fromisoformat(change)
            marker = next((k for k, x in enumerate(weeks)
                           if dt.date.fromisoformat(x["start"]) <= day < dt.date.fromisoformat(x["start"])
                           + dt.timedelta(days=7)), None)
        return charts.line_chart(
            labels, [charts.Series(_("Orders"), [x["orders"] for x in weeks]),
                     charts.Series(_("Expected"), [x["expected"] for x in weeks], colour="#555", dashed=True)],
            band=([x["low"] for x in weeks], [x["high"] for x in weeks]), band_label=_("Expected range (90 %)"),
            marker=marker, marker_label=_("Turned down"), title=_("Orders per week against what was expected"),
            css_id="warning-chart")
    rows = figures.weekly_sales(w.shop, weeks=26, until=w.flagged_on)
    return charts.column_chart([(d, n) for d, n, _r in rows], series=[_("Orders")], title=_("Orders per week"),
                               css_id="warning-chart")


def case_evidence(case) -> dict | None:
    """For the case page (staff): the early warning's chart and signals, and her sales before and
    after the case. None when the case has no shop or the reader is not staff."""
    if not getattr(current_user, "is_staff", False):
        return None
    warning = services.warning_for_case(case.id)
    has_shop = case.artisan_id or case.profile_id
    if warning is None and not has_shop:
        return None
    out = {"warning": warning, "chart": warning_chart(warning) if warning else None,
           "reason": services.describe(warning) if warning else "",
           "others": services.other_signals(warning) if warning else [], "labels": services.SIGNAL_LABELS,
           "before_after": figures.case_before_after(case) if has_shop else None,
           "results": services.results_of(case.id)}
    return out


def dashboard_charts(report, filters) -> dict[str, Markup]:
    """The insights dashboard's charts: the case figures from the report service's case
    functions (the staff dashboard and the reports count the same way), early warnings and
    outcomes from its insights functions."""
    months = reports.cases_per_month(filters)
    by_kind = reports.difficulties_by(filters, "difficulty")
    solve = reports.solve_times(filters)
    warnings = figures.warnings_per_month()
    out = {
        "cases": case_charts.per_month(months),
        "difficulties": case_charts.found_solved(by_kind, title=_("Difficulties by kind"),
                                                 css_id="chart-difficulties"),
        "time": case_charts.solve_times(solve),
        "warnings": charts.column_chart(warnings, series=[_("Raised"), _("Confirmed"), _("Dismissed")],
                                        title=_("Early warnings per month"), css_id="chart-warnings"),
    }
    if report.overall is not None and report.overall.enough:
        rows = [(_("All cases"), round(report.overall.orders, 1))]
        rows += [(k, round(e.orders, 1)) for k, e in report.by.get("channel", {}).items() if e.enough]
        out["outcomes"] = charts.bar_chart(rows, title=_("Orders added per 90 days by help (estimate)"),
                                           css_id="chart-outcomes")
    return out


__all__ = ["SalesShop", "case_evidence", "dashboard_charts", "warning_chart"]
