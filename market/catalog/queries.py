"""What the public may see: the one definition, shared by listings, search, cart and checkout."""
from __future__ import annotations

from sqlalchemy import Select, select

from market.models import Artisan, Product


def public_products() -> Select:
    """Published products of approved artisans, not hidden by staff: all the public ever sees."""
    return (
        select(Product)
        .join(Product.artisan)
        .where(Product.status == "published", Artisan.status == "approved", Product.hidden_at.is_(None))
    )
