"""What the public may see: the one definition, shared by listings, search, cart and checkout."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from market.extensions import db
from market.models import Artisan, Product


def public_products() -> Select:
    """Published products of approved artisans: all the public ever sees."""
    return (
        select(Product)
        .join(Product.artisan)
        .where(Product.status == "published", Artisan.status == "approved")
    )


def with_list_loading(stmt: Select) -> Select:
    # Everything a product card needs, in a fixed number of queries whatever the page size.
    return stmt.options(
        selectinload(Product.images),
        joinedload(Product.artisan),
        joinedload(Product.brand),
    )


def products_by_ids(ids: list[int]) -> list[Product]:
    """The public products among `ids`, loaded for product cards, in the order given."""
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(with_list_loading(public_products().where(Product.id.in_(ids)))).unique()}
    return [found[i] for i in ids if i in found]
