"""The report service: the one source of the federation's published figures. Pages, exports,
charts and other modules ask here; nobody counts cases anywhere else.

Every report function takes a `Filters` (period as naive-UTC bounds, districts, language of
the labels) built by `period_filters(...)`, and computes its numbers in the database:

- `case_report(filters)`: totals, difficulties found/solved `by` channel, district,
  difficulty and mentor group, median days (first contact, match, solve), overdue by
  district, mentor load per group (`market.staff.reports.cases`).
- `difficulties_by(filters, dimension)`, `median_days(filters, dimension=None)`,
  `totals(filters)`, `overdue_by_district(filters)`, `mentor_load(filters)`: the parts.
- `cases_per_month(filters)`: cases filed and solved per Beijing month (the charts' series);
  `solve_times(filters)`: cases solved by days to solve, with the median.
- `dashboard()`: the staff dashboard's figures, from the same queries; `active_cases()`,
  `waiting_cases()`, `filed_since(moment)`: the counts the staff overview embeds in its one
  query (`market.staff.reports.overview`) and the staff digest sends.
- The insights dashboard draws its case charts from these functions too (market.staff.case_charts);
  `insights.py` holds only the early-warning, outcome and business-result figures.

Later modules add their own file here with the same shape (`insights.py`: early warning;
`outreach.py`: contact, visits, questionnaires), each function `name(filters: Filters, ...)`
returning dataclasses with codes and labels in `filters.lang`, and re-export them below.
"""
from market.staff.reports.cases import (  # noqa: F401
    CONTACT_KINDS,
    DIMENSIONS,
    SOLVE_BUCKETS,
    CaseReport,
    Dashboard,
    GroupLoad,
    Medians,
    Month,
    Row,
    SolveTimes,
    Totals,
    active_cases,
    case_report,
    cases_per_month,
    dashboard,
    difficulties_by,
    filed_since,
    label,
    median_days,
    mentor_load,
    overdue_by_district,
    overdue_cases,
    overdue_condition,
    overdue_count,
    overdue_days,
    overdue_ids,
    solve_times,
    totals,
    waiting_cases,
)
from market.staff.reports.common import (  # noqa: F401
    PERIODS,
    Filters,
    beijing_midnight,
    beijing_month,
    days_between,
    filters_from_args,
    in_period,
    medians,
    months_of,
    period_filters,
    translated,
)
