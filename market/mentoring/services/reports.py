"""Staff's lists of the help desk. The figures (dashboard, reports) and the exports live in
the report service, market.staff.reports and market.staff.exports; the overdue rule is
re-exported from there so the loop and the pages share one definition."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from market.extensions import db
from market.mentoring import states
from market.models import Case
from market.staff.reports.cases import (  # noqa: F401
    Dashboard,
    dashboard,
    overdue_cases,
    overdue_condition,
    overdue_count,
    overdue_days,
    overdue_ids,
)


def all_cases(status: str | None = None) -> list[Case]:
    stmt = select(Case).options(joinedload(Case.mentor), joinedload(Case.author), selectinload(Case.difficulty_items)) \
        .order_by(Case.id.desc())
    if status in states.CASE_LABELS:
        stmt = stmt.where(Case.status == status)
    return list(db.session.scalars(stmt))
