"""The in-process listing index (market/catalog/indexed.py): fresh on the next request after
any change, exact facet counts, and the same answers as the SQL path for any combination of
filters on the judged fixture catalogue (both backends)."""
import random
import re

import pytest
from sqlalchemy import func, select

from bench import search_quality
from market.accounts.admin import suspend
from market.artisans.services import ProductData, save_product
from market.catalog import services
from market.catalog.moderation import hide_product
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Artisan, Product

_CARD = re.compile(r'<article class="product-card">\s*<a href="/products/(\d+)"')


def _ids(resp) -> list[int]:
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    return [int(i) for i in _CARD.findall(page)]


def _edit(product: Product, **changes) -> None:
    fields = {k: getattr(product, k) for k in ("title", "description", "category", "price_fen", "stock",
                                                 "brand_id", "status")}
    fields.update(changes)
    save_product(product.artisan.user, ProductData(**fields), product=product)


def test_a_change_shows_in_the_next_listing(app, client, make_artisan, make_product, make_user):
    shop, other = make_artisan(district="象山县"), make_artisan(district="宁海县")
    cheap = make_product(shop, title="刺绣团扇", price_fen=3000)
    dear = make_product(shop, title="刺绣手帕", price_fen=20000)
    far = make_product(other, title="刺绣抱枕", price_fen=5000)
    assert set(_ids(client.get("/products?q=刺绣&max_price=100"))) == {cheap.id, far.id}  # builds the index

    # A price change moves a product in or out of a price filter on the next request.
    _edit(dear, price_fen=9000)
    assert set(_ids(client.get("/products?q=刺绣&max_price=100"))) == {cheap.id, dear.id, far.id}
    assert _ids(client.get("/products?sort=price_desc"))[0] == dear.id
    # Hidden by staff: gone at once, from the listing and from its count.
    staff = make_user(("staff",))
    hide_product(staff, cheap.id, "仿冒")
    assert cheap.id not in _ids(client.get("/products?q=刺绣"))
    assert re.search(r'id="result-count">\D*2\D', client.get("/products?q=刺绣").get_data(as_text=True))
    # A new product is found, by its words and its filters.
    new = make_product(other, title="蓝印花布围裙", category="textiles", price_fen=4200)
    assert _ids(client.get("/products?q=蓝印&category=textiles&district=宁海县")) == [new.id]
    # An edit is found by its new words and no longer by its old ones.
    _edit(new, title="扎染方巾", description="植物染")
    assert _ids(client.get("/products?q=扎染")) == [new.id]
    assert _ids(client.get("/products?q=蓝印")) == []
    # Unpublished: gone.
    _edit(dear, status="draft")
    assert dear.id not in _ids(client.get("/products"))
    # A shop suspended by staff takes its products off at once (no product row changed).
    suspend(staff, other.user.id, "核查中")
    assert _ids(client.get("/products?q=刺绣")) == []
    assert _ids(client.get("/products?district=宁海县")) == []


def test_facet_counts_equal_sql_counts(app, make_artisan, make_product):
    shops = [make_artisan(district=d) for d in ("象山县", "宁海县", "慈溪市")]
    rnd = random.Random(7)
    for i in range(40):
        make_product(rnd.choice(shops), title=rnd.choice(["刺绣团扇", "竹编果篮", "淡晒虾干", "白茶"]) + str(i),
                     category=rnd.choice(["embroidery", "weaving", "seafood", "tea"]),
                     price_fen=rnd.choice([900, 4999, 5000, 9999, 10000, 29999, 30000, 150000]))
    cq = services.CatalogQuery.from_args({"q": "刺绣"})
    facets = services.facet_counts(cq)
    assert not facets.estimated
    base = public_products().with_only_columns(func.count()).where(Product.search_tokens.contains("刺绣"))
    for f in facets.categories:
        assert f.count == db.session.scalar(base.where(Product.category == f.value))
    for f in facets.districts:
        assert f.count == db.session.scalar(base.where(Artisan.district == f.value))
    bands = {low: high for low, high in services.PRICE_BANDS}
    for f in facets.prices:
        low = int(float(f.args["min_price"]) * 100) if f.args.get("min_price") else None
        stmt = base.where(Product.price_fen >= low) if low is not None else base
        high = bands[low]
        stmt = stmt.where(Product.price_fen < high) if high is not None else stmt
        assert f.count == db.session.scalar(stmt), f
    assert sum(f.count for f in facets.categories) == db.session.scalar(base)


WORDS = ["", "", "刺绣", "绣花", "silk", "茶", "海鲜干货", "竹编", "布", "embroid", "杨梅", "Myrica rubra",
         "手工 围巾", "火星"]


def _random_args(rnd: random.Random, brands: list[str], districts: list[str]) -> dict:
    args = {"q": rnd.choice(WORDS), "sort": rnd.choice(services.SORTS), "page": str(rnd.choice([1, 1, 2, 3]))}
    if rnd.random() < 0.4:
        args["category"] = rnd.choice(["embroidery", "weaving", "textiles", "seafood", "tea", "snacks", "produce"])
    if rnd.random() < 0.3:
        args["brand"] = rnd.choice(brands + ["no-such-brand"])
    if rnd.random() < 0.3:
        args["district"] = rnd.choice(districts)
    if rnd.random() < 0.5:
        args["min_price"] = str(rnd.choice([0, 10, 49.99, 50, 120]))
    if rnd.random() < 0.5:
        args["max_price"] = str(rnd.choice([20, 99.99, 100, 300, 5000]))
    return args


def _listing(app, cq, per_page: int, *, index: bool):
    app.config["LISTING_INDEX"] = index
    page = services.list_products(cq, per_page)
    facets = services.facet_counts(cq)
    return [s.id for s in page.items], page.total, page.estimated, facets


@pytest.mark.parametrize("seed", [1, 2])
def test_any_filter_combination_matches_the_sql_path(app, seed):
    by_id = search_quality.load_into_database(search_quality.load_catalogue())
    brands = sorted({p.brand for p in by_id.values() if p.brand})
    districts = sorted({p.district for p in by_id.values()})
    app.config.update(COUNT_EXACT_MAX=10**6, FACET_EXACT_MAX=10**6)
    # Some products change after the index is built: they are answered from its overlay.
    services.list_products(services.CatalogQuery.from_args({}), 5)
    for product in db.session.scalars(select(Product).order_by(Product.id).limit(12)):
        _edit(product, price_fen=product.price_fen + 1234, title=product.title + "杨梅")
    postgres = db.engine.dialect.name == "postgresql"
    rnd = random.Random(seed)
    checked = 0
    for _ in range(60):
        cq = services.CatalogQuery.from_args(_random_args(rnd, brands, districts))
        # SQLite ranks relevance by bm25, PostgreSQL (and the index) by title tiers: on
        # SQLite, compare the whole match set for that sort.
        whole = cq.sort == "relevance" and not postgres
        per_page = 500 if whole else 7
        if whole:
            cq.page = 1
        ids, total, estimated, facets = _listing(app, cq, per_page, index=True)
        sql_ids, sql_total, _, sql_facets = _listing(app, cq, per_page, index=False)
        assert not estimated
        assert total == sql_total, cq
        assert (sorted(ids) if whole else ids) == (sorted(sql_ids) if whole else sql_ids), cq
        assert facets == sql_facets, cq
        checked += bool(total)
    assert checked >= 20  # most combinations found something


def test_the_sql_path_still_serves_when_the_index_is_off(app, client, make_artisan, make_product):
    app.config["LISTING_INDEX"] = False
    shop = make_artisan()
    p = make_product(shop, title="刺绣团扇")
    assert _ids(client.get("/products?q=刺绣")) == [p.id]
    assert "listing_index" not in app.extensions


def test_the_index_notices_products_changed_by_another_process(app, make_artisan, make_product):
    """Another worker's write reaches this one through the database only (updated_at)."""
    shop = make_artisan()
    p = make_product(shop, title="刺绣团扇", price_fen=3000)
    cq = services.CatalogQuery.from_args({"max_price": "50"})
    assert [s.id for s in services.list_products(cq, 10).items] == [p.id]
    # A Core update, as another process's: `updated_at` moves by the column's onupdate.
    db.session.execute(Product.__table__.update().where(Product.id == p.id).values(price_fen=9000))
    db.session.commit()
    assert services.list_products(cq, 10).items == []


def test_cards_from_rows_are_the_cards_of_the_products(app, make_artisan, make_product):
    """A card rendered from a plain row (cards.card_rows) is the card rendered from the ORM
    product, in both languages, with a cover, a brand, reviews and sold out."""
    from flask import get_template_attribute
    from flask_babel import force_locale

    from market.catalog import cards
    from market.models import Brand, ProductImage

    brand = Brand(slug="haibian", name="海边绣坊", name_en="Seaside")
    db.session.add(brand)
    db.session.flush()
    shop = make_artisan()
    plain = make_product(shop, title="竹编果篮", stock=0)
    rich = make_product(shop, title="刺绣团扇", price_fen=12345)
    rich.brand_id, rich.title_en, rich.rating_count, rich.rating_sum = brand.id, "Embroidered fan", 3, 13
    db.session.add_all([ProductImage(product_id=rich.id, filename=f"{n}.jpg", thumb_filename=f"{n}_t.jpg",
                                     width=1, height=1, position=pos) for n, pos in (("b", 1), ("a", 0))])
    db.session.commit()
    db.session.expire_all()
    rows = cards.card_rows([plain.id, rich.id])
    macro = get_template_attribute("_macros.html", "product_card")
    with app.test_request_context("/products"):
        for locale in ("zh", "en"):
            with force_locale(locale):
                for product in (db.session.get(Product, plain.id), db.session.get(Product, rich.id)):
                    assert str(macro(rows[product.id])) == str(macro(product)), (locale, product.title)
        assert "a_t.jpg" in str(macro(rows[rich.id])) and "Seaside" not in str(macro(rows[rich.id]))


def test_a_cached_card_follows_a_stock_change_from_another_process(app, client, make_artisan, make_product):
    """Card stamps come from the listing index: a Core update (another worker's sale) gives
    the next listing a new card, with the card caches on."""
    from market.extensions import cache

    app.config.update(CARD_CACHE_SECONDS=300, LOCAL_CACHE_SECONDS=5)
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60})
    try:
        p = make_product(make_artisan(), title="蓝印花布围巾", stock=1)
        card = client.get("/products").get_data(as_text=True).split("蓝印花布围巾")[1].split("</article>")[0]
        assert "sold-out" not in card
        db.session.execute(Product.__table__.update().where(Product.id == p.id).values(stock=0))
        db.session.commit()
        card = client.get("/products").get_data(as_text=True).split("蓝印花布围巾")[1].split("</article>")[0]
        assert "sold-out" in card
    finally:
        cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})
