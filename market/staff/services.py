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
