"""The board: an approved organisation posts a need or an offer (a need may be linked to a
woman's case), and closes it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market import audit, clock
from market.extensions import db
from market.models import Case, SupplyPost, User
from market.models.supply import POST_KINDS
from market.supply.common import (
    MAX_ID,
    NotFound,
    SupplyError,
    acting_org,
    clean,
    codes,
    count,
    get,
    is_member,
)
from matching.supply import CERTIFICATIONS, REGION_PREFERENCES, SUPPLY_CATEGORIES


@dataclass
class PostData:
    kind: str
    title: str
    description: str = ""
    categories: list = ()
    quantity: int | None = None
    unit: str = ""
    timing: str = ""
    budget_min_fen: int | None = None
    budget_max_fen: int | None = None
    region_preference: str = "any"
    required_certifications: list = ()
    open_until: date | None = None
    case_id: int | None = None



def _may_link_case(user: User, case: Case) -> bool:
    """Staff, the woman who filed it or had it filed, and her mentor may link a need to a case."""
    if user.is_staff or user.id in (case.author_id, case.filed_by_id):
        return True
    mentor = getattr(case, "mentor", None)
    return mentor is not None and mentor.user_id == user.id


def post(user: User, org_id: int, data: PostData) -> SupplyPost:
    org = acting_org(user, org_id)
    if data.kind not in POST_KINDS:
        raise SupplyError(_l("Choose need or offer."), field="kind")
    title = " ".join((data.title or "").split())
    if not 2 <= len(title) <= 120:
        raise SupplyError(_l("Enter a title (2 to 120 characters)."), field="title")
    if data.region_preference not in REGION_PREFERENCES:
        raise SupplyError(_l("Choose from the list."), field="region_preference")
    lo, hi = data.budget_min_fen, data.budget_max_fen
    if lo is not None and hi is not None and lo > hi:
        raise SupplyError(_l("The lowest price is above the highest."), field="budget_max")
    if data.open_until is None or data.open_until < clock.today():
        raise SupplyError(_l("Choose a date from today on."), field="open_until")
    if data.open_until > clock.today() + timedelta(days=366):
        raise SupplyError(_l("Choose a date within a year."), field="open_until")
    case_id = None
    if data.case_id:
        case = db.session.get(Case, data.case_id) if isinstance(data.case_id, int) and 0 < data.case_id <= MAX_ID \
            else None
        if case is None or not _may_link_case(user, case):
            raise SupplyError(_l("No such case."), field="case_id")
        if "supply_chain" not in case.difficulties:
            raise SupplyError(_l("Only a case with a supply-chain difficulty can be linked."), field="case_id")
        case_id = case.id
    row = SupplyPost(organisation_id=org.id, kind=data.kind, title=title, description=clean(data.description, 4000),
                     categories=codes(data.categories, SUPPLY_CATEGORIES, "categories"),
                     quantity=count(data.quantity, "quantity"), unit=clean(data.unit, 20),
                     timing=clean(data.timing, 120), budget_min_fen=lo, budget_max_fen=hi,
                     region_preference=data.region_preference,
                     required_certifications=codes(data.required_certifications, CERTIFICATIONS,
                                                    "required_certifications"),
                     open_until=data.open_until, status="open", case_id=case_id, created_by_id=user.id)
    again = _just_posted(row)
    if again is not None:  # the form sent twice (double click, back button and "post" again)
        return again
    db.session.add(row)
    db.session.flush()
    audit.record(user, f"supply.{data.kind}_post", row)
    db.session.commit()
    return row


_POST_FIELDS = ("kind", "title", "description", "categories", "quantity", "unit", "timing", "budget_min_fen",
                "budget_max_fen", "region_preference", "required_certifications", "open_until", "case_id")


def _just_posted(new: SupplyPost) -> SupplyPost | None:
    """The organisation's latest post when it is exactly this one and still open: a new post
    identical in every field is the same form sent again."""
    latest = db.session.scalar(select(SupplyPost).where(SupplyPost.organisation_id == new.organisation_id)
                               .order_by(SupplyPost.id.desc()).limit(1))
    if latest is None or latest.status != "open":
        return None
    return latest if all(getattr(latest, f) == getattr(new, f) for f in _POST_FIELDS) else None


def close_post(user: User, post_id: int) -> SupplyPost:
    row = get(SupplyPost, post_id)
    if not (is_member(user, row.organisation) or user.is_staff):
        raise NotFound(post_id)
    db.session.execute(update(SupplyPost).where(SupplyPost.id == row.id, SupplyPost.status == "open")
                       .values(status="closed"))
    audit.record(user, "supply.post_close", row)
    db.session.commit()
    db.session.refresh(row)
    return row

