"""Federation staff operations on artisans and collective brands."""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market import areas
from market.extensions import db
from market.models import Artisan, Brand, User

log = logging.getLogger(__name__)


class StaffError(ValueError):
    """A rule was broken; the message is safe to show."""


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise PermissionError("staff only")


def artisans_by_status(status: str | None = None) -> list[Artisan]:
    stmt = select(Artisan).options(selectinload(Artisan.brands)).order_by(Artisan.created_at.desc())
    if status:
        stmt = stmt.where(Artisan.status == status)
    return list(db.session.scalars(stmt))


def review_artisan(actor: User, artisan_id: int, decision: str) -> Artisan:
    _require_staff(actor)
    if decision not in ("approved", "rejected", "pending"):
        raise StaffError(_l("Unknown decision."))
    artisan = db.session.get(Artisan, artisan_id)
    if artisan is None:
        raise LookupError(artisan_id)
    artisan.status = decision
    artisan.approved_at = datetime.now(UTC).replace(tzinfo=None) if decision == "approved" else None
    db.session.commit()
    log.info("artisan %s -> %s by staff=%s", artisan.id, decision, actor.id)
    return artisan


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}$")


def save_brand(actor: User, *, slug: str, name: str, name_en: str = "", story: str = "",
               district: str | None = None, featured: bool = False, brand: Brand | None = None) -> Brand:
    _require_staff(actor)
    slug = (slug or "").strip().lower()
    if not _SLUG.match(slug):
        raise StaffError(_l("The web address may use only lower-case letters, digits and dashes."))
    if district and not areas.is_district(district):
        raise StaffError(_l("Choose a district or county of Ningbo."))
    clash = db.session.scalar(select(Brand).where((Brand.slug == slug) | (Brand.name == name.strip())))
    if clash is not None and clash is not brand:
        raise StaffError(_l("A brand with this name or web address already exists."))
    if brand is None:
        brand = Brand()
        db.session.add(brand)
    brand.slug, brand.name, brand.name_en = slug, name.strip(), name_en.strip()
    brand.story, brand.district, brand.featured = story, district or None, featured
    db.session.commit()
    log.info("brand saved id=%s by staff=%s", brand.id, actor.id)
    return brand


def set_membership(actor: User, brand_id: int, artisan_id: int, member: bool) -> None:
    _require_staff(actor)
    brand = db.session.get(Brand, brand_id)
    artisan = db.session.get(Artisan, artisan_id)
    if brand is None or artisan is None:
        raise LookupError((brand_id, artisan_id))
    if member and artisan not in brand.members:
        brand.members.append(artisan)
    elif not member and artisan in brand.members:
        brand.members.remove(artisan)
    db.session.commit()
    log.info("brand %s member %s -> %s by staff=%s", brand.id, artisan.id, member, actor.id)


# ---- search synonyms ------------------------------------------------------------------

def synonym_groups() -> list:
    from market.models import SynonymGroup

    return list(db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)))


def add_synonym_group(actor: User, text: str):
    """Store a staff synonym group (``a, b, c`` or ``a => b, c``) in its normalised form;
    search uses it from the next request on (each process's cache is cleared or expires
    within SYNONYMS_CACHE_SECONDS)."""
    from sqlalchemy.exc import IntegrityError

    from market.catalog import searching
    from market.models import SynonymGroup
    from synonyms import parse_group

    _require_staff(actor)
    try:
        line = parse_group(text).as_line()
    except ValueError as exc:
        log.info("synonym group refused (%s): %r", exc, text)
        raise StaffError(_l("Write at least two different terms separated by commas (绣花, 刺绣), or one "
                            "term, then =>, then the terms it covers (海鲜干货 => 鱼鲞, 虾干).")) from None
    if len(line) > 600:
        raise StaffError(_l("This group is too long: split it into several."))
    if db.session.scalar(select(SynonymGroup.id).where(SynonymGroup.line == line)) is not None:
        raise StaffError(_l("This group exists already."))
    group = SynonymGroup(line=line, created_by_id=actor.id)
    db.session.add(group)
    try:
        db.session.commit()
    except IntegrityError:  # the same group added at the same moment by someone else
        db.session.rollback()
        raise StaffError(_l("This group exists already.")) from None
    searching.forget_staff_groups()
    log.info("synonym group %s added by staff=%s: %s", group.id, actor.id, line)
    return group


def remove_synonym_group(actor: User, group_id: int) -> None:
    from market.catalog import searching
    from market.models import SynonymGroup

    _require_staff(actor)
    group = db.session.get(SynonymGroup, group_id)
    if group is None:
        raise LookupError(group_id)
    line = group.line
    db.session.delete(group)
    db.session.commit()
    searching.forget_staff_groups()
    log.info("synonym group %s removed by staff=%s: %s", group_id, actor.id, line)
