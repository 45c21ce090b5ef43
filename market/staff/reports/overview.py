"""The staff overview (/staff/): what happened today and what waits for staff, every figure
counted by the database in one round trip.

"Today" is the Beijing day (00:00 to 24:00 at UTC+8, market.clock), so the figures turn over
at midnight where the federation works, not at 08:00. An order counts on the day its payment
arrived (`paid_at`, written by the app in UTC); sales are what was paid for those orders, before
refunds (refunds are counted with the refund requests and in the order pages). The case
counts are the report service's own (`cases.active_cases`, `cases.waiting_cases`), embedded
in the same query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select

from market import clock
from market.extensions import db
from market.models import Artisan, MentorProfile, Order, RefundRequest, User
from market.models.returns import ACTIVE_REQUEST_STATES
from market.staff.reports.cases import active_cases, waiting_cases


def beijing_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Beijing calendar day `day` as naive UTC [start, end)."""
    start = datetime.combine(day, time()) - clock.BEIJING
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class Overview:
    day: date
    orders_today: int
    sales_today_fen: int
    orders_yesterday: int
    sales_yesterday_fen: int
    open_cases: int
    cases_waiting: int
    pending_artisans: int
    pending_mentors: int
    refund_requests: int
    refund_requests_escalated: int
    suspended_users: int


def overview(now: datetime | None = None) -> Overview:
    now = now or clock.now()
    today = (now + clock.BEIJING).date()
    start, end = beijing_day_bounds(today)
    y_start = start - timedelta(days=1)

    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    paid_today = and_(Order.paid_at >= start, Order.paid_at < end)
    paid_yesterday = and_(Order.paid_at >= y_start, Order.paid_at < start)
    # Both days in one scan of the orders paid since yesterday (paid_at bounds the rows read).
    orders = (select(func.count(case((paid_today, 1))).label("n_today"),
                     func.coalesce(func.sum(case((paid_today, Order.paid_fen), else_=0)), 0).label("fen_today"),
                     func.count(case((paid_yesterday, 1))).label("n_yesterday"),
                     func.coalesce(func.sum(case((paid_yesterday, Order.paid_fen), else_=0)), 0).label("fen_yesterday"))
              .where(Order.paid_at >= y_start, Order.paid_at < end).subquery())
    row = db.session.execute(select(
        orders.c.n_today, orders.c.fen_today, orders.c.n_yesterday, orders.c.fen_yesterday,
        active_cases().scalar_subquery(),
        waiting_cases().scalar_subquery(),
        count(Artisan, Artisan.status == "pending"),
        count(MentorProfile, MentorProfile.status == "pending"),
        count(RefundRequest, RefundRequest.status.in_(ACTIVE_REQUEST_STATES)),
        count(RefundRequest, RefundRequest.status == "escalated"),
        count(User, User.suspended_at.is_not(None)),
    )).one()
    return Overview(today, *(int(v or 0) for v in row))
