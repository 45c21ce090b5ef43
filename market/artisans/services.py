"""Artisan shop and product operations. Every change checks who is acting."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from market import areas, images, search
from market.extensions import db
from market.models import Artisan, Product, ProductImage, User
from market.models.catalog import PRODUCT_STATUSES
from market.vocab import ARTISAN_KINDS, CATEGORIES

log = logging.getLogger(__name__)


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class ShopError(ValueError):
    """A rule was broken; the message is safe to show. `field` names the form field it is
    about (None: the form as a whole)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def may_upload(artisan: Artisan | None) -> bool:
    """Until federation staff approve her shop, an artisan prepares it (name, district,
    story) and drafts products in text; images and publishing wait for the approval. Images
    are the expensive and risky part of a request, and a pending shop shows nobody anything."""
    return artisan is not None and artisan.is_approved


def charge_upload_budget(user: User, count: int) -> None:
    """Count `count` images against the account's UPLOAD_RATE_LIMIT (shared by all app
    servers through the limiter's storage); ShopError once it is spent."""
    if count <= 0 or not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    from limits import parse

    from market.extensions import limiter

    item = parse(current_app.config["UPLOAD_RATE_LIMIT"])
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    try:
        allowed = limiter.limiter.hit(item, prefix, "uploads", f"user:{user.id}", cost=count)
    except Exception as exc:  # storage unreachable: the size and pixel limits still hold
        log.warning("upload budget not checked for user=%s: %s", user.id, exc)
        return
    if not allowed:
        log.info("upload budget spent user=%s images=%s", user.id, count)
        raise ShopError(_l("You have uploaded many images recently. Please wait a while and try again."),
                        field="images")


def _check_uploads(user: User, artisan: Artisan | None, count: int, *, field: str) -> None:
    if count == 0:
        return
    if not may_upload(artisan):
        raise ShopError(_l("You can add photos once federation staff have approved your shop."), field=field)
    per_request = current_app.config["MAX_IMAGES_PER_REQUEST"]
    if count > per_request:
        raise ShopError(_l("Send at most %(n)s images at a time.", n=per_request), field=field)
    charge_upload_budget(user, count)


def yuan_to_fen(amount: Decimal | int | str) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _upload_kwargs() -> dict:
    cfg = current_app.config
    return {"max_bytes": cfg["MAX_IMAGE_BYTES"], "max_side": cfg["IMAGE_MAX_SIDE"], "thumb_size": cfg["THUMBNAIL_SIZE"],
            "max_pixels": cfg["IMAGE_MAX_PIXELS"]}


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
        _check_uploads(user, user.artisan, 1, field="photo")
        stored = images.store_image(getattr(photo, "stream", photo), _upload_folder(), **_upload_kwargs())
    artisan = user.artisan
    new_shop = artisan is None
    if new_shop:
        artisan = Artisan(user=user, status="pending")
    artisan.display_name = display_name.strip()
    artisan.kind = kind
    artisan.district = district
    artisan.story = story or ""
    if stored:
        artisan.photo = stored.thumb_filename
    user_id = user.id
    try:
        if new_shop:
            # Only a complete row may be flushed: add_role queries, and autoflush would insert it.
            db.session.add(artisan)
            if not user.has_role("artisan"):
                from market.accounts.services import add_role

                add_role(user, "artisan")
        db.session.commit()
    except IntegrityError:  # the set-up form sent at the same moment (a double click) opened it first
        db.session.rollback()
        if stored:
            images.delete_stored(_upload_folder(), stored.filename, stored.thumb_filename)
        first = db.session.scalar(select(Artisan).where(Artisan.user_id == user_id)) if new_shop else None
        if first is None:
            raise
        log.info("shop form sent again artisan=%s by user=%s", first.id, user_id)
        return first
    log.info("shop saved artisan=%s by user=%s", artisan.id, user.id)
    if new_shop:
        from market.notifications import tell_staff_to_approve

        tell_staff_to_approve(artisan.display_name, "artisan", f"approval:artisan:{artisan.id}")
        db.session.commit()
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
    # The stock the form showed when it was opened: a save applies the difference, so sales
    # made meanwhile are never written over (None: the stock as read now).
    loaded_stock: int | None = None
    # Optional English, shown to English readers when present.
    title_en: str = ""
    description_en: str = ""

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


def _just_listed(artisan: Artisan, data: ProductData) -> Product | None:
    """Her latest product when it is exactly this one (a double click on “save”, the back
    button and “save” again): a new listing identical in every field would be a duplicate."""
    latest = db.session.scalar(select(Product).where(Product.artisan_id == artisan.id)
                               .order_by(Product.id.desc()).limit(1))
    if latest is None:
        return None
    same = (latest.title == data.title.strip() and latest.description == (data.description or "")
            and latest.title_en == (data.title_en or "").strip()
            and latest.description_en == (data.description_en or "") and latest.category == data.category
            and latest.price_fen == data.price_fen and latest.stock == data.stock
            and latest.brand_id == (data.brand_id or None) and latest.status == data.status)
    return latest if same else None


def save_product(user: User, data: ProductData, *, product: Product | None = None, uploads=(),
                 form_sent_again_ok: bool = False) -> Product:
    """Create (product None) or update a product, with new images appended. Images are all
    validated before anything is written; a bad one leaves the product unchanged.
    `form_sent_again_ok`: a new product identical to her latest is that one (the form sent twice)."""
    if product is None:
        artisan = user.artisan
        if artisan is None:
            raise Forbidden("no shop")
    else:
        artisan = product.artisan
        if not user.is_staff and (user.artisan is None or user.artisan.id != artisan.id):
            raise Forbidden(product.id)
    data.validate(artisan)
    if product is None and form_sent_again_ok:
        again = _just_listed(artisan, data)
        if again is not None:  # the new-product form sent twice: the product it made
            log.info("product form sent again id=%s by user=%s", again.id, user.id)
            return again
    was_published = product is not None and product.status == "published"
    if data.status == "published" and not was_published and not artisan.is_approved:
        raise ShopError(_l("You can publish once federation staff have approved your shop; save it as a draft for now."),
                        field="status")
    uploads = [u for u in uploads if u is not None]
    existing = len(product.images) if product else 0
    per_product = current_app.config["MAX_IMAGES_PER_PRODUCT"]
    if existing + len(uploads) > per_product:
        raise ShopError(_l("A product can have at most %(n)s images.", n=per_product), field="images")
    _check_uploads(user, artisan, len(uploads), field="images")

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
    if product.id is None:
        product.stock = data.stock
    else:
        try:
            _apply_stock_change(product, data)
        except StockConflict:
            for s in stored:
                images.delete_stored(_upload_folder(), s.filename, s.thumb_filename)
            raise
    product.title = data.title.strip()
    product.description = data.description or ""
    product.title_en = (data.title_en or "").strip()
    product.description_en = data.description_en or ""
    product.category = data.category
    product.price_fen = data.price_fen
    product.brand_id = data.brand_id or None
    product.status = data.status
    if data.status == "published" and not was_published:
        product.published_at = datetime.now(UTC).replace(tzinfo=None)
    product.search_tokens = search.product_tokens(product)
    for i, s in enumerate(stored, start=existing):
        product.images.append(
            ProductImage(filename=s.filename, thumb_filename=s.thumb_filename, width=s.width, height=s.height, position=i)
        )
    db.session.commit()
    log.info("product saved id=%s status=%s by user=%s", product.id, product.status, user.id)
    return product


def _apply_stock_change(product: Product, data: ProductData) -> None:
    """Add the artisan's change (new stock - the stock her form was loaded with) to the stock
    as it is now, with a conditional UPDATE, so units sold while the form was open stay sold.
    A change that would take the stock below zero is refused, naming what is left."""
    loaded = product.stock if data.loaded_stock is None else data.loaded_stock
    delta = data.stock - loaded
    if delta == 0:
        return
    result = db.session.execute(
        update(Product).where(Product.id == product.id, Product.stock + delta >= 0)
        .values(stock=Product.stock + delta).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        now = db.session.scalar(select(Product.stock).where(Product.id == product.id))
        raise StockConflict(_l("%(sold)s sold while you were editing: %(now)s left now. Nothing was saved; "
                               "please check the stock and save again.", sold=max(loaded - now, 0), now=now))
    db.session.expire(product, ["stock"])


class StockConflict(ShopError):
    """The stock changed under the form in a way its change cannot apply to."""


def current_stock(product_id: int) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product_id)) or 0


def set_product_status(user: User, product_id: int, status: str) -> Product:
    product = product_for_edit(user, product_id)
    if status not in PRODUCT_STATUSES:
        raise ShopError(_l("Unknown status."))
    if status == "published" and product.status != "published" and not product.artisan.is_approved:
        raise ShopError(_l("You can publish once federation staff have approved your shop; save it as a draft for now."),
                        field="status")
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
