"""Search that understands: synonyms, typos, suggestions, popular searches, facets, and
clear messages for a page past the end and a minimum price above the maximum."""
import re
import threading

import pytest
from sqlalchemy import func, select

from market.catalog import searching
from market.extensions import db
from market.models import SearchQueryDay, SynonymGroup


def _titles(resp) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", resp.get_data(as_text=True))


def _count(resp) -> int:
    m = re.search(r'id="result-count">\D*(\d+)', resp.get_data(as_text=True))
    assert m, "result count missing"
    return int(m.group(1))


def test_synonyms_find_what_people_call_the_same_thing(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="手工刺绣团扇", description="荷花图案")
    make_product(a, title="越绣牡丹手帕", description="绣娘手工")
    make_product(a, title="手工鳗鱼鲞", description="渔家晾晒", category="seafood")
    make_product(a, title="淡晒虾干", description="东海白虾", category="seafood")
    make_product(a, title="海鲜干货礼盒", description="多种干货", category="seafood")
    make_product(a, title="竹编果篮", description="本地毛竹", category="weaving")

    assert _titles(client.get("/products?q=绣花")) == ["手工刺绣团扇"]
    # 刺绣 covers the named embroideries (越绣) one way; the words as typed rank first.
    assert _titles(client.get("/products?q=刺绣")) == ["手工刺绣团扇", "越绣牡丹手帕"]
    assert sorted(_titles(client.get("/products?q=海鲜干货"))) == ["手工鳗鱼鲞", "海鲜干货礼盒", "淡晒虾干"]
    assert _titles(client.get("/products?q=海鲜干货"))[0] == "海鲜干货礼盒"
    assert _titles(client.get("/products?q=鱼鲞")) == ["手工鳗鱼鲞"]  # one way: not every dried seafood
    assert _titles(client.get("/products?q=embroidery")) == ["手工刺绣团扇"]
    assert _titles(client.get("/products?q=绣花扇子")) == ["手工刺绣团扇"]
    assert _titles(client.get("/products?q=Phyllostachys edulis")) == ["竹编果篮"]  # Latin name of 毛竹
    # Sorting and the count agree with the expanded search.
    assert _count(client.get("/products?q=海鲜干货&sort=price_asc")) == 3


def test_turning_expansion_off_searches_the_literal_words(app, client, make_artisan, make_product):
    make_product(make_artisan(), title="手工刺绣团扇")
    app.config["SEARCH_EXPANSION"] = False
    assert _titles(client.get("/products?q=绣花")) == []
    assert _titles(client.get("/products?q=剌绣")) == []


def test_typos_are_corrected_when_nothing_matches(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="手工刺绣团扇", description="Silk embroidery fan")
    make_product(a, title="竹编果篮", category="weaving")
    make_product(a, title="野生蜂蜜", description="Wild honey", category="produce")

    resp = client.get("/products?q=剌绣")
    page = resp.get_data(as_text=True)
    assert _titles(resp) == ["手工刺绣团扇"]
    assert 'id="did-you-mean"' in page and "剌绣" in page and "刺绣" in page
    assert _titles(client.get("/products?q=竹编果蓝")) == ["竹编果篮"]
    assert _titles(client.get("/products?q=手工剌绣团扇")) == ["手工刺绣团扇"]  # words typed without spaces
    assert _titles(client.get("/products?q=蜂密")) == ["野生蜂蜜"]
    assert _titles(client.get("/products?q=embroidry")) == ["手工刺绣团扇"]
    assert _titles(client.get("/products?q=hony")) == ["野生蜂蜜"]
    # A word that is right is never "corrected".
    assert 'id="did-you-mean"' not in client.get("/products?q=刺绣").get_data(as_text=True)


def test_vocabulary_follows_new_products(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="手工刺绣团扇")
    assert _titles(client.get("/products?q=桂花糊")) == []
    make_product(a, title="桂花糕", category="snacks")
    assert _titles(client.get("/products?q=桂花糊")) == ["桂花糕"]


def test_empty_result_shows_popular_searches(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="手工刺绣团扇")
    make_product(a, title="淡晒虾干", category="seafood")
    for q in ("刺绣", "刺绣", "虾干", "火星特产"):
        client.get("/products", query_string={"q": q})
    resp = client.get("/products?q=不存在的东西")
    page = resp.get_data(as_text=True)
    assert _count(resp) == 0 and 'id="popular-searches"' in page
    popular = re.findall(r'href="/products\?q=([^"]+)">', page.split('id="popular-searches"')[1])
    assert popular == ["%E5%88%BA%E7%BB%A3", "%E8%99%BE%E5%B9%B2"]
    # The query that found nothing is counted but never offered as popular.
    assert db.session.scalar(select(SearchQueryDay.searches).where(SearchQueryDay.query == "火星特产")) == 1


def test_counting_searches_is_exact_under_concurrency(app):
    threads, errors = [], []

    def search():
        try:
            with app.app_context():
                searching.record_search("刺绣", 3)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    for _ in range(12):
        threads.append(threading.Thread(target=search))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(SearchQueryDay.searches)).where(SearchQueryDay.query == "刺绣")) == 12


def test_suggestions_while_typing(client, make_user, make_artisan, make_product):
    from market.staff.services import save_brand, set_membership

    staff = make_user(("staff",))
    brand = save_brand(staff, slug="cixi-xiuniang", name="慈溪绣娘", name_en="Cixi Embroiderers")
    a = make_artisan()
    set_membership(staff, brand.id, a.id, True)
    make_product(a, title="手工刺绣团扇", brand_id=brand.id)
    make_product(a, title="手工刺绣团扇")
    make_product(a, title="刺绣香囊")
    make_product(a, title="竹编果篮", category="weaving")

    resp = client.get("/api/search/suggest?q=绣")
    assert resp.status_code == 200 and resp.is_json
    items = resp.get_json()["suggestions"]
    kinds = {(i["kind"], i["text"]) for i in items}
    assert ("brand", "慈溪绣娘") in kinds and ("category", "刺绣") in kinds
    titles = [i["text"] for i in items if i["kind"] == "title"]
    assert titles == ["手工刺绣团扇", "刺绣香囊"]  # distinct, the commonest first
    assert all(i["url"].startswith("/products?") for i in items)
    # Synonyms fill in: nobody wrote 绣花 in a title.
    assert "手工刺绣团扇" in [i["text"] for i in client.get("/api/search/suggest?q=绣花").get_json()["suggestions"]]
    assert [i["text"] for i in client.get("/api/search/suggest?q=竹编").get_json()["suggestions"]
            if i["kind"] == "title"] == ["竹编果篮"]
    assert client.get("/api/search/suggest?q=").get_json() == {"q": "", "suggestions": []}
    assert client.get("/api/search/suggest").get_json()["suggestions"] == []
    long = client.get("/api/search/suggest", query_string={"q": "绣" * 101})
    assert long.status_code == 400 and long.get_json()["error"]["code"] == "query_too_long"
    assert len(client.get("/api/search/suggest?q=绣&limit=2").get_json()["suggestions"]) == 2
    assert client.get("/api/search/suggest?q=绣&limit=abc").status_code == 200


def test_header_search_box_loads_suggestions_script_without_inline_code(client):
    page = client.get("/").get_data(as_text=True)
    assert 'data-suggest-url="/api/search/suggest"' in page
    assert re.search(r'<script src="/static/js/search\.js[^"]*" defer></script>', page)
    assert client.get("/static/js/search.js").status_code == 200


@pytest.mark.parametrize("listing_index", [True, False], ids=["index", "sql"])
def test_facets_count_categories_brands_districts_and_price_bands(app, client, make_artisan, make_product,
                                                                   listing_index):
    app.config["LISTING_INDEX"] = listing_index
    xs, nh = make_artisan(district="象山县"), make_artisan(district="宁海县")
    make_product(xs, title="刺绣团扇", price_fen=3000)
    make_product(xs, title="刺绣手帕", price_fen=8000)
    make_product(nh, title="刺绣抱枕", price_fen=20000)
    make_product(nh, title="淡晒虾干", category="seafood", price_fen=4000)

    page = client.get("/products").get_data(as_text=True)
    facets = page.split('id="facets"')[1].split("</section>")[0]
    assert re.search(r'category=embroidery[^"]*">刺绣</a> <span class="count">\(3\)', facets)
    assert re.search(r'category=seafood[^"]*">[^<]+</a> <span class="count">\(1\)', facets)
    assert re.search(r'district=[^"]*">象山县</a> <span class="count">\(2\)', facets)
    assert re.search(r'max_price=49\.99[^"]*">&lt; ¥50</a> <span class="count">\(2\)', facets)
    assert re.search(r'min_price=50&amp;max_price=99\.99[^"]*">¥50–100</a> <span class="count">\(1\)', facets)
    # Facets follow the search and the other filters, and their links keep them.
    searched = client.get("/products?q=刺绣&district=宁海县").get_data(as_text=True)
    facets = searched.split('id="facets"')[1].split("</section>")[0]
    assert "seafood" not in facets and "(1)" in facets and "q=%E5%88%BA%E7%BB%A3" in facets
    # Following a facet link narrows the listing to the counted products.
    assert _count(client.get("/products?min_price=50&max_price=99.99")) == 1
    # Above FACET_EXACT_MAX matches the SQL path counts the first FACET_EXACT_MAX: lower
    # bounds, flagged "+", and they add up to no more than the sample. The in-process index
    # counts every match exactly.
    app.config["FACET_EXACT_MAX"] = 2
    page = client.get("/products").get_data(as_text=True)
    facets = page.split('id="facets"')[1].split("</section>")[0]
    if listing_index:
        assert re.search(r'category=embroidery[^"]*">刺绣</a> <span class="count">\(3\)', facets)
        return
    category_counts = [int(n) for n in re.findall(r'category=[^"]*">[^<]+</a> <span class="count">\((\d+)\+\)', facets)]
    assert category_counts and sum(category_counts) <= 3 and "≈" not in facets


def test_a_page_past_the_end_says_so(app, client, make_artisan, make_product):
    app.config["PRODUCTS_PER_PAGE"] = 2
    a = make_artisan()
    for i in range(3):
        make_product(a, title=f"刺绣{i}")
    resp = client.get("/products?page=999")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and _count(resp) == 3
    assert 'id="past-the-end"' in page and "No products found" not in page and "没有找到商品" not in page
    assert "page=2" in page.split('id="past-the-end"')[1]
    assert 'id="past-the-end"' not in client.get("/products?page=2").get_data(as_text=True)
    assert 'id="past-the-end"' not in client.get("/products?q=火星").get_data(as_text=True)


def test_minimum_price_above_maximum_is_swapped_with_a_message(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="贵的", price_fen=20000)
    make_product(a, title="便宜的", price_fen=500)
    resp = client.get("/products?min_price=300&max_price=100")
    page = resp.get_data(as_text=True)
    assert _titles(resp) == ["贵的"]
    assert 'id="price-range-error"' in page
    assert 'name="min_price" min="0" step="0.01" placeholder' in page and 'value="100"' in page and 'value="300"' in page
    assert 'id="price-range-error"' not in client.get("/products?min_price=100&max_price=300").get_data(as_text=True)


def test_staff_add_and_remove_synonym_groups(client, login_as, make_user, make_artisan, make_product):
    make_product(make_artisan(), title="手工刺绣团扇")
    assert _titles(client.get("/products?q=绣绣看")) == []
    buyer = make_user()
    login_as(buyer)
    assert client.get("/staff/synonyms").status_code == 403
    assert client.post("/staff/synonyms", data={"terms": "绣绣看, 刺绣"}).status_code == 403
    client.post("/account/logout")

    login_as(make_user(("staff",)))
    page = client.get("/staff/synonyms").get_data(as_text=True)
    assert 'id="synonym-form"' in page and "海鲜干货 =&gt; " in page  # the shipped groups are listed
    # As a browser submits it.
    resp = client.post("/staff/synonyms", data={"terms": " 绣绣看 ，刺绣 ", "csrf_token": ""})
    assert resp.status_code == 302
    assert db.session.scalars(select(SynonymGroup.line)).all() == ["绣绣看, 刺绣"]
    assert "绣绣看, 刺绣" in client.get("/staff/synonyms").get_data(as_text=True)
    assert _titles(client.get("/products?q=绣绣看")) == ["手工刺绣团扇"]

    for bad in ("", "刺绣", "a => b => c", "绣绣看, 刺绣"):
        resp = client.post("/staff/synonyms", data={"terms": bad})
        assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True), bad
    assert db.session.scalar(select(func.count(SynonymGroup.id))) == 1

    one_way = client.post("/staff/synonyms", data={"terms": "绣品礼盒 => 团扇"})
    assert one_way.status_code == 302
    group_id = db.session.scalar(select(SynonymGroup.id).where(SynonymGroup.line == "绣绣看, 刺绣"))
    assert client.post(f"/staff/synonyms/{group_id}/delete").status_code == 302
    assert _titles(client.get("/products?q=绣绣看")) == []
    assert client.post(f"/staff/synonyms/{group_id}/delete").status_code == 404
    assert db.session.scalars(select(SynonymGroup.line)).all() == ["绣品礼盒 => 团扇"]


def test_an_edited_product_is_found_by_its_new_words_at_once(app, client, make_artisan, make_product):
    """The index follows every edit of the searchable text: on PostgreSQL the stored tsvector
    columns (migration 0019) are regenerated from search_tokens, on SQLite the FTS5 triggers."""
    from market.artisans.services import ProductData, save_product

    artisan = make_artisan()
    product = make_product(artisan, title="竹编果篮", description="老手艺")

    def found(q: str) -> bool:
        return f"/products/{product.id}\"" in client.get("/products", query_string={"q": q}).get_data(as_text=True)

    assert found("果篮") and not found("茶席")
    save_product(artisan.user, ProductData(title="茶席", description="手织", category="embroidery", price_fen=9900,
                                           stock=10, status="published", title_en="tea mat",
                                           description_en="handwoven linen"), product=product)
    assert found("茶席") and found("mat") and found("linen") and found("手织")
    assert not found("果篮") and not found("老手艺")
    if db_dialect(app) == "postgresql":
        with app.app_context():
            from sqlalchemy import text

            from market.extensions import db
            stored = db.session.execute(text("SELECT search_vector::text, search_title_vector::text FROM products "
                                             "WHERE id = :id"), {"id": product.id}).one()
            assert "'茶席'" in stored[1] and "'linen'" in stored[0] and "'linen'" not in stored[1]


def db_dialect(app) -> str:
    with app.app_context():
        from market.extensions import db
        return db.engine.dialect.name
