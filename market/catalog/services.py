"""Catalog queries: what the public may see, filters, search and pagination."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Float, Select, false, literal_column, select, text, type_coerce
from sqlalchemy.orm import joinedload, selectinload

from market import search
from market.extensions import db
from market.models import Artisan, Brand, Product
from market.vocab import CATEGORIES, DISTRICTS

SORTS = ("relevance", "newest", "price_asc", "price_desc")
MAX_PAGE = 10_000


@dataclass
class CatalogQuery:
    """Validated filters from a query string; unknown values are dropped, never fatal."""

    q: str = ""
    category: str | None = None
    brand: str | None = None
    district: str | None = None
    min_fen: int | None = None
    max_fen: int | None = None
    sort: str = "newest"
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> CatalogQuery:
        cq = cls(q=(args.get("q") or "").strip()[:100])
        cq.category = args.get("category") if args.get("category") in CATEGORIES else None
        cq.brand = (args.get("brand") or "").strip()[:60] or None
        cq.district = args.get("district") if args.get("district") in DISTRICTS else None
        cq.min_fen = _yuan_to_fen(args.get("min_price"), cq.errors)
        cq.max_fen = _yuan_to_fen(args.get("max_price"), cq.errors)
        sort = args.get("sort")
        cq.sort = sort if sort in SORTS else ("relevance" if cq.q else "newest")
        if cq.sort == "relevance" and not cq.q:
            cq.sort = "newest"
        try:
            cq.page = min(max(int(args.get("page", 1)), 1), MAX_PAGE)
        except (TypeError, ValueError):
            cq.page = 1
        return cq

    def args(self, **overrides) -> dict:
        """Query-string arguments for links (pagination, sort) that keep the filters."""
        base = {
            "q": self.q or None,
            "category": self.category,
            "brand": self.brand,
            "district": self.district,
            "min_price": _fen_to_yuan(self.min_fen),
            "max_price": _fen_to_yuan(self.max_fen),
            "sort": self.sort,
            "page": self.page,
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v not in (None, "")}


def _yuan_to_fen(value: str | None, errors: list[str]) -> int | None:
    from decimal import Decimal, InvalidOperation

    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors.append("price")
        return None
    if amount < 0 or amount > 10_000_000:
        errors.append("price")
        return None
    return int((amount * 100).to_integral_value())


def _fen_to_yuan(fen: int | None) -> str | None:
    if fen is None:
        return None
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def public_products() -> Select:
    """Published products of approved artisans: all the public ever sees."""
    return (
        select(Product)
        .join(Product.artisan)
        .where(Product.status == "published", Artisan.status == "approved")
    )


def _with_list_loading(stmt: Select) -> Select:
    # Everything a product card needs, in a fixed number of queries whatever the page size.
    return stmt.options(
        selectinload(Product.images),
        joinedload(Product.artisan),
        joinedload(Product.brand),
    )


def search_matches(q: str):
    """A subquery of (id, rank) for products matching `q` (lower rank = better), or None
    when the query has no searchable terms. Values are bound inside the text clauses, so
    the subquery carries them into pagination's count query too."""
    terms = search.query_terms(q)
    if not terms:
        return None
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        return (
            select(literal_column("rowid").label("id"), literal_column("bm25(product_fts)").label("rank"))
            .select_from(text("product_fts"))
            .where(text("product_fts MATCH :fts").bindparams(fts=search.fts5_query(terms)))
            .subquery("matches")
        )
    if dialect == "postgresql":
        vector = "array_to_tsvector(string_to_array(products.search_tokens, ' '))"
        # array_to_tsvector keeps no positions, so weights cannot mark the title; a title
        # match (the part before " | ") adds 1 to the rank instead, so it ranks first.
        title_vector = "array_to_tsvector(string_to_array(split_part(products.search_tokens, ' | ', 1), ' '))"
        tsq = search.tsquery(terms)
        rank = text(
            f"-(ts_rank({vector}, CAST(:tsq_r AS tsquery))"
            f" + CASE WHEN {title_vector} @@ CAST(:tsq_t AS tsquery) THEN 1 ELSE 0 END)"
        ).bindparams(tsq_r=tsq, tsq_t=tsq)
        return (
            select(Product.id.label("id"), type_coerce(rank, Float).label("rank"))
            .where(text(f"{vector} @@ CAST(:tsq AS tsquery)").bindparams(tsq=tsq))
            .subquery("matches")
        )
    raise RuntimeError(f"search is not implemented for {dialect}")


def list_products(cq: CatalogQuery, per_page: int, *, artisan_id: int | None = None):
    """A page of public products for the filters in `cq`."""
    stmt = public_products()
    if artisan_id is not None:
        stmt = stmt.where(Product.artisan_id == artisan_id)
    if cq.category:
        stmt = stmt.where(Product.category == cq.category)
    if cq.district:
        stmt = stmt.where(Artisan.district == cq.district)
    if cq.brand:
        stmt = stmt.join(Brand, Product.brand_id == Brand.id).where(Brand.slug == cq.brand)
    if cq.min_fen is not None:
        stmt = stmt.where(Product.price_fen >= cq.min_fen)
    if cq.max_fen is not None:
        stmt = stmt.where(Product.price_fen <= cq.max_fen)

    rank = None
    if cq.q:
        matches = search_matches(cq.q)
        if matches is None:
            stmt = stmt.where(false())
        else:
            stmt = stmt.join(matches, matches.c.id == Product.id)
            rank = matches.c.rank

    if cq.sort == "relevance" and rank is not None:
        stmt = stmt.order_by(rank, Product.id.desc())
    elif cq.sort == "price_asc":
        stmt = stmt.order_by(Product.price_fen, Product.id.desc())
    elif cq.sort == "price_desc":
        stmt = stmt.order_by(Product.price_fen.desc(), Product.id.desc())
    else:
        stmt = stmt.order_by(Product.created_at.desc(), Product.id.desc())

    stmt = _with_list_loading(stmt)
    return db.paginate(stmt, page=cq.page, per_page=per_page, error_out=False, count=True)


def get_public_product(product_id: int) -> Product | None:
    return db.session.scalar(
        public_products()
        .where(Product.id == product_id)
        .options(selectinload(Product.images), joinedload(Product.artisan), joinedload(Product.brand))
    )


def get_public_artisan(artisan_id: int) -> Artisan | None:
    return db.session.scalar(
        select(Artisan).where(Artisan.id == artisan_id, Artisan.status == "approved").options(selectinload(Artisan.brands))
    )


def get_brand(slug: str) -> Brand | None:
    return db.session.scalar(select(Brand).where(Brand.slug == slug).options(selectinload(Brand.members)))


def featured_brands(limit: int = 6) -> list[Brand]:
    return list(db.session.scalars(select(Brand).order_by(Brand.featured.desc(), Brand.name).limit(limit)))


def all_brands() -> list[Brand]:
    return list(db.session.scalars(select(Brand).order_by(Brand.name)))


def newest_products(limit: int = 8) -> list[Product]:
    stmt = _with_list_loading(public_products().order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))
    return list(db.session.scalars(stmt).unique())
