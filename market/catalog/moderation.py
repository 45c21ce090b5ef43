"""Product moderation: staff hide a listing with a reason the artisan sees, and restore it.

Hiding takes the product off every public page (market.catalog.queries.public_products)
whatever its status; the artisan keeps editing it and sees why on her dashboard and product
form, and is told by a notice. Both actions are in the audit log."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from market import audit
from market.extensions import db
from market.models import Product, User

log = logging.getLogger(__name__)
MAX_REASON = 300


class ModerationError(ValueError):
    """The message is safe to show."""


class NotFound(LookupError):
    pass


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hide_product(staff: User, product_id: int, reason: str) -> Product:
    if not staff.is_staff:
        raise NotFound(product_id)
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(product_id)
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_l("Say why the product is hidden: the artisan will see it."))
    if len(reason) > MAX_REASON:
        raise ModerationError(_l("Write at most %(n)s characters.", n=MAX_REASON))
    done = db.session.execute(update(Product).where(Product.id == product_id, Product.hidden_at.is_(None))
                              .values(hidden_at=_now(), hidden_reason=reason, updated_at=_now())
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise ModerationError(_l("This product is already hidden."))
    audit.record(staff, "product.hide", product)
    from market.notifications import notify

    notify(product.artisan.user, "listing_hidden",
           {"title": product.title, "reason": reason, "url": f"/shop/products/{product.id}/edit"},
           event=f"listing_hidden:{product.id}:{_now().isoformat()}")
    db.session.commit()
    log.info("product hidden id=%s by user=%s", product_id, staff.id)
    db.session.expire_all()
    return db.session.get(Product, product_id)


def restore_product(staff: User, product_id: int) -> Product:
    if not staff.is_staff:
        raise NotFound(product_id)
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(product_id)
    done = db.session.execute(update(Product).where(Product.id == product_id, Product.hidden_at.is_not(None))
                              .values(hidden_at=None, hidden_reason=None, updated_at=_now())
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise ModerationError(_l("This product is not hidden."))
    audit.record(staff, "product.restore", product)
    db.session.commit()
    log.info("product restored id=%s by user=%s", product_id, staff.id)
    db.session.expire_all()
    return db.session.get(Product, product_id)


def hidden_products(limit: int = 200) -> list[Product]:
    """Hidden listings, latest first, for the staff moderation list."""
    from market.models import Artisan

    return list(db.session.scalars(select(Product).where(Product.hidden_at.is_not(None))
                                   .options(joinedload(Product.artisan).joinedload(Artisan.user))
                                   .order_by(Product.hidden_at.desc(), Product.id.desc()).limit(limit)))
