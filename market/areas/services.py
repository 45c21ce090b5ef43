"""Queries and changes of the area tree. District lists are read on every form and catalogue
page, so each app process keeps them for AREA_CACHE_SECONDS (a change made through
`add_area` is seen at once by the process that made it, by the others within that time)."""
from __future__ import annotations

import time

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db
from market.models import AREA_LEVELS, Area, AreaResponsibility, User

AREA_CACHE_SECONDS = 60
# The districts and counties of Ningbo, in the order forms list them: (official name, English).
NINGBO_DISTRICTS = (
    ("海曙区", "Haishu District"),
    ("江北区", "Jiangbei District"),
    ("北仑区", "Beilun District"),
    ("镇海区", "Zhenhai District"),
    ("鄞州区", "Yinzhou District"),
    ("奉化区", "Fenghua District"),
    ("余姚市", "Yuyao City"),
    ("慈溪市", "Cixi City"),
    ("宁海县", "Ninghai County"),
    ("象山县", "Xiangshan County"),
)
CHILD_LEVEL = {"district": "town", "town": "village", "village": "grid"}


class AreaError(ValueError):
    """A rule of the tree was broken; the message is safe to show."""


def _get_area(area_id) -> Area | None:
    # URLs and forms accept any integer; PostgreSQL's integer does not.
    if not isinstance(area_id, int) or isinstance(area_id, bool) or not 0 < area_id < 2**31:
        return None
    return db.session.get(Area, area_id)


def _lang() -> str:
    locale = get_locale()
    return "zh" if locale is None or locale.language == "zh" else "en"


def districts() -> dict[str, tuple[str, str]]:
    """{official name: (zh, en)} of every district, in display order (cached per process)."""
    cache = current_app.extensions.setdefault("areas_cache", {})
    now = time.monotonic()
    if cache.get("districts") is None or now - cache.get("loaded_at", 0) > AREA_CACHE_SECONDS:
        rows = db.session.execute(select(Area.name, Area.name_en).where(Area.level == "district")
                                  .order_by(Area.position, Area.id)).all()
        cache.update(districts={name: (name, name_en or name) for name, name_en in rows}, loaded_at=now)
    return cache["districts"]


def invalidate() -> None:
    current_app.extensions.get("areas_cache", {}).clear()


def is_district(name: str | None) -> bool:
    return bool(name) and name in districts()


def district_label(name: str | None, lang: str | None = None) -> str:
    labels = districts().get(name or "")
    if labels is None:
        return name or ""
    return labels[0] if (lang or _lang()) == "zh" else labels[1]


def district_choices(lang: str | None = None) -> list[tuple[str, str]]:
    i = 0 if (lang or _lang()) == "zh" else 1
    return [(name, labels[i]) for name, labels in districts().items()]


def region_names() -> tuple[str, ...]:
    """The districts as the matcher's `regions` (two different ones are "the same city")."""
    return tuple(districts())


def area_choices(level: str | None = None, lang: str | None = None) -> list[tuple[int, str]]:
    """Every area (or those of one level) as (id, "district / town / village")."""
    lang = lang or _lang()
    rows = list(db.session.scalars(select(Area).order_by(Area.level, Area.position, Area.id)))
    by_id = {a.id: a for a in rows}

    def path(area: Area) -> str:
        names = []
        while area is not None:
            names.append(area.label(lang))
            area = by_id.get(area.parent_id)
        return " / ".join(reversed(names))

    chosen = [a for a in rows if level is None or a.level == level]
    return sorted(((a.id, path(a)) for a in chosen), key=lambda item: item[1])


def subtree_ids(area_ids) -> set[int]:
    """The given areas and every area below them."""
    found = set(area_ids)
    frontier = set(found)
    while frontier:
        children = set(db.session.scalars(select(Area.id).where(Area.parent_id.in_(frontier))))
        frontier = children - found
        found |= children
    return found


def add_area(parent_id: int | None, name: str, name_en: str = "") -> Area:
    """A district (no parent) or an area one level below its parent."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 40:
        raise AreaError(_l("Enter the area's name (at most 40 characters)."))
    parent = None
    if parent_id is not None:
        parent = _get_area(parent_id)
        if parent is None or parent.level not in CHILD_LEVEL:
            raise AreaError(_l("Choose a parent area that can hold smaller areas."))
    level = CHILD_LEVEL[parent.level] if parent else "district"
    exists = db.session.scalar(select(Area.id).where(Area.parent_id.is_(None) if parent is None
                                                     else Area.parent_id == parent.id, Area.name == name))
    if exists is not None:
        raise AreaError(_l("This area already exists."))
    area = Area(parent_id=parent.id if parent else None, level=level, name=name,
                name_en=" ".join((name_en or "").split())[:80])
    db.session.add(area)
    db.session.commit()
    invalidate()
    return area


def responsible_area_ids(user: User) -> set[int]:
    """The areas a staff member or 执委 is responsible for, with everything below them."""
    direct = set(db.session.scalars(select(AreaResponsibility.area_id).where(AreaResponsibility.user_id == user.id)))
    return subtree_ids(direct) if direct else set()


def grant_responsibility(actor: User, user: User, area_id: int) -> None:
    from market import audit

    if _get_area(area_id) is None:
        raise AreaError(_l("Choose an area."))
    if db.session.get(AreaResponsibility, (user.id, area_id)) is None:
        db.session.add(AreaResponsibility(user_id=user.id, area_id=area_id))
        audit.record(actor, "area.grant", ("users", user.id))
        db.session.commit()


def revoke_responsibility(actor: User, user: User, area_id: int) -> None:
    from market import audit

    link = db.session.get(AreaResponsibility, (user.id, area_id)) if _get_area(area_id) else None
    if link is not None:
        db.session.delete(link)
        audit.record(actor, "area.revoke", ("users", user.id))
        db.session.commit()


def seed_defaults() -> int:
    """Add Ningbo's districts if the tree has none (idempotent). Returns how many were added."""
    if db.session.scalar(select(Area.id).where(Area.level == "district").limit(1)) is not None:
        return 0
    for position, (name, name_en) in enumerate(NINGBO_DISTRICTS):
        db.session.add(Area(level="district", name=name, name_en=name_en, position=position))
    db.session.commit()
    invalidate()
    return len(NINGBO_DISTRICTS)


assert set(CHILD_LEVEL.values()) | {"district"} == set(AREA_LEVELS)
