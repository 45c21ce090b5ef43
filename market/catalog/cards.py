"""Product cards rendered once and shared by everyone who sees them.

A card (the `product_card` macro: cover, title, price, shop, brand, "sold out") holds nothing
about who is looking, so its HTML is cached under a key made of the product's id, its
`updated_at`, price, title, whether it is in stock and the page's language, for
CARD_CACHE_SECONDS. A
change of price, title, stock or visibility makes a new key (or drops the product from the
listing), so a card is never staler than the product row it was rendered from; renaming a
shop or brand shows on cards within CARD_CACHE_SECONDS. Adding or removing a product's
images touches its `updated_at` (the flush hook below), so a new cover shows at once.

Listings hand over `CardStamp`s (from the in-process listing index, which was brought up to
date by this very request, or on the SQL path read fresh in one query by id) and only
products whose card is not cached are loaded, as plain rows (`CardRow`, one Core query: no
ORM objects), and rendered. Each process also keeps the cards it rendered or read
(CARD_LOCAL_ITEMS of them, for CARD_CACHE_SECONDS), so a card is rendered once and a page
whose cards are all known needs no cache round trip. The per-user parts of a page (cart
count, name, unread notices, CSRF tokens) live outside the cards and are filled in for
every request.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask import Flask, current_app, get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from market import caching
from market.caching import LocalCache, cache_key
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Artisan, Brand, Product, ProductImage

log = logging.getLogger(__name__)
# Bump when the product_card macro changes shape, so no process serves the old markup.
CARD_VERSION = 2


@dataclass(frozen=True)
class CardStamp:
    """What decides a product card's HTML besides its language."""

    id: int
    updated_at: datetime | int | None  # from the listing index: microseconds
    in_stock: bool
    # Also in the key: SQLite keeps update times to the second, so two edits within one
    # second share an `updated_at`; the fields a card shows most are compared directly.
    price_fen: int = 0
    title: str | int = ""  # from the listing index: a checksum of the title


def card_stamps(ids: list[int]) -> list[CardStamp]:
    """Stamps of the public products among `ids`, in the order given (one query by primary
    key; a product hidden meanwhile just drops out)."""
    if not ids:
        return []
    rows = db.session.execute(
        public_products().with_only_columns(Product.id, Product.updated_at, Product.stock, Product.price_fen,
                                            Product.title).where(Product.id.in_(ids))
    ).all()
    found = {r.id: CardStamp(r.id, r.updated_at, r.stock > 0, r.price_fen, r.title) for r in rows}
    return [found[i] for i in ids if i in found]


def _key(item, locale: str) -> str:
    return f"card:{CARD_VERSION}:{item.id}:{item.updated_at}:{int(bool(item.in_stock))}:{item.price_fen}:" + (
        f"{item.title}:{locale}" if isinstance(item.title, int) else cache_key("t", item.title, locale))


@dataclass(frozen=True)
class CardRow:
    """What the product_card macro reads of a product, from one plain row (no ORM object)."""

    id: int
    title: str
    title_en: str
    price_fen: int
    stock: int
    rating_count: int
    rating_sum: int
    artisan: SimpleNamespace
    brand: SimpleNamespace | None
    cover: SimpleNamespace | None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    def title_for(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title


def card_rows(ids: list[int]) -> dict[int, CardRow]:
    """The public products among `ids` as CardRows, in one query (cover: the first image by
    position, as Product.cover)."""
    if not ids:
        return {}
    cover = (select(ProductImage.thumb_filename).where(ProductImage.product_id == Product.id)
             .order_by(ProductImage.position, ProductImage.id).limit(1).correlate(Product).scalar_subquery())
    stmt = public_products().outerjoin(Brand, Product.brand_id == Brand.id).with_only_columns(
        Product.id, Product.title, Product.title_en, Product.price_fen, Product.stock, Product.rating_count,
        Product.rating_sum, Product.artisan_id, Artisan.display_name, Brand.slug, Brand.name, cover,
    ).where(Product.id.in_(ids))
    return {r[0]: CardRow(r[0], r[1], r[2] or "", r[3], r[4], r[5] or 0, r[6] or 0,
                          SimpleNamespace(id=r[7], display_name=r[8]),
                          SimpleNamespace(slug=r[9], name=r[10]) if r[9] is not None else None,
                          SimpleNamespace(thumb_filename=r[11]) if r[11] else None)
            for r in db.session.execute(stmt)}


def _local_cards() -> LocalCache:
    app = current_app._get_current_object()
    local = app.extensions.get("card_html")
    if local is None:
        local = app.extensions.setdefault("card_html", LocalCache(int(app.config.get("CARD_LOCAL_ITEMS", 20000))))
    return local


def product_cards(items) -> list[Markup]:
    """The HTML of a card for each of `items` (Products or CardStamps): from this process's
    cards, then the shared cache; the rest are rendered (loading the rows a stamp names)
    and stored in both."""
    items = list(items)
    if not items:
        return []
    ttl = int(current_app.config.get("CARD_CACHE_SECONDS", 0))
    locale = str(get_locale() or "")
    keys = [_key(item, locale) for item in items]
    html: list[str | None] = [None] * len(items)
    if ttl > 0:
        local = _local_cards()
        html = [local.get(k) for k in keys]
        absent = [i for i, h in enumerate(html) if h is None]
        if absent:
            for i, h in zip(absent, caching.get_many([keys[i] for i in absent], ttl), strict=True):
                if h is not None:
                    html[i] = h
                    local.set(keys[i], h, ttl)
    missing = [i for i, h in enumerate(html) if h is None]
    if missing:
        to_load = [items[i].id for i in missing if not isinstance(items[i], Product)]
        loaded = card_rows(to_load) if to_load else {}
        macro = get_template_attribute("_macros.html", "product_card")
        fresh = {}
        for i in missing:
            product = items[i] if isinstance(items[i], Product) else loaded.get(items[i].id)
            if product is None:
                continue  # hidden between the stamp and now
            html[i] = str(macro(product))
            fresh[keys[i]] = html[i]
        if ttl > 0 and fresh:
            local = _local_cards()
            for key, h in fresh.items():
                local.set(key, h, ttl)
            caching.set_many(fresh, ttl)
    return [Markup(h) for h in html if h is not None]


def cached_fragment(name: str, *parts, caller) -> Markup:
    """`{% call cached_fragment("listing-head", request.query_string) %}...{% endcall %}`: the
    block's HTML kept by this process for CATALOG_CACHE_SECONDS, keyed by `name`, `parts`
    and the language. Only for blocks that hold nothing about who is looking and are built
    from data that is itself cached that long (a listing's heading, filters, facets, count
    and pagination), so caching them adds no staleness a visitor could see.

    In this process only, not the shared cache: the whole page with the same query string is
    already shared (the visitors' page cache, the signed-in shells), so a shared fragment
    saved little rendering and cost two round trips per fragment on every page nobody had
    asked for yet."""
    ttl = int(current_app.config.get("CATALOG_CACHE_SECONDS", 0))
    if ttl <= 0:
        return Markup(caller())
    local = caching.local_cache()
    key = cache_key("fragment", name, parts, str(get_locale() or ""))
    html = local.get(key)
    if html is None:
        html = str(caller())
        local.set(key, html, ttl)
    return Markup(html)


def _touch_products_whose_images_changed(session: Session, _flush_context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, ProductImage):
            product = obj.__dict__.get("product")
            if product is None and obj.product_id is not None:
                with session.no_autoflush:
                    product = session.get(Product, obj.product_id)
            if product is not None and product not in session.deleted:
                product.updated_at = func.now()


def init_app(app: Flask) -> None:
    app.add_template_global(product_cards, "product_cards")
    app.add_template_global(cached_fragment, "cached_fragment")
    if not event.contains(Session, "before_flush", _touch_products_whose_images_changed):
        event.listen(Session, "before_flush", _touch_products_whose_images_changed)
