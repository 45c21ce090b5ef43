"""Reviews from verified buyers: every rule and state change about reviews lives here.

Only the buyer of an order line whose parcel was delivered may review it, once (the unique
key on reviews.line_id settles two submits racing each other); the artisan may answer once;
staff may hide a review with a reason and restore it (both in the audit log). The product's
rating_count / rating_sum follow the visible reviews in the same transaction, and its
updated_at moves with them so cached product cards are rebuilt.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from market import audit, images, jobs
from market.extensions import db
from market.models import Order, OrderLine, Product, Review, SubOrder, User

log = logging.getLogger(__name__)

MAX_PHOTOS = 3
MAX_BODY = 2000
MAX_REPLY = 1000
MAX_REASON = 300


class ReviewError(ValueError):
    """A rule was broken; the message is safe to show. `field` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(LookupError):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---- who may review what ----------------------------------------------------------------

def _delivered_lines(user_id: int):
    return (select(OrderLine).join(SubOrder, OrderLine.sub_order_id == SubOrder.id)
            .join(Order, OrderLine.order_id == Order.id)
            .where(Order.buyer_id == user_id, SubOrder.status == "delivered"))


def reviewable_lines(user: User | None, product_id: int) -> list[OrderLine]:
    """Her delivered lines of this product that have no review yet (usually none or one)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    reviewed = select(Review.line_id).where(Review.buyer_id == user.id, Review.product_id == product_id)
    return list(db.session.scalars(_delivered_lines(user.id).where(OrderLine.product_id == product_id,
                                                                   OrderLine.id.not_in(reviewed))
                                   .order_by(OrderLine.id)))


def line_to_review(user: User, line_id: int) -> OrderLine:
    """The line, if `user` may review it now; ReviewError (a message to show) otherwise.
    A line that is not hers is NotFound (nobody learns what others bought)."""
    line = db.session.scalar(select(OrderLine).where(OrderLine.id == line_id)
                             .options(joinedload(OrderLine.order), joinedload(OrderLine.sub_order)))
    if line is None or line.order.buyer_id != user.id:
        raise NotFound(line_id)
    if line.product_id is None:
        raise ReviewError(_l("This product is no longer in the shop, so it cannot be reviewed."))
    if line.sub_order.status != "delivered":
        raise ReviewError(_l("You can review an item once it has been delivered to you."))
    if db.session.scalar(select(Review.id).where(Review.line_id == line.id)) is not None:
        raise ReviewError(_l("You have already reviewed this item."))
    return line


# ---- writing ------------------------------------------------------------------------------

def _upload_folder():
    from pathlib import Path

    return Path(current_app.config["UPLOAD_FOLDER"])


def _store_photos(user: User, photos: list) -> list[str]:
    photos = [p for p in photos if p is not None]
    if not photos:
        return []
    if len(photos) > MAX_PHOTOS:
        raise ReviewError(_l("Add at most %(n)s photos.", n=MAX_PHOTOS), field="photos")
    from market.artisans.services import ShopError, charge_upload_budget

    try:
        charge_upload_budget(user, len(photos))
    except ShopError as exc:
        raise ReviewError(str(exc), field="photos") from None
    cfg = current_app.config
    names: list[str] = []
    try:
        for photo in photos:
            stored = images.store_image(getattr(photo, "stream", photo), _upload_folder(),
                                        max_bytes=cfg["MAX_IMAGE_BYTES"], max_side=cfg["IMAGE_MAX_SIDE"],
                                        thumb_size=cfg["THUMBNAIL_SIZE"], max_pixels=cfg["IMAGE_MAX_PIXELS"])
            names.append(stored.filename)
    except images.ImageError as exc:
        _delete_photos(names)
        raise ReviewError(str(exc), field="photos") from None
    return names


def _delete_photos(names: list[str]) -> None:
    for name in names:
        images.delete_stored(_upload_folder(), name, name.replace(".jpg", "_t.jpg"))


def _bump_rating(product_id: int, count: int, stars: int) -> None:
    """Add (or with negative figures take away) reviews from the product's aggregate, and
    move updated_at so caches keyed by it are rebuilt. One conditional UPDATE: concurrent
    reviews of one product add up instead of overwriting each other."""
    db.session.execute(update(Product).where(Product.id == product_id).values(
        rating_count=Product.rating_count + count, rating_sum=Product.rating_sum + stars, updated_at=utcnow(),
    ).execution_options(synchronize_session=False))


def write_review(user: User, line_id: int, *, stars, body: str = "", photos=()) -> Review:
    """Her review of one delivered line. Everything is checked before anything is stored;
    a refused review changes nothing (no row, no photo on disk, the rating untouched)."""
    line = line_to_review(user, line_id)
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        raise ReviewError(_l("Choose from 1 to 5 stars."), field="stars")
    body = (body or "").strip()
    if len(body) > MAX_BODY:
        raise ReviewError(_l("Write at most %(n)s characters.", n=MAX_BODY), field="body")
    photos = [p for p in (photos or ()) if p is not None]
    if len(photos) > MAX_PHOTOS:
        raise ReviewError(_l("Add at most %(n)s photos.", n=MAX_PHOTOS), field="photos")
    product_id, artisan_id = line.product_id, line.artisan_id
    names = _store_photos(user, photos)
    review = Review(line_id=line.id, product_id=product_id, buyer_id=user.id, artisan_id=artisan_id, stars=stars,
                    body=body, photos=" ".join(names), created_at=utcnow())
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError:
        # The same line reviewed meanwhile (a double submit, two tabs): the first one stands.
        db.session.rollback()
        _delete_photos(names)
        raise ReviewError(_l("You have already reviewed this item.")) from None
    _bump_rating(product_id, 1, stars)
    db.session.commit()
    log.info("review written id=%s line=%s product=%s stars=%s by user=%s", review.id, line_id, product_id, stars,
             user.id)
    return review


def _review(review_id: int) -> Review:
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound(review_id)
    return review


def answer(user: User, review_id: int, text: str) -> Review:
    """The artisan's one public answer to a review of her product."""
    review = _review(review_id)
    if user.artisan is None or user.artisan.id != review.artisan_id:
        raise NotFound(review_id)
    text = (text or "").strip()
    if not text:
        raise ReviewError(_l("Write your answer."), field="reply")
    if len(text) > MAX_REPLY:
        raise ReviewError(_l("Write at most %(n)s characters.", n=MAX_REPLY), field="reply")
    done = db.session.execute(update(Review).where(Review.id == review_id, Review.reply.is_(None))
                              .values(reply=text, replied_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise ReviewError(_l("You have already answered this review."), field="reply")
    db.session.execute(update(Product).where(Product.id == review.product_id).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()
    log.info("review answered id=%s by user=%s", review_id, user.id)
    db.session.expire_all()
    return _review(review_id)


def hide(staff: User, review_id: int, reason: str) -> Review:
    """Staff take a review off the product page, with a reason (kept, and audited)."""
    if not staff.is_staff:
        raise NotFound(review_id)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_l("Say why the review is hidden."), field="reason")
    if len(reason) > MAX_REASON:
        raise ReviewError(_l("Write at most %(n)s characters.", n=MAX_REASON), field="reason")
    review = _review(review_id)
    done = db.session.execute(update(Review).where(Review.id == review_id, Review.hidden_at.is_(None))
                              .values(hidden_at=utcnow(), hidden_reason=reason, hidden_by_id=staff.id)
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise ReviewError(_l("This review is already hidden."))
    _bump_rating(review.product_id, -1, -review.stars)
    audit.record(staff, "review.hide", review)
    db.session.commit()
    log.info("review hidden id=%s by user=%s", review_id, staff.id)
    db.session.expire_all()
    return _review(review_id)


def restore(staff: User, review_id: int) -> Review:
    if not staff.is_staff:
        raise NotFound(review_id)
    review = _review(review_id)
    done = db.session.execute(update(Review).where(Review.id == review_id, Review.hidden_at.is_not(None))
                              .values(hidden_at=None, hidden_reason=None, hidden_by_id=None)
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise ReviewError(_l("This review is not hidden."))
    _bump_rating(review.product_id, 1, review.stars)
    audit.record(staff, "review.restore", review)
    db.session.commit()
    log.info("review restored id=%s by user=%s", review_id, staff.id)
    db.session.expire_all()
    return _review(review_id)


# ---- reading ------------------------------------------------------------------------------

def hidden_reviews(limit: int = 200) -> list[Review]:
    """Hidden reviews, latest first, for the staff moderation list."""
    return list(db.session.scalars(select(Review).where(Review.hidden_at.is_not(None))
                                   .options(joinedload(Review.product), joinedload(Review.buyer))
                                   .order_by(Review.hidden_at.desc(), Review.id.desc()).limit(limit)))


def product_reviews(product_id: int, *, include_hidden: bool = False, limit: int = 20) -> list[Review]:
    """Newest first; hidden ones only for staff (who may restore them)."""
    stmt = select(Review).where(Review.product_id == product_id).options(joinedload(Review.buyer))
    if not include_hidden:
        stmt = stmt.where(Review.hidden_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Review.created_at.desc(), Review.id.desc()).limit(limit)))


def reviewer_name(review: Review) -> str:
    """The buyer's name as shown: the first character and a star or two (as Chinese shops do)."""
    name = (review.buyer.name if review.buyer is not None else "") or "?"
    return name[0] + "*" * max(1, min(len(name) - 1, 2))


# ---- asking buyers --------------------------------------------------------------------------

@jobs.task("ask_for_reviews", every=3600)
def ask_for_reviews(now: datetime | None = None) -> int:
    """Parcels delivered REVIEW_ASK_DAYS ago (within a week after that): each buyer is asked once
    per parcel (the notice's event key makes repeated runs harmless) to review what has no review
    yet. Returns how many parcels were asked about."""
    from market.notifications import notify

    now = now or utcnow()
    days = int(current_app.config.get("REVIEW_ASK_DAYS", 5))
    latest = now - timedelta(days=days)
    parcels = list(db.session.scalars(
        select(SubOrder).join(Order, SubOrder.order_id == Order.id)
        .where(SubOrder.status == "delivered", SubOrder.delivered_at <= latest,
               SubOrder.delivered_at > latest - timedelta(days=7))
        .options(joinedload(SubOrder.order).joinedload(Order.buyer), joinedload(SubOrder.lines))
    ).unique())
    asked = 0
    for sub in parcels:
        reviewed = set(db.session.scalars(select(Review.line_id).where(Review.line_id.in_([li.id for li in sub.lines]))))
        open_lines = [li for li in sub.lines if li.id not in reviewed and li.product_id is not None]
        if not open_lines or sub.order.buyer is None:
            continue
        first = open_lines[0]
        url = f"/reviews/new/{first.id}"  # notify() makes it absolute with PUBLIC_URL
        if notify(sub.order.buyer, "review_request",
                  {"number": sub.order.number, "title": first.title, "shop": sub.artisan_name, "url": url},
                  event=f"review_request:{sub.id}"):
            asked += 1
    db.session.commit()
    log.info("asked for reviews on %s parcels", asked)
    return asked
