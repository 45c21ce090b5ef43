"""The report service: the one source of the federation's published figures. Pages, exports,
charts and other modules ask here; nobody counts cases anywhere else.

Every report function takes a `Filters` (period as naive-UTC bounds, districts, language of
the labels) built by `period_filters(...)`, and computes its numbers in the database:

- `case_report(filters)`: totals, difficulties found/solved `by` channel, district,
  difficulty and mentor group, median days (first contact, match, solve), overdue by
  district, mentor load per group (`market.staff.reports.cases`).
- `difficulties_by(filters, dimension)`, `median_days(filters, dimension=None)`,
  `totals(filters)`, `overdue_by_district(filters)`, `mentor_load(filters)`: the parts.
- `dashboard()`: the staff dashboard's figures, from the same queries.

Later modules add their own file here with the same shape (`insights.py`: early warning;
`outreach.py`: contact, visits, questionnaires), each function `name(filters: Filters, ...)`
returning dataclasses with codes and labels in `filters.lang`, and re-export them below.
"""
from market.staff.reports.cases import (  # noqa: F401
    CONTACT_KINDS,
    DIMENSIONS,
    CaseReport,
    Dashboard,
    GroupLoad,
    Medians,
    Row,
    Totals,
    case_report,
    dashboard,
    difficulties_by,
    label,
    median_days,
    mentor_load,
    overdue_by_district,
    overdue_cases,
    overdue_condition,
    overdue_count,
    overdue_days,
    overdue_ids,
    totals,
)
from market.staff.reports.common import (  # noqa: F401
    PERIODS,
    Filters,
    beijing_midnight,
    days_between,
    filters_from_args,
    in_period,
    medians,
    period_filters,
    translated,
)
