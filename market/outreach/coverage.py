"""Coverage: when each woman on a list was last contacted, whether a difficulty of hers is
still open, and who needs a call or visit first."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from market import clock
from market.extensions import db
from market.models import CaseDifficulty, ClientProfile, OutreachContact, User, Visit


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass
class ContactRow:
    contact: OutreachContact
    profile: ClientProfile
    cadre: User
    last: Visit | None
    open_difficulty: bool
    this_month: bool
    this_quarter: bool

    @property
    def never(self) -> bool:
        return self.last is None

    @property
    def days_since(self) -> int | None:
        return (clock.today() - self.last.happened_on).days if self.last else None

    def priority(self) -> tuple:
        """Who needs a call or visit first: never contacted, then an open difficulty, then
        whoever was contacted longest ago."""
        return (0 if self.never else 1, 0 if self.open_difficulty else 1,
                self.last.happened_on if self.last else date.min, self.profile.id)


@dataclass
class Coverage:
    rows: list[ContactRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def this_month(self) -> int:
        return sum(r.this_month for r in self.rows)

    @property
    def this_quarter(self) -> int:
        return sum(r.this_quarter for r in self.rows)

    @property
    def never(self) -> int:
        return sum(r.never for r in self.rows)

    @property
    def open_difficulty(self) -> int:
        return sum(r.open_difficulty for r in self.rows)


def _last_visits(profile_ids: list[int]) -> dict[int, Visit]:
    if not profile_ids:
        return {}
    # The latest by the day it happened, then by id (a visit sent late for an older day is not "the last").
    out: dict[int, Visit] = {}
    for v in db.session.scalars(select(Visit).where(Visit.profile_id.in_(profile_ids))
                                .order_by(Visit.profile_id, Visit.happened_on, Visit.id)):
        out[v.profile_id] = v
    return out


def _open_codes(case_ids: set[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    if case_ids:
        for case_id, code in db.session.execute(select(CaseDifficulty.case_id, CaseDifficulty.code).where(
                CaseDifficulty.case_id.in_(case_ids), CaseDifficulty.status.in_(("open", "in_hand")))):
            out.setdefault(case_id, set()).add(code)
    return out


def coverage(cadre_id: int | None = None, area_ids: set[int] | None = None) -> Coverage:
    """Her list (or everyone's, or an area's) with when each woman was last contacted."""
    stmt = select(OutreachContact, ClientProfile, User).join(ClientProfile, ClientProfile.id == OutreachContact.profile_id) \
        .join(User, User.id == OutreachContact.cadre_id)
    if cadre_id is not None:
        stmt = stmt.where(OutreachContact.cadre_id == cadre_id)
    if area_ids is not None:
        stmt = stmt.where(ClientProfile.area_id.in_(area_ids or {0}))
    found = db.session.execute(stmt).all()
    last = _last_visits([p.id for _, p, _ in found])
    open_codes = _open_codes({v.case_id for v in last.values() if v.case_id})
    today = clock.today()
    month, quarter = today.replace(day=1), quarter_start(today)
    rows = []
    for contact, profile, cadre in found:
        v = last.get(profile.id)
        if v is None:
            open_difficulty = False
        elif v.case_id:
            open_difficulty = bool(set(v.difficulties or []) & open_codes.get(v.case_id, set()))
        else:
            open_difficulty = bool(v.difficulties)
        rows.append(ContactRow(contact, profile, cadre, v, open_difficulty,
                               bool(v and v.happened_on >= month), bool(v and v.happened_on >= quarter)))
    rows.sort(key=ContactRow.priority)
    return Coverage(rows)


def coverage_by_cadre() -> list[tuple[User, Coverage]]:
    cov = coverage()
    groups: dict[int, list[ContactRow]] = {}
    people: dict[int, User] = {}
    for row in cov.rows:
        groups.setdefault(row.cadre.id, []).append(row)
        people[row.cadre.id] = row.cadre
    return [(people[k], Coverage(v)) for k, v in sorted(groups.items(), key=lambda kv: people[kv[0]].name)]

