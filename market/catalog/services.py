"""Catalog queries: what the public may see, filters, search and pagination."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from market import areas
from market.caching import cache_key, remember
from market.catalog import cards, indexed, searching, sql_listing
from market.catalog.queries import public_products, shop_open, with_list_loading
from market.extensions import db
from market.ids import parse_page
from market.models import Artisan, Brand, Product
from market.vocab import CATEGORIES

SORTS = ("relevance", "newest", "price_asc", "price_desc")


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
        if cq.min_fen is not None and cq.max_fen is not None and cq.min_fen > cq.max_fen:
            # Nothing can cost at least 300 and at most 100: she meant the other way round.
            cq.min_fen, cq.max_fen = cq.max_fen, cq.min_fen
            cq.errors.append("price_range")
        sort = args.get("sort")
        cq.sort = sort if sort in SORTS else ("relevance" if cq.q else "newest")
        if cq.sort == "relevance" and not cq.q:
            cq.sort = "newest"
        cq.page = parse_page(args.get("page"))
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
    if not amount.is_finite() or amount < 0 or amount > 10_000_000:
        errors.append("price")
        return None
    return int((amount * 100).to_integral_value())


def _fen_to_yuan(fen: int | None) -> str | None:
    if fen is None:
        return None
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


class ProductPage(Pagination):
    """A page of products whose ids and total were found (or remembered) beforehand.
    `estimated`: there are more matches than were counted; `total` is then a lower bound
    (shown as "1,000+")."""

    def __init__(self, *args, estimated: bool = False, **kwargs):
        self.estimated = estimated
        super().__init__(*args, **kwargs)

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


def list_products(cq: CatalogQuery, per_page: int, *, artisan_id: int | None = None) -> ProductPage:
    """A page of public products for the filters in `cq`.

    Finding the page's ids and counting the matches are the costly parts on a large
    catalogue (a search word can match a fifth of it); both are remembered for
    CATALOG_CACHE_SECONDS. The count stops at COUNT_EXACT_MAX matches past the page shown,
    so it costs the same for 1,200 matches as for 17,500; above that the page says
    "1,000+". The page's products are then read fresh by id as card stamps (price, stock
    and visibility always current; a product hidden meanwhile just drops off the page) and
    their cards come from the shared card cache (cards.py)."""
    pieces = searching.query_pieces(cq.q) if cq.q else None
    if indexed.enabled():  # exact counts, nothing cached (market/catalog/indexed.py)
        ids, total = ([], 0) if cq.q and not pieces else indexed.find(
            cq, pieces, per_page, artisan_id=artisan_id, brand_id=_brand_id(cq.brand))
        return ProductPage(page=cq.page, per_page=per_page, max_per_page=None, error_out=False,
                           items=indexed.card_stamps(ids), total=total, estimated=False)
    key = cache_key("catalog-page", pieces, cq.category, cq.brand,
                    cq.district, cq.min_fen, cq.max_fen, cq.sort, cq.page, per_page, artisan_id)
    offset = (cq.page - 1) * per_page
    cap = offset + max(int(current_app.config.get("COUNT_EXACT_MAX", 1000)), per_page)

    def find() -> tuple[list[int], int, bool]:
        stmt = sql_listing.listing_statement(cq, artisan_id, pieces)
        if stmt is None:
            return [], 0, False
        ids = list(db.session.scalars(stmt.with_only_columns(Product.id).limit(per_page).offset(offset)))
        if not ids and cq.page == 1:
            return ids, 0, False
        matches = stmt.order_by(None).with_only_columns(Product.id)
        if not sql_listing.limits_pay_off(pieces):  # counted exactly: cheaper here (see _limits_pay_off)
            return ids, db.session.scalar(select(func.count()).select_from(matches.subquery())) or 0, False
        total = db.session.scalar(select(func.count()).select_from(matches.limit(cap + 1).subquery())) or 0
        return ids, min(total, cap), total > cap

    ids, total, estimated = remember(key, int(current_app.config.get("CATALOG_CACHE_SECONDS", 0)),
                                     lambda: sql_listing.with_index_scans(pieces, find))
    # Stamps, not products: the cards are rendered from the shared card cache (cards.py),
    # and only products whose card is not there are loaded.
    items = cards.card_stamps(ids)
    return ProductPage(page=cq.page, per_page=per_page, max_per_page=None, error_out=False, items=items,
                       total=total, estimated=estimated)


def _brand_id(slug: str | None) -> int | None:
    """The id of the brand with `slug` for the index's filter; when unknown, -2, which no
    product has (the index keeps -1 for "no brand")."""
    if not slug:
        return None
    return next((b.id for b in brand_choices() if b.slug == slug), -2)


def get_public_product(product_id: int) -> Product | None:
    # One query: a product has a handful of images, so joining them costs less than the
    # second round trip a selectin load would make.
    return db.session.scalars(
        public_products()
        .where(Product.id == product_id)
        .options(joinedload(Product.images), joinedload(Product.artisan), joinedload(Product.brand))
    ).unique().first()


def get_public_artisan(artisan_id: int) -> Artisan | None:
    return db.session.scalar(
        select(Artisan).where(Artisan.id == artisan_id, Artisan.status == "approved", shop_open())
        .options(selectinload(Artisan.brands))
    )


def get_brand(slug: str) -> Brand | None:
    return db.session.scalar(select(Brand).where(Brand.slug == slug).options(selectinload(Brand.members)))


def featured_brands(limit: int = 6) -> list[Brand]:
    return list(db.session.scalars(select(Brand).order_by(Brand.featured.desc(), Brand.name).limit(limit)))


def all_brands() -> list[Brand]:
    return list(db.session.scalars(select(Brand).order_by(Brand.name)))


@dataclass(frozen=True)
class BrandChoice:
    id: int
    slug: str
    name: str


def brand_choices() -> list[BrandChoice]:
    """Every brand's id, slug and name for filters and facets, remembered like the listing
    (brands change rarely; a new one shows in the filter within CATALOG_CACHE_SECONDS)."""
    return remember("catalog-brands", int(current_app.config.get("CATALOG_CACHE_SECONDS", 0)), lambda: [
        BrandChoice(b.id, b.slug, b.name) for b in all_brands()
    ])


def newest_products(limit: int = 8) -> list[Product]:
    stmt = with_list_loading(public_products().order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))
    return list(db.session.scalars(stmt).unique())


# ---- facets ---------------------------------------------------------------------------

# Price bands in fen: [low, high); None is open. Links ask for low <= price <= high - 1 fen.
PRICE_BANDS = ((None, 5000), (5000, 10000), (10000, 30000), (30000, 100000), (100000, None))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    args: dict  # query-string arguments of the listing with this value chosen


@dataclass
class Facets:
    categories: list[FacetValue]
    brands: list[FacetValue]
    districts: list[FacetValue]
    prices: list[FacetValue]
    estimated: bool  # counts are lower bounds ("600+"): more than FACET_EXACT_MAX matches

    def __bool__(self) -> bool:
        return any((self.categories, self.brands, self.districts, self.prices))


def _price_band_args(low: int | None, high: int | None) -> dict:
    return {"min_price": _fen_to_yuan(low), "max_price": _fen_to_yuan(high - 1) if high is not None else None}


def facet_counts(cq: CatalogQuery, *, artisan_id: int | None = None) -> Facets:
    """How many of the listing's matches fall in each category, brand, district and price
    band: one GROUP BY over at most FACET_EXACT_MAX matches, remembered like the listing
    (CATALOG_CACHE_SECONDS), so it costs the same for 17,500 matches as for 2,000. When
    there are more matches than that, the counts are those of the first FACET_EXACT_MAX
    found: true lower bounds, shown as "600+" (as large shops do), and a value that only
    appears further down is not offered."""
    pieces = searching.query_pieces(cq.q) if cq.q else None
    if indexed.enabled():
        if cq.q and not pieces:
            return Facets([], [], [], [], False)
        counts = indexed.facet_counts(cq, pieces, artisan_id=artisan_id, brand_id=_brand_id(cq.brand))
        counts["price"] = {PRICE_BANDS[i]: n for i, n in counts.pop("band").items()}
        return _facets_from(counts, approximate=False)
    sample = max(int(current_app.config.get("FACET_EXACT_MAX", 2000)), 1)
    key = cache_key("catalog-facets", pieces, cq.category, cq.brand, cq.district, cq.min_fen, cq.max_fen,
                    artisan_id, sample)
    band = case(*[((Product.price_fen < high) if low is None else
                   (Product.price_fen >= low) if high is None else
                   ((Product.price_fen >= low) & (Product.price_fen < high)), i)
                  for i, (low, high) in enumerate(PRICE_BANDS)])

    def compute() -> list[tuple]:
        stmt = sql_listing.listing_statement(cq, artisan_id, pieces)
        if stmt is None:
            return []
        matches = stmt.order_by(None).with_only_columns(
            Product.category.label("category"), Product.brand_id.label("brand_id"),
            Artisan.district.label("district"), band.label("band"),
        )
        matches = (matches.limit(sample + 1) if sql_listing.limits_pay_off(pieces) else matches).subquery()
        grouped = select(matches.c.category, matches.c.brand_id, matches.c.district, matches.c.band,
                         func.count()).group_by(matches.c.category, matches.c.brand_id, matches.c.district,
                                                matches.c.band)
        return [tuple(r) for r in db.session.execute(grouped)]

    rows = remember(key, int(current_app.config.get("CATALOG_CACHE_SECONDS", 0)),
                    lambda: sql_listing.with_index_scans(pieces, compute))
    # One match past the sample was read to know there are more; every count of a subset
    # is still a lower bound of the true one.
    approximate = sum(r[-1] for r in rows) > sample

    counts = {name: {} for name in ("category", "brand", "district", "price")}
    for category, brand_id, district, band_index, n in rows:
        counts["category"][category] = counts["category"].get(category, 0) + n
        if brand_id is not None:
            counts["brand"][brand_id] = counts["brand"].get(brand_id, 0) + n
        counts["district"][district] = counts["district"].get(district, 0) + n
        price_band = PRICE_BANDS[band_index]
        counts["price"][price_band] = counts["price"].get(price_band, 0) + n
    return _facets_from(counts, approximate)


def _facets_from(counts: dict[str, dict], approximate: bool) -> Facets:
    """Facets from counts per category, brand id, district and price band (a PRICE_BANDS item)."""
    brands = {b.id: b for b in brand_choices()} if counts["brand"] else {}

    def values(name, label_of, args_of, order):
        return [FacetValue(str(v), label_of(v), n, args_of(v))
                for v, n in sorted(counts[name].items(), key=order)]

    by_count = lambda kv: (-kv[1], str(kv[0]))  # noqa: E731
    return Facets(
        categories=values("category", lambda c: str(CATEGORIES.get(c, c)), lambda c: {"category": c}, by_count),
        brands=values("brand", lambda b: brands[b].name if b in brands else str(b),
                      lambda b: {"brand": brands[b].slug if b in brands else None}, by_count),
        districts=values("district", lambda d: d, lambda d: {"district": d}, by_count),
        prices=values("price", lambda band: _band_label(*band), lambda band: _price_band_args(*band),
                      lambda kv: PRICE_BANDS.index(kv[0])),
        estimated=approximate,
    )


def _band_label(low: int | None, high: int | None) -> str:
    if low is None:
        return f"< ¥{high // 100}"
    if high is None:
        return f"≥ ¥{low // 100}"
    return f"¥{low // 100}–{high // 100}"


# ---- the search page ------------------------------------------------------------------

@dataclass
class SearchOutcome:
    """What the products page shows: the page, the query it ended up searching (a
    corrected one when the typed one found nothing), facets, and popular searches when
    nothing was found. Facets are counted when first asked for: a page whose facets come
    from a cached fragment never computes them."""

    page: ProductPage
    cq: CatalogQuery
    corrected_from: str | None = None
    popular: list[str] = field(default_factory=list)
    _facets: Facets | None = None

    @property
    def facets(self) -> Facets:
        if self._facets is None:
            self._facets = facet_counts(self.cq) if self.page.total else Facets([], [], [], [], False)
        return self._facets

    @property
    def past_the_end(self) -> bool:
        return self.page.total > 0 and not self.page.items and self.cq.page > 1


def search_products(cq: CatalogQuery, per_page: int) -> SearchOutcome:
    """The public listing for `cq`, with synonyms applied; a query that finds nothing is
    tried once more with its typos corrected against the catalogue's vocabulary (shown as
    "showing results for ..."), and still nothing brings popular searches instead. First
    pages of searches are counted for "popular searches"."""
    page = list_products(cq, per_page)
    corrected_from = None
    if cq.q and page.total == 0:
        better = searching.correct(cq.q)
        if better and better != cq.q:
            fixed = CatalogQuery(**{**cq.__dict__, "q": better, "errors": list(cq.errors)})
            fixed_page = list_products(fixed, per_page)
            if fixed_page.total:
                corrected_from, cq, page = cq.q, fixed, fixed_page
    if cq.q and cq.page == 1:
        searching.record_search(cq.q, page.total)  # what was searched in the end
    popular = searching.popular_searches() if cq.q and page.total == 0 else []
    return SearchOutcome(page=page, cq=cq, corrected_from=corrected_from, popular=popular)


# ---- the product page ----------------------------------------------------------------

# Usual days from the artisan's hand-over to the buyer's door, by category (fresh food goes
# out fast and cold; a stay is not shipped at all).
SHIPPING_DAYS = {"seafood": (1, 3), "produce": (1, 3), "snacks": (2, 4), "tea": (2, 4), "homestay": None}
DEFAULT_SHIPPING_DAYS = (3, 5)
RELATED_LIMIT = 4


@dataclass
class Shipping:
    shipped_by: str
    ships_from: str
    days: tuple[int, int] | None  # None: nothing is shipped (a stay, a class)
    returns_days: int
    returns_excluded: bool  # "changed my mind" returns do not apply (fresh food)
    claim_days: int  # a damaged or wrong item may be claimed this long after delivery


@dataclass
class ProductView:
    product: Product
    more_from_artisan: list[Product]
    same_brand: list[Product]
    shipping: Shipping
    public: bool  # False: only its artisan or staff can see it (draft, hidden...)


def _viewer_may_preview(product: Product, viewer) -> bool:
    """A product hidden by staff stays visible to its artisan (who reads why) and to staff
    (who may restore it); drafts and archived products stay off the public page for all."""
    if not product.is_hidden or viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return viewer.is_staff or (viewer.artisan is not None and viewer.artisan.id == product.artisan_id)


def product_page(product_id: int, viewer=None) -> ProductView | None:
    """What the product page shows, or None when `viewer` may not see it. Its artisan and staff
    also see a product staff have hidden, flagged as such."""
    product = get_public_product(product_id)
    public = product is not None
    if product is None:
        product = db.session.scalar(select(Product).where(Product.id == product_id).options(
            selectinload(Product.images), joinedload(Product.artisan), joinedload(Product.brand)))
        if product is None or not _viewer_may_preview(product, viewer):
            return None
    more = list(db.session.scalars(with_list_loading(
        public_products().where(Product.artisan_id == product.artisan_id, Product.id != product.id)
        .order_by(Product.created_at.desc(), Product.id.desc()).limit(RELATED_LIMIT))).unique())
    same_brand = []
    if product.brand_id is not None:
        same_brand = list(db.session.scalars(with_list_loading(
            public_products().where(Product.brand_id == product.brand_id, Product.artisan_id != product.artisan_id)
            .order_by(Product.created_at.desc(), Product.id.desc()).limit(RELATED_LIMIT))).unique())
    return ProductView(product=product, more_from_artisan=more, same_brand=same_brand,
                       shipping=shipping_for(product), public=public)


def shipping_for(product: Product) -> Shipping:
    """The product page's shipping and returns box (what market.catalog.product_pages' stamp
    includes the settings of)."""
    excluded = {c.strip() for c in str(current_app.config.get("RETURN_EXCLUDED_CATEGORIES", "")).split(",")}
    return Shipping(
        shipped_by=product.artisan.display_name, ships_from=product.artisan.district,
        days=SHIPPING_DAYS.get(product.category, DEFAULT_SHIPPING_DAYS),
        returns_days=int(current_app.config.get("RETURN_WINDOW_DAYS", 7)),
        returns_excluded=product.category in excluded,
        claim_days=int(current_app.config.get("REFUND_REQUEST_DAYS", 30)),
    )
