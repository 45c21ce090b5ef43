"""What the public may see: the one definition, shared by listings, search, cart and checkout."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import joinedload, selectinload

from market.models import Artisan, Product, User


def shop_open() -> ColumnElement[bool]:
    """The artisan's account is not suspended by staff (market.accounts.admin). A subquery on
    the indexed users.suspended_at, so listings need no join to users."""
    return Artisan.user_id.not_in(select(User.id).where(User.suspended_at.is_not(None)))


def public_products() -> Select:
    """Published products of approved artisans whose accounts are not suspended, not hidden
    by staff: all the public ever sees."""
    return (
        select(Product)
        .join(Product.artisan)
        .where(Product.status == "published", Artisan.status == "approved", Product.hidden_at.is_(None),
               shop_open())
    )


def with_list_loading(stmt: Select) -> Select:
    # Everything a product card needs, in a fixed number of queries whatever the page size.
    return stmt.options(
        selectinload(Product.images),
        joinedload(Product.artisan),
        joinedload(Product.brand),
    )
