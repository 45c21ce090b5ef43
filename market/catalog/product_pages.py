"""Product pages nobody has seen yet, cheap: the body rendered once, read with the row.

A product page's *body* (templates/catalog/_product_body.html: gallery, title, price, stock,
buy form, shipping, description, the artisan's box, visible reviews) holds nothing about who is
looking, except for staff, the shop's owner and a buyer who may review it, who get the page
rendered for them alone (market.catalog.views). So it is rendered once per language and kept
in `product_pages` under a *stamp*, and a page is served from one statement: the product's row
(with its artisan's and brand's names and whether the public may see it, computed fresh) left
joined to its stored body (`head`). A stored body is used only when its stamp equals the one
made from that same row, so it is never staler than the row:

- the stamp holds `products.page_version`, which a flush hook (`_bump_page_versions`) raises in
  the same transaction as any ORM change to the product, its images, its reviews (a new one, a
  reply, hiding), its artisan (name, story, photo, district) or its brand; plus the fields a
  Core statement may change without the ORM (price, stock, ratings, title, `updated_at`) and the
  settings the shipping box shows;
- a body is stored with the stamp of the rows it was *rendered from*, so one rendered while a
  concurrent commit was replacing them is stored under a stamp that never matches again;
- its CSRF token is a hole (market.serving), filled per request with the reader's own.

A missing or stale body is rendered on the first view and stored (one upsert on its own
connection); `flask warm-pages` renders every public product's missing or stale bodies ahead.
The related products ("more from this shop", "from the same brand") are not in the body: their
ids are remembered per shop and brand for CATALOG_CACHE_SECONDS (like listings) and their cards
come from the shared card cache, with price, stock and visibility read fresh (cards.card_stamps).
Not in any stamp: a reviewer renaming herself (the body shows her first character) shows on the
next change to the product's page.
"""
from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass
from types import SimpleNamespace

from flask import current_app, g, render_template
from markupsafe import escape
from sqlalchemy import and_, bindparam, case, event, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from market import caching
from market.caching import cache_key, remember
from market.catalog import cards
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Artisan, Brand, Product, ProductImage, ProductPage, User
from market.models.reviews import Review

log = logging.getLogger(__name__)
# Bump when _product_body.html changes shape: every stored body then misses and is rendered anew.
BODY_VERSION = 1
RELATED_LIMIT = 4
_SETTINGS = ("RETURN_WINDOW_DAYS", "RETURN_EXCLUDED_CATEGORIES", "REFUND_REQUEST_DAYS", "TIMEZONE")

_p, _a, _b, _pp = Product.__table__, Artisan.__table__, Brand.__table__, ProductPage.__table__
_PUBLIC = and_(_p.c.status == "published", _a.c.status == "approved", _p.c.hidden_at.is_(None),
               _a.c.user_id.not_in(select(User.id).where(User.suspended_at.is_not(None))))
_STAMP_COLUMNS = (_p.c.page_version, _p.c.updated_at, _p.c.price_fen, _p.c.stock, _p.c.rating_count,
                  _p.c.rating_sum, _p.c.title, _p.c.title_en)
_HEAD = (
    select(_p.c.id, _p.c.artisan_id, _p.c.brand_id, _p.c.hidden_at, _p.c.hidden_reason, *_STAMP_COLUMNS,
           case((_PUBLIC, True), else_=False).label("public"),
           _a.c.display_name.label("shop_name"), _b.c.name.label("brand_name"),
           _pp.c.stamp.label("stored_stamp"), _pp.c.html)
    .select_from(_p.join(_a, _a.c.id == _p.c.artisan_id).outerjoin(_b, _b.c.id == _p.c.brand_id)
                 .outerjoin(_pp, and_(_pp.c.product_id == _p.c.id, _pp.c.locale == bindparam("locale"))))
)


_HEAD_BY_ID = _HEAD.where(_p.c.id == bindparam("pid"))


@dataclass(frozen=True)
class Head:
    """What a product page needs before its body: one statement's row."""

    id: int
    artisan_id: int
    brand_id: int | None
    public: bool
    hidden: bool
    hidden_reason: str | None
    title: str
    title_en: str
    shop_name: str
    brand_name: str | None
    stamp: str
    stored_stamp: str | None
    html: str | None

    def title_for(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title

    @property
    def body(self) -> str | None:
        """The stored body, when it was rendered from this very row."""
        return self.html if self.html is not None and self.stored_stamp == self.stamp else None


def _settings_crc() -> int:
    cfg = current_app.config
    return zlib.crc32(repr(tuple(cfg.get(k) for k in _SETTINGS)).encode())


def make_stamp(row) -> str:
    """The stamp of a product row or Product (the same fields, the same text)."""
    titles = zlib.crc32(f"{row.title}\x00{row.title_en}".encode())
    return (f"{BODY_VERSION}|{row.page_version}|{row.updated_at}|{row.price_fen}|{row.stock}|"
            f"{row.rating_count}|{row.rating_sum}|{titles}|{_settings_crc()}")


def _head(row) -> Head:
    return Head(id=row.id, artisan_id=row.artisan_id, brand_id=row.brand_id, public=bool(row.public),
                hidden=row.hidden_at is not None, hidden_reason=row.hidden_reason, title=row.title,
                title_en=row.title_en or "", shop_name=row.shop_name, brand_name=row.brand_name,
                stamp=make_stamp(row), stored_stamp=row.stored_stamp, html=row.html)


def head(product_id: int, locale: str) -> Head | None:
    """The product's row, whether the public may see it, and its stored body: one statement."""
    # On the session's connection but past the ORM's statement handling: a plain Core row.
    row = db.session.connection().execute(_HEAD_BY_ID, {"pid": product_id, "locale": locale}).first()
    return _head(row) if row is not None else None


def heads(ids: list[int], locale: str) -> list[Head]:
    rows = db.session.execute(_HEAD.where(_p.c.id.in_(ids)), {"locale": locale}).all()
    return [_head(r) for r in rows]


# ---- rendering and storing ------------------------------------------------------------------

def _load(ids: list[int]) -> list[Product]:
    return list(db.session.scalars(
        public_products().where(Product.id.in_(ids))
        .options(selectinload(Product.images), joinedload(Product.artisan), joinedload(Product.brand))
    ).unique())


def _render(product: Product) -> str:
    from market.catalog.services import shipping_for
    from market.reviews import services as reviews

    # Only visible reviews are shown here, and the product counts them in the same
    # transaction: no query for the many products nobody has reviewed.
    shown = reviews.product_reviews(product.id) if product.rating_count else []
    punching = g.get("punch_holes")
    g.punch_holes = True  # the buy form's CSRF token: a hole, filled per request
    try:
        return render_template(
            "catalog/_product_body.html", product=product,
            page=SimpleNamespace(public=True, shipping=shipping_for(product)), reviews=shown,
            reviewable=[], reviewer_name=reviews.reviewer_name, is_staff=False, is_owner=False,
        )
    finally:
        if punching:
            g.punch_holes = punching
        else:
            g.pop("punch_holes", None)


def _store(rows: list[dict]) -> None:
    if not rows:
        return
    engine = db.engine
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_pp).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=[_pp.c.product_id, _pp.c.locale],
                                      set_={"stamp": stmt.excluded.stamp, "html": stmt.excluded.html,
                                            "rendered_at": func.now()})
    # Its own short transaction: a GET's session is left as it was (nothing committed for it).
    with engine.begin() as conn:
        conn.execute(stmt)


def body(item: Head, locale: str) -> str | None:
    """The product's public body in `locale` (with a CSRF hole): stored, or rendered and stored.
    None if the product is no longer public."""
    if item.body is not None:
        return item.body
    [product] = _load([item.id]) or [None]
    if product is None:
        return None
    html = _render(product)
    try:
        _store([{"product_id": product.id, "locale": locale, "stamp": make_stamp(product), "html": html}])
    except Exception as exc:  # noqa: BLE001  the page is served all the same; the next view tries again
        log.warning("product page store failed for %s: %s", product.id, exc)
    return html


def warm(locales: list[str], batch: int = 200, limit: int | None = None) -> tuple[int, int]:
    """Render and store the missing or stale bodies of public products (`flask warm-pages`).
    Needs a request context (url_for). Returns (checked, rendered)."""
    from flask_babel import force_locale

    checked = rendered = 0
    last = 0
    while limit is None or checked < limit:
        size = batch if limit is None else min(batch, limit - checked)
        ids = list(db.session.scalars(public_products().with_only_columns(Product.id)
                                      .where(Product.id > last).order_by(Product.id).limit(size)))
        if not ids:
            break
        last = ids[-1]
        checked += len(ids)
        for locale in locales:
            stale = [h.id for h in heads(ids, locale) if h.public and h.body is None]
            if not stale:
                continue
            with force_locale(locale):
                rows = [{"product_id": p.id, "locale": locale, "stamp": make_stamp(p), "html": _render(p)}
                        for p in _load(stale)]
            _store(rows)
            rendered += len(rows)
        db.session.rollback()  # no transaction held open over the whole catalogue
    return checked, rendered


# ---- the page around the body ----------------------------------------------------------------

FRAME_TITLE = "<!--sm-frame:title-->"
FRAME_CONTENT = "<!--sm-frame:content-->"
FRAME_SECONDS = 60.0


def frame(locale: str, render: bool = True) -> str | None:
    """base.html around a product page, with holes for the title and the content and, as on
    every shell, for the reader's own parts (market.serving): the same for every product and
    reader in a language, so rendered once per process and minute instead of per page.
    `render=False` (no request context): None when this process has none lately."""
    frames = current_app.extensions.setdefault("product_page_frames", {})
    now = time.monotonic()
    cached = frames.get(locale)
    if cached is not None and cached[0] > now:
        return cached[1]
    if not render:
        return None
    punching = g.get("punch_holes")
    g.punch_holes = True
    try:
        html = render_template("catalog/_product_frame.html")
    finally:
        if punching:
            g.punch_holes = punching
        else:
            g.pop("punch_holes", None)
    frames[locale] = (now + FRAME_SECONDS, html)
    return html


def assemble(item: Head, body: str, locale: str) -> str:
    """The page of a product from its frame, body and related products, without rendering
    base.html."""
    return fill_frame(frame(locale), item, body, related_html(item, locale), locale)


def fill_frame(frame_html: str, item: Head, body: str, related: str, locale: str) -> str:
    title = str(escape(item.title_for(locale)))
    return frame_html.replace(FRAME_TITLE, title, 1).replace(FRAME_CONTENT, body + "\n" + related, 1)


def _related_key(item: Head, more, same, locale: str) -> tuple:
    """The key of the related section's HTML: everything it is made from (the cards' stamps,
    the shop's and brand's names, the language), so a kept copy is never staler than the
    stamps `related` remembers."""
    return ("related-html", tuple(more), tuple(same), item.shop_name, item.brand_name, locale)


def related_html(item: Head, locale: str) -> str:
    """templates/catalog/_related.html for this product, rendered straight from the
    environment (nothing in it asks the context processors) and kept by this process for
    CATALOG_CACHE_SECONDS under `_related_key`: a handful of shops and brands share it."""
    more, same = related(item)
    ttl = int(current_app.config.get("CATALOG_CACHE_SECONDS", 0))
    key = _related_key(item, more, same, locale)
    html = caching.local_cache().get(key) if ttl > 0 else None
    if html is None:
        html = current_app.jinja_env.get_template("catalog/_related.html").render(
            more_from_artisan=more, same_brand=same, shop_name=item.shop_name, brand_name=item.brand_name)
        if ttl > 0:
            caching.local_cache().set(key, html, ttl)
    return html


def kept_related_html(item: Head, locale: str) -> str | None:
    """`related_html` if this process has it (needs no request context), else None."""
    if int(current_app.config.get("CATALOG_CACHE_SECONDS", 0)) <= 0:
        return None
    more, same = related(item)
    return caching.local_cache().get(_related_key(item, more, same, locale))


# ---- related products -------------------------------------------------------------------------

def _newest_ids(*conditions, limit: int) -> list[int]:
    return list(db.session.scalars(public_products().with_only_columns(Product.id).where(*conditions)
                                   .order_by(Product.created_at.desc(), Product.id.desc()).limit(limit)))


def related(item: Head) -> tuple[list[cards.CardStamp], list[cards.CardStamp]]:
    """(more from this shop, from the same brand by other shops) as card stamps, remembered
    per shop and brand for CATALOG_CACHE_SECONDS like a listing's facets: a related card may
    show a price or stock that old, and a product hidden or sold out meanwhile may stay in
    these rows that long (the product's own page and every listing are current at once)."""
    ttl = int(current_app.config.get("CATALOG_CACHE_SECONDS", 0))
    shop = remember(cache_key("related-shop", item.artisan_id), ttl, lambda: cards.card_stamps(_newest_ids(
        Product.artisan_id == item.artisan_id, limit=RELATED_LIMIT + 1)))
    brand: list[cards.CardStamp] = []
    if item.brand_id is not None:
        brand = remember(cache_key("related-brand", item.brand_id, item.artisan_id), ttl, lambda: cards.card_stamps(
            _newest_ids(Product.brand_id == item.brand_id, Product.artisan_id != item.artisan_id,
                        limit=RELATED_LIMIT)))
    return [s for s in shop if s.id != item.id][:RELATED_LIMIT], brand


# ---- keeping versions -------------------------------------------------------------------------

def _bump_page_versions(session: Session, _flush_context, _instances) -> None:
    """Raise `page_version` of every product whose page body this flush changes, in its own
    transaction (so a body is never stored under a version its rows no longer have)."""
    product_ids: set[int] = set()
    artisan_ids: set[int] = set()
    brand_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Product):
            if obj in session.dirty and session.is_modified(obj, include_collections=False):
                obj.page_version = Product.page_version + 1
        elif isinstance(obj, ProductImage | Review):
            pid = obj.product_id if obj.product_id is not None else getattr(obj.__dict__.get("product"), "id", None)
            if pid is not None:
                product_ids.add(pid)
        elif isinstance(obj, Artisan) and obj in session.dirty and session.is_modified(obj, include_collections=False):
            artisan_ids.add(obj.id)
        elif isinstance(obj, Brand) and obj in session.dirty and session.is_modified(obj, include_collections=False):
            brand_ids.add(obj.id)
    conn = None
    for column, ids in ((_p.c.id, product_ids), (_p.c.artisan_id, artisan_ids), (_p.c.brand_id, brand_ids)):
        if ids:
            conn = conn or session.connection()
            conn.execute(update(_p).where(column.in_(sorted(ids))).values(page_version=_p.c.page_version + 1))


def init_app(app) -> None:
    if not event.contains(Session, "before_flush", _bump_page_versions):
        event.listen(Session, "before_flush", _bump_page_versions)
