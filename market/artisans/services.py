"""Artisan shop and product operations. Every change checks who is acting."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market import areas, images, search
from market.extensions import db
from market.models import Artisan, Product, ProductImage, User
from market.models.catalog import PRODUCT_STATUSES
from market.vocab import ARTISAN_KINDS, CATEGORIES

log = logging.getLogger(__name__)
MAX_IMAGES = 8


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class ShopError(ValueError):
    """A rule was broken; the message is safe to show."""


def yuan_to_fen(amount: Decimal | int | str) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _upload_kwargs() -> dict:
    cfg = current_app.config
    return {"max_bytes": cfg["MAX_IMAGE_BYTES"], "max_side": cfg["IMAGE_MAX_SIDE"], "thumb_size": cfg["THUMBNAIL_SIZE"]}


def _upload_folder():
    from pathlib import Path

    return Path(current_app.config["UPLOAD_FOLDER"])


def save_shop(user: User, *, display_name: str, kind: str, district: str, story: str = "", photo=None) -> Artisan:
    if not areas.is_district(district):
        raise ShopError(_l("Choose a district or county of Ningbo."))
    if kind not in ARTISAN_KINDS:
        raise ShopError(_l("Choose what kind of artisan you are."))
    stored = None
    if photo is not None:
        stored = images.store_image(photo, _upload_folder(), **_upload_kwargs())
    artisan = user.artisan
    if artisan is None:
        artisan = Artisan(user=user, status="pending")
        db.session.add(artisan)
        if not user.has_role("artisan"):
            from market.accounts.services import add_role

            add_role(user, "artisan")
    artisan.display_name = display_name.strip()
    artisan.kind = kind
    artisan.district = district
    artisan.story = story or ""
    if stored:
        artisan.photo = stored.thumb_filename
    db.session.commit()
    log.info("shop saved artisan=%s by user=%s", artisan.id, user.id)
    return artisan


@dataclass
class ProductData:
    title: str
    description: str
    category: str
    price_fen: int
    stock: int
    brand_id: int | None = None
    status: str = "draft"

    def validate(self, artisan: Artisan) -> None:
        if not self.title.strip():
            raise ShopError(_l("A title is required."))
        if self.category not in CATEGORIES:
            raise ShopError(_l("Choose a category."))
        if self.status not in PRODUCT_STATUSES:
            raise ShopError(_l("Unknown status."))
        if not isinstance(self.price_fen, int) or self.price_fen <= 0:
            raise ShopError(_l("The price must be more than zero."))
        if not isinstance(self.stock, int) or self.stock < 0:
            raise ShopError(_l("The stock cannot be negative."))
        if self.brand_id and self.brand_id not in {b.id for b in artisan.brands}:
            raise ShopError(_l("You can only list under a brand you belong to."))


def product_for_edit(user: User, product_id: int) -> Product:
    """The product, if `user` may edit it: its artisan or staff. 404 before 403."""
    product = db.session.scalar(
        select(Product).where(Product.id == product_id).options(selectinload(Product.images))
    )
    if product is None:
        raise NotFound(product_id)
    if not user.is_staff and (user.artisan is None or user.artisan.id != product.artisan_id):
        raise Forbidden(product_id)
    return product


def my_products(artisan: Artisan) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.artisan_id == artisan.id)
            .options(selectinload(Product.images))
            .order_by(Product.status, Product.updated_at.desc())
        )
    )


def save_product(user: User, data: ProductData, *, product: Product | None = None, uploads=()) -> Product:
    """Create (product None) or update a product, with new images appended. Images are all
    validated before anything is written; a bad one leaves the product unchanged."""
    if product is None:
        artisan = user.artisan
        if artisan is None:
            raise Forbidden("no shop")
    else:
        artisan = product.artisan
        if not user.is_staff and (user.artisan is None or user.artisan.id != artisan.id):
            raise Forbidden(product.id)
    data.validate(artisan)
    uploads = [u for u in uploads if u is not None and getattr(u, "filename", "x")]
    existing = len(product.images) if product else 0
    if existing + len(uploads) > MAX_IMAGES:
        raise ShopError(_l("A product can have at most %(n)s images.", n=MAX_IMAGES))

    stored: list[images.StoredImage] = []
    try:
        for upload in uploads:
            stored.append(images.store_image(getattr(upload, "stream", upload), _upload_folder(), **_upload_kwargs()))
    except images.ImageError:
        for s in stored:
            images.delete_stored(_upload_folder(), s.filename, s.thumb_filename)
        raise

    if product is None:
        product = Product(artisan=artisan)
        db.session.add(product)
    was_published = product.status == "published"
    product.title = data.title.strip()
    product.description = data.description or ""
    product.category = data.category
    product.price_fen = data.price_fen
    product.stock = data.stock
    product.brand_id = data.brand_id or None
    product.status = data.status
    if data.status == "published" and not was_published:
        product.published_at = datetime.now(UTC).replace(tzinfo=None)
    product.search_tokens = search.index_tokens(product.title, product.description)
    for i, s in enumerate(stored, start=existing):
        product.images.append(
            ProductImage(filename=s.filename, thumb_filename=s.thumb_filename, width=s.width, height=s.height, position=i)
        )
    db.session.commit()
    log.info("product saved id=%s status=%s by user=%s", product.id, product.status, user.id)
    return product


def set_product_status(user: User, product_id: int, status: str) -> Product:
    product = product_for_edit(user, product_id)
    if status not in PRODUCT_STATUSES:
        raise ShopError(_l("Unknown status."))
    if status == "published" and product.status != "published":
        product.published_at = datetime.now(UTC).replace(tzinfo=None)
    product.status = status
    db.session.commit()
    log.info("product status id=%s -> %s by user=%s", product.id, status, user.id)
    return product


def remove_image(user: User, product_id: int, image_id: int) -> None:
    product = product_for_edit(user, product_id)
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        raise NotFound(image_id)
    product.images.remove(image)
    db.session.commit()
    images.delete_stored(_upload_folder(), image.filename, image.thumb_filename)
