"""Product cards rendered once and shared by everyone who sees them.

A card (the `product_card` macro: cover, title, price, shop, brand, "sold out") holds nothing
about who is looking, so its HTML is cached under a key made of the product's id, its
`updated_at`, price, title, whether it is in stock and the page's language, for
CARD_CACHE_SECONDS. A
change of price, title, stock or visibility makes a new key (or drops the product from the
listing), so a card is never staler than the product row it was rendered from; renaming a
shop or brand shows on cards within CARD_CACHE_SECONDS. Adding or removing a product's
images touches its `updated_at` (the flush hook below), so a new cover shows at once.

Listings hand over `CardStamp`s (read fresh from the database in one query by id, with no
ORM objects) and only products whose card is not cached are loaded and rendered. The
per-user parts of a page (cart count, name, unread notices, CSRF tokens) live outside the
cards and are rendered for every request.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import event, func
from sqlalchemy.orm import Session

from market import caching
from market.caching import cache_key
from market.catalog.queries import products_by_ids, public_products
from market.extensions import db
from market.models import Product, ProductImage

log = logging.getLogger(__name__)
# Bump when the product_card macro changes shape, so no process serves the old markup.
CARD_VERSION = 1


@dataclass(frozen=True)
class CardStamp:
    """What decides a product card's HTML besides its language."""

    id: int
    updated_at: datetime | None
    in_stock: bool
    # Also in the key: SQLite keeps update times to the second, so two edits within one
    # second share an `updated_at`; the fields a card shows most are compared directly.
    price_fen: int = 0
    title: str = ""


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
    return cache_key("card", CARD_VERSION, item.id, str(item.updated_at), bool(item.in_stock), item.price_fen,
                     item.title, locale)


def product_cards(items) -> list[Markup]:
    """The HTML of a card for each of `items` (Products or CardStamps), from the shared cache
    where it is there; the rest are rendered (loading the products a stamp names) and stored."""
    items = list(items)
    if not items:
        return []
    ttl = int(current_app.config.get("CARD_CACHE_SECONDS", 0))
    locale = str(get_locale() or "")
    keys = [_key(item, locale) for item in items]
    html: list[str | None] = caching.get_many(keys, ttl) if ttl > 0 else [None] * len(items)
    missing = [i for i, h in enumerate(html) if h is None]
    if missing:
        to_load = [items[i].id for i in missing if not isinstance(items[i], Product)]
        loaded = {p.id: p for p in products_by_ids(to_load)} if to_load else {}
        macro = get_template_attribute("_macros.html", "product_card")
        fresh = {}
        for i in missing:
            product = items[i] if isinstance(items[i], Product) else loaded.get(items[i].id)
            if product is None:
                continue  # hidden between the stamp and now
            html[i] = str(macro(product))
            fresh[keys[i]] = html[i]
        if ttl > 0 and fresh:
            caching.set_many(fresh, ttl)
    return [Markup(h) for h in html if h is not None]


def cached_fragment(name: str, *parts, caller) -> Markup:
    """`{% call cached_fragment("listing-head", request.query_string) %}...{% endcall %}`: the
    block's HTML shared through the cache for CATALOG_CACHE_SECONDS, keyed by `name`, `parts`
    and the language. Only for blocks that hold nothing about who is looking and are built
    from data that is itself cached that long (a listing's heading, filters, facets, count
    and pagination), so caching them adds no staleness a visitor could see."""
    ttl = int(current_app.config.get("CATALOG_CACHE_SECONDS", 0))
    if ttl <= 0:
        return Markup(caller())
    key = cache_key("fragment", name, parts, str(get_locale() or ""))
    [html] = caching.get_many([key], ttl)
    if html is None:
        html = str(caller())
        caching.set_many({key: html}, ttl)
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
