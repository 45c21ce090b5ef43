"""The staff queue: every case a reader may work on, filtered and sorted by urgency, and the
bulk actions staff take from it (reassign, escalate to a supervisor, close proposed cases).

Who sees what: staff and supervisors every case; a committee member (执委) only the cases she
filed (her referrals). Only staff act in bulk; a supervisor reads, a committee member follows
her referrals. Each bulk action goes through the help desk's own operation, case by case, so
every rule, log line and audit entry is the same as on the case page.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from market import clock
from market.extensions import db
from market.mentoring import services as mentoring
from market.mentoring import states
from market.models import Case, CaseDifficulty, Introduction, MentorProfile, User
from market.models.mentoring import CHANNELS
from market.staff.reports.cases import overdue_condition

PAGE_SIZE = 50
WAITING_ON = {"woman": _l("The entrepreneur"), "mentor": _l("A mentor"), "staff": _l("Staff")}
SORTS = {"urgency": _l("Most urgent first"), "oldest": _l("Oldest first"), "newest": _l("Newest first")}
BULK_ACTIONS = {"reassign": _l("Reassign (release the mentor)"), "escalate": _l("Escalate to a supervisor"),
                "dismiss": _l("Close proposed cases")}


class QueueError(ValueError):
    """A request the queue refuses; the message is safe to show."""


def may_see_queue(user: User) -> bool:
    return user.is_staff or user.has_role("supervisor", "committee")


def may_act(user: User) -> bool:
    return user.is_staff


def sees_decline_reasons(user: User) -> bool:
    """What a mentor wrote when she declined is for staff (and supervisors) only."""
    return user.is_staff or user.has_role("supervisor")


def scope(user: User):
    """The cases this reader's queue holds."""
    if user.is_staff or user.has_role("supervisor"):
        return True
    return Case.filed_by_id == user.id


def _asked():
    return exists().where(Introduction.case_id == Case.id, Introduction.status == "asked")


def waiting_on_expr():
    """Whose move it is: staff (a proposed case to call, an open case nobody is asked for, a
    closure on her behalf to sign off), a mentor (an ask to answer, a case to work on), or
    the woman (a closure to confirm)."""
    return case(
        (Case.status == "proposed", "staff"),
        (and_(Case.status == "open", _asked()), "mentor"),
        (Case.status == "open", "staff"),
        (Case.status.in_(("matched", "in_progress")), "mentor"),
        (and_(Case.status == "closure_proposed", Case.author_id.is_(None)), "staff"),
        (Case.status == "closure_proposed", "woman"),
        else_="",
    )


@dataclass
class QueueFilters:
    status: str = ""
    channel: str = ""
    district: str = ""
    difficulty: str = ""
    group: str = ""
    waiting: str = ""
    overdue: bool = False
    proposed: bool = False
    sort: str = "urgency"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        """From a query string; unknown values are ignored (a stale bookmark still opens)."""
        def pick(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        from market import areas
        from market.mentoring import groups
        from matching.schema import DIFFICULTIES

        try:
            page = max(1, min(int(args.get("page") or 1), 10_000))
        except (TypeError, ValueError):
            page = 1
        return cls(status=pick("status", states.CASE_LABELS), channel=pick("channel", CHANNELS),
                   district=pick("district", areas.districts()), difficulty=pick("difficulty", DIFFICULTIES),
                   group=pick("group", groups.labels()), waiting=pick("waiting", WAITING_ON),
                   overdue=args.get("overdue") == "1", proposed=args.get("proposed") == "1",
                   sort=pick("sort", SORTS) or "urgency", page=page)

    def args(self, **changes) -> dict:
        values = {**self.__dict__, **changes}
        return {k: ("1" if v is True else v) for k, v in values.items() if v not in ("", False, None)
                and not (k == "sort" and v == "urgency") and not (k == "page" and v == 1)}


@dataclass
class QueueRow:
    case: Case
    overdue: bool
    waiting_on: str
    asks: list[Introduction] = field(default_factory=list)

    @property
    def declines(self) -> list[Introduction]:
        return [i for i in self.asks if i.status == "declined"]


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    filters: QueueFilters
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _filtered(user: User, f: QueueFilters, now):
    stmt = select(Case.id).where(scope(user))
    if f.status:
        stmt = stmt.where(Case.status == f.status)
    elif not f.proposed:
        stmt = stmt.where(Case.status != "dismissed")
    if f.proposed:
        stmt = stmt.where(Case.status == "proposed")
    if f.channel:
        stmt = stmt.where(Case.channel == f.channel)
    if f.district:
        stmt = stmt.where(Case.district == f.district)
    if f.difficulty:
        stmt = stmt.where(exists().where(CaseDifficulty.case_id == Case.id, CaseDifficulty.code == f.difficulty))
    if f.group:
        stmt = stmt.where(Case.mentor_id.in_(select(MentorProfile.id).where(MentorProfile.group == f.group)))
    if f.waiting:
        stmt = stmt.where(waiting_on_expr() == f.waiting)
    if f.overdue:
        stmt = stmt.where(overdue_condition(now))
    return stmt


def queue(user: User, f: QueueFilters, now=None) -> QueuePage:
    """One page of the reader's queue. Urgency: escalated first, then overdue, then whoever
    waits on staff, then the longest without activity."""
    if not may_see_queue(user):
        raise QueueError(_l("The queue is for federation staff and committee members."))
    now = now or clock.now()
    ids = _filtered(user, f, now).subquery()
    total = db.session.scalar(select(func.count()).select_from(ids)) or 0
    is_overdue = case((overdue_condition(now), 1), else_=0)
    waiting = waiting_on_expr()
    quiet = func.coalesce(Case.last_activity_at, Case.created_at)
    order = {
        "urgency": (Case.escalation_level.desc(), is_overdue.desc(), case((waiting == "staff", 0), else_=1),
                    quiet, Case.id),
        "oldest": (Case.created_at, Case.id),
        "newest": (Case.created_at.desc(), Case.id.desc()),
    }[f.sort]
    stmt = select(Case, is_overdue, waiting).where(Case.id.in_(select(ids.c.id))).order_by(*order) \
        .limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE) \
        .options(joinedload(Case.mentor), selectinload(Case.difficulty_items),
                 selectinload(Case.introductions).joinedload(Introduction.mentor))
    rows = []
    for c, late, who in db.session.execute(stmt).unique():
        asks = sorted((i for i in c.introductions if i.asked_at is not None), key=lambda i: (i.asked_at, i.id))
        rows.append(QueueRow(c, bool(late), who or "", asks))
    counts = dict(db.session.execute(select(waiting, func.count()).where(scope(user),
                                                                           Case.status.in_(states.ACTIVE_CASE_STATES
                                                                                           + ("proposed",)))
                                     .group_by(waiting)).all())
    counts["overdue"] = db.session.scalar(select(func.count()).where(scope(user), overdue_condition(now))) or 0
    return QueuePage(rows, total, f, counts)


@dataclass
class BulkResult:
    done: list[int]
    failed: list[tuple[int, str]]


def bulk(user: User, action: str, case_ids: list[int], reason: str) -> BulkResult:
    """Apply one action to each chosen case, through the help desk's own operation; a case
    that cannot take it (changed meanwhile, wrong status) is reported, the others proceed."""
    if not may_act(user):
        raise QueueError(_l("Only federation staff act on cases from the queue."))
    if action not in BULK_ACTIONS:
        raise QueueError(_l("Choose what to do with the chosen cases."))
    ids = sorted({i for i in case_ids if mentoring.common.valid_id(i)})
    if not ids:
        raise QueueError(_l("Tick at least one case."))
    if len(ids) > 200:
        raise QueueError(_l("At most 200 cases at once."))
    reason = (reason or "").strip()
    if not reason:
        raise QueueError(_l("Give a reason: it goes into each case's log."))
    operation = {"reassign": mentoring.reassign, "escalate": mentoring.escalate_case,
                 "dismiss": mentoring.dismiss_proposed}[action]
    done, failed = [], []
    for case_id in ids:
        try:
            operation(user, case_id, reason)
        except mentoring.NotFound:
            db.session.rollback()
            failed.append((case_id, str(_l("Not found."))))
        except (mentoring.MentoringError, states.InvalidTransition) as e:
            db.session.rollback()
            failed.append((case_id, str(e)))
        else:
            done.append(case_id)
    return BulkResult(done, failed)


def ask_history(case_obj: Case) -> list[Introduction]:
    """Every ask of a case, oldest first, with its answer (and a decline's reason)."""
    return sorted((i for i in case_obj.introductions if i.asked_at is not None or i.status in ("declined",)),
                  key=lambda i: (i.asked_at or i.created_at, i.id))

