"""The daily digest for staff: one mail a day (after 08:00 Beijing time) with what waits for
them, instead of one mail per small thing. Immediate notices (a new case in her area, an
escalation) still go out at once."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import clock, jobs
from market.extensions import db
from market.models import Artisan, MentorProfile, Notice
from market.notifications import notify_many, staff_members


class DigestSummary:
    """The figures, written out in whichever language the notice is rendered in."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def __str__(self) -> str:
        return _("%(new)s new case(s), %(waiting)s waiting for a mentor, %(overdue)s overdue, "
                 "%(approvals)s to approve, %(failed)s undelivered notice(s)", **self.counts)


def digest_counts(now: datetime) -> dict[str, int]:
    from market.staff.reports.cases import filed_since, overdue_count, waiting_cases

    def count(stmt) -> int:
        return int(db.session.scalar(stmt) or 0)

    return {
        "new": count(filed_since(now - timedelta(days=1), now)),
        "waiting": count(waiting_cases()),
        "overdue": overdue_count(now),
        "approvals": count(select(func.count()).select_from(Artisan).where(Artisan.status == "pending"))
        + count(select(func.count()).select_from(MentorProfile).where(MentorProfile.status == "pending")),
        "failed": count(select(func.count()).select_from(Notice).where(Notice.status == "failed")),
    }


@jobs.task("staff_digest", every=3600)
def send_staff_digest(now: datetime | None = None) -> int:
    """Once per Beijing day, from 08:00: the digest to every staff member (the event id is the
    day, so running every hour sends it once). Returns how many notices were recorded."""
    now = now or clock.now()
    local = now + clock.BEIJING
    if local.hour < 8:
        return 0
    ids = notify_many(staff_members(), "staff_digest", {"summary": DigestSummary(digest_counts(now)),
                                                        "url": "/staff/"},
                      event=f"staff_digest:{local.date().isoformat()}")
    db.session.commit()
    return len(ids)
