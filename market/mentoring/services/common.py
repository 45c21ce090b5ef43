"""What every part of the help desk shares: errors, the clock, compare-and-set status moves
(the only code that writes a status, each checked against its table in `states`), the
system's log lines, and loading a case with what its page needs."""
from __future__ import annotations

import logging
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from market import clock
from market.extensions import db
from market.mentoring import states
from market.models import (
    Area,
    AreaResponsibility,
    Case,
    CaseDifficulty,
    CaseEntry,
    Introduction,
    MentorProfile,
    User,
    UserRole,
)

log = logging.getLogger("market.mentoring.services")


class MentoringError(ValueError):
    """A rule was broken; the message is safe to show."""


class NotFound(LookupError):
    """Missing, or not the caller's to see (the two look the same from outside)."""


CHANGED = _l("This case has just changed. Please reload the page.")


def utcnow() -> datetime:
    return clock.now()


def today() -> date:
    return clock.today()


def add_role(user: User, role: str) -> None:
    if not user.has_role(role):
        db.session.add(UserRole(user_id=user.id, role=role))
        db.session.flush()
        db.session.expire(user, ["roles"])


def entry(case: Case, author: User | None, kind: str, body: str, happened_on: date | None = None,
          next_follow_up_on: date | None = None) -> CaseEntry:
    row = CaseEntry(case_id=case.id, author_id=author.id if author else None, kind=kind, body=(body or "")[:4000],
                    happened_on=happened_on or today(), next_follow_up_on=next_follow_up_on, created_at=utcnow())
    db.session.add(row)
    return row


def move(case: Case, new: str, **values) -> bool:
    """Compare-and-set the case status in the database, so two people acting at once can
    never both apply one change. False if someone else moved it first."""
    states.check(case.status, new, "case")
    result = db.session.execute(
        update(Case).where(Case.id == case.id, Case.status == case.status)
        .values(status=new, **values).execution_options(synchronize_session=False)
    )
    db.session.refresh(case)
    return result.rowcount == 1


def move_introduction(intro_id: int, current: str, new: str, **values) -> bool:
    """Compare-and-set an introduction's status (checked against its table)."""
    states.check(current, new, "introduction")
    return db.session.execute(
        update(Introduction).where(Introduction.id == intro_id, Introduction.status == current)
        .values(status=new, **values).execution_options(synchronize_session=False)
    ).rowcount == 1


def move_introductions(case_id: int, new: str, **values) -> int:
    """Move every introduction of a case that may become `new` (e.g. all pending ones to
    "superseded"); returns how many moved."""
    sources = states.sources_of(new, "introduction")
    return db.session.execute(
        update(Introduction).where(Introduction.case_id == case_id, Introduction.status.in_(sources))
        .values(status=new, **values).execution_options(synchronize_session=False)
    ).rowcount


def move_difficulty(item: CaseDifficulty, new: str, **values) -> bool:
    states.check(item.status, new, "difficulty")
    result = db.session.execute(
        update(CaseDifficulty).where(CaseDifficulty.id == item.id, CaseDifficulty.status == item.status)
        .values(status=new, updated_at=utcnow(), **values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def touch(case_id: int) -> None:
    db.session.execute(update(Case).where(Case.id == case_id).values(last_activity_at=utcnow())
                       .execution_options(synchronize_session=False))


def release_place(mentor_id: int | None) -> None:
    if mentor_id is not None:
        db.session.execute(
            update(MentorProfile).where(MentorProfile.id == mentor_id, MentorProfile.current_load > 0)
            .values(current_load=MentorProfile.current_load - 1)
            .execution_options(synchronize_session=False)
        )


def take_place(mentor_id: int) -> bool:
    """One place of the mentor's capacity, only while she has one free (safe under races)."""
    return db.session.execute(
        update(MentorProfile)
        .where(MentorProfile.id == mentor_id, MentorProfile.current_load < MentorProfile.capacity,
               MentorProfile.status == "approved")
        .values(current_load=MentorProfile.current_load + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def valid_id(value) -> bool:
    """An id that can name a row (URLs accept any integer; PostgreSQL's integer does not)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def get(model, ident):
    return db.session.get(model, ident) if valid_id(ident) else None


def load_case(case_id) -> Case | None:
    if not valid_id(case_id):
        return None
    return db.session.scalar(
        select(Case).where(Case.id == case_id).options(
            selectinload(Case.introductions).joinedload(Introduction.mentor).joinedload(MentorProfile.user),
            selectinload(Case.entries).joinedload(CaseEntry.author),
            selectinload(Case.difficulty_items),
            joinedload(Case.mentor), joinedload(Case.author), joinedload(Case.artisan), joinedload(Case.filed_by),
        )
    )


def active_mentor_ids(case: Case) -> set[int]:
    """Mentors working on the case now (the lead and any second mentor)."""
    return {i.mentor_id for i in case.introductions if i.status == "accepted"}


def responsible_staff(case: Case, role: str) -> list[User]:
    """Holders of `role` linked to the case's district or anything above it; all holders when
    nobody is linked (someone must hear of it)."""
    district = db.session.scalar(select(Area.id).where(Area.level == "district", Area.name == case.district))
    holders = select(UserRole.user_id).where(UserRole.role == role)
    linked = []
    if district is not None:
        linked = list(db.session.scalars(
            select(User).join(AreaResponsibility, AreaResponsibility.user_id == User.id)
            .where(AreaResponsibility.area_id == district, User.id.in_(holders), User.active.is_(True))
        ))
    return linked or list(db.session.scalars(select(User).where(User.id.in_(holders), User.active.is_(True))))
