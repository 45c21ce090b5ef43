"""Catalog queries: what the public may see, filters, search and pagination."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, case, func, literal_column, select, text
from sqlalchemy.orm import joinedload, selectinload

from market import areas, search
from market.caching import cache_key, remember
from market.extensions import db
from market.models import Artisan, Brand, Product
from market.vocab import CATEGORIES

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
        cq.district = args.get("district") if areas.is_district(args.get("district")) else None
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


@dataclass
class SearchMatch:
    """How to find products matching a query on this database: either a subquery of
    (id, rank) to join (SQLite's FTS5 table), or a condition on products and a rank
    expression (PostgreSQL's GIN indexes). Lower rank = better."""

    join: object = None
    where: object = None
    rank: object = None


def search_matches(q: str) -> SearchMatch | None:
    """Where and how to rank products matching `q`, or None when the query has no
    searchable terms. Values are bound inside the text clauses, so they travel with the
    statement into the count query too."""
    terms = search.query_terms(q)
    if not terms:
        return None
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        matches = (
            select(literal_column("rowid").label("id"), literal_column("bm25(product_fts)").label("rank"))
            .select_from(text("product_fts"))
            .where(text("product_fts MATCH :fts").bindparams(fts=search.fts5_query(terms)))
            .subquery("matches")
        )
        return SearchMatch(join=matches, rank=matches.c.rank)
    if dialect == "postgresql":
        tsq = search.tsquery(terms)
        # A condition on products itself (not a joined subquery), so PostgreSQL filters
        # with the GIN index and never rebuilds a tsvector per row. array_to_tsvector keeps
        # no positions, so ts_rank is the same for every match; relevance is "the title
        # matches" (a second GIN index, probed once per query), then newest.
        title_hits = select(Product.id).where(
            text(f"{search.PG_TITLE_VECTOR} @@ CAST(:tsq_t AS tsquery)").bindparams(tsq_t=tsq)
        ).correlate(None)  # its own scan of products, not the outer row
        rank = case((Product.id.in_(title_hits), 0), else_=1)
        return SearchMatch(
            where=text(f"{search.PG_VECTOR} @@ CAST(:tsq AS tsquery)").bindparams(tsq=tsq), rank=rank
        )
    raise RuntimeError(f"search is not implemented for {dialect}")


def _listing_statement(cq: CatalogQuery, artisan_id: int | None) -> Select | None:
    """Public products for the filters in `cq`, in display order; None when the search
    has no searchable terms (nothing can match)."""
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
        match = search_matches(cq.q)
        if match is None:
            return None
        if match.join is not None:
            stmt = stmt.join(match.join, match.join.c.id == Product.id)
        if match.where is not None:
            stmt = stmt.where(match.where)
        rank = match.rank

    if cq.sort == "relevance" and rank is not None:
        return stmt.order_by(rank, Product.id.desc())
    if cq.sort == "price_asc":
        return stmt.order_by(Product.price_fen, Product.id.desc())
    if cq.sort == "price_desc":
        return stmt.order_by(Product.price_fen.desc(), Product.id.desc())
    return stmt.order_by(Product.created_at.desc(), Product.id.desc())


class ProductPage(Pagination):
    """A page of products whose ids and total were found (or remembered) beforehand."""

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


def list_products(cq: CatalogQuery, per_page: int, *, artisan_id: int | None = None) -> ProductPage:
    """A page of public products for the filters in `cq`.

    Finding the page's ids and counting every match are the costly parts on a large
    catalogue (a search word can match a fifth of it); both are remembered for
    CATALOG_CACHE_SECONDS. The products are then loaded fresh by id, so price, stock and
    visibility are always current (a product hidden meanwhile just drops off the page).
    Four queries whatever the page size; two when the ids are remembered."""
    key = cache_key("catalog-page", search.query_terms(cq.q) if cq.q else None, cq.category, cq.brand,
                    cq.district, cq.min_fen, cq.max_fen, cq.sort, cq.page, per_page, artisan_id)

    def find() -> tuple[list[int], int]:
        stmt = _listing_statement(cq, artisan_id)
        if stmt is None:
            return [], 0
        ids = list(db.session.scalars(
            stmt.with_only_columns(Product.id).limit(per_page).offset((cq.page - 1) * per_page)
        ))
        if not ids and cq.page == 1:
            return ids, 0
        total = db.session.scalar(select(func.count()).select_from(
            stmt.order_by(None).with_only_columns(Product.id).subquery()
        ))
        return ids, total or 0

    ids, total = remember(key, int(current_app.config.get("CATALOG_CACHE_SECONDS", 0)), find)
    items = products_by_ids(ids)
    return ProductPage(page=cq.page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total)


def products_by_ids(ids: list[int]) -> list[Product]:
    """The public products among `ids`, loaded for product cards, in the order given."""
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(_with_list_loading(public_products().where(Product.id.in_(ids)))).unique()}
    return [found[i] for i in ids if i in found]


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
