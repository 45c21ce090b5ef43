"""Catalog: what is public, search in Chinese and English, filters, sorting, pagination."""
import re

from sqlalchemy import event

from market.catalog import services
from market.extensions import db


def _titles(resp) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", resp.get_data(as_text=True))


def _count(resp) -> int:
    m = re.search(r'id="result-count">\D*(\d+)', resp.get_data(as_text=True))
    assert m, "result count missing"
    return int(m.group(1))


def test_search_finds_chinese_two_character_words_in_titles_and_descriptions(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="手工刺绣团扇", description="荷花图案")
    make_product(a, title="象山海鲜礼盒", description="东海野生海鲜，渔家晾晒", category="seafood")
    make_product(a, title="竹编果篮", description="用刺绣花边装饰", category="weaving")
    make_product(a, title="奉化水蜜桃", description="当季鲜果", category="produce")

    found = _titles(client.get("/products?q=刺绣"))
    assert sorted(found) == sorted(["手工刺绣团扇", "竹编果篮"])
    # Title matches rank above description matches.
    assert found[0] == "手工刺绣团扇"
    assert _titles(client.get("/products?q=海鲜")) == ["象山海鲜礼盒"]
    assert _titles(client.get("/products?q=海鲜礼盒")) == ["象山海鲜礼盒"]
    assert sorted(_titles(client.get("/products?q=桃"))) == ["奉化水蜜桃"]
    assert _titles(client.get("/products?q=刺绣海鲜")) == []  # all terms must match


def test_search_finds_english_words_by_prefix(client, make_artisan, make_product):
    a = make_artisan()
    make_product(a, title="Silk embroidery scarf", description="Handmade in Cixi")
    make_product(a, title="Bamboo basket", description="woven by hand", category="weaving")
    assert _titles(client.get("/products?q=EMBROID")) == ["Silk embroidery scarf"]
    assert _titles(client.get("/products?q=hand")) != []
    assert len(_titles(client.get("/products?q=hand"))) == 2
    assert _titles(client.get("/products?q=cixi silk")) == ["Silk embroidery scarf"]


def test_search_updates_when_a_product_is_edited(client, make_artisan, make_product):
    from market.artisans.services import ProductData, save_product

    a = make_artisan()
    p = make_product(a, title="手工年糕", category="snacks")
    assert _titles(client.get("/products?q=年糕")) == ["手工年糕"]
    save_product(a.user, ProductData(title="桂花糕", description="", category="snacks", price_fen=100, stock=1,
                                     status="published"), product=p)
    assert _titles(client.get("/products?q=年糕")) == []
    assert _titles(client.get("/products?q=桂花")) == ["桂花糕"]


def test_only_published_products_of_approved_artisans_are_public(client, make_artisan, make_product):
    ok = make_artisan()
    pending = make_artisan()
    visible = make_product(ok, title="公开的刺绣")
    draft = make_product(ok, title="草稿刺绣", status="draft")
    hidden = make_product(pending, title="待审核刺绣")
    pending.status = "pending"  # sent back for review by staff: her published products hide
    db.session.commit()
    assert _titles(client.get("/products?q=刺绣")) == ["公开的刺绣"]
    assert client.get(f"/products/{visible.id}").status_code == 200
    assert client.get(f"/products/{draft.id}").status_code == 404
    assert client.get(f"/products/{hidden.id}").status_code == 404
    assert client.get(f"/artisans/{pending.id}").status_code == 404


def test_filters_and_sorting(client, make_artisan, make_product):
    xs = make_artisan(district="象山县")
    nh = make_artisan(district="宁海县")
    make_product(xs, title="A贵", price_fen=30000)
    make_product(xs, title="B中", price_fen=5000, category="seafood")
    make_product(nh, title="C便宜", price_fen=1000)
    assert _titles(client.get("/products?sort=price_asc")) == ["C便宜", "B中", "A贵"]
    assert _titles(client.get("/products?sort=price_desc")) == ["A贵", "B中", "C便宜"]
    assert _titles(client.get("/products?district=宁海县")) == ["C便宜"]
    assert _titles(client.get("/products?category=seafood")) == ["B中"]
    assert sorted(_titles(client.get("/products?min_price=20&max_price=300"))) == ["A贵", "B中"]
    # Bad filter values are ignored with a message, never a 500.
    resp = client.get("/products?min_price=abc&page=-3&sort=nonsense&district=火星")
    assert resp.status_code == 200 and _count(resp) == 3


def test_brand_filter_and_brand_page(client, app, make_user, make_artisan, make_product):
    from market.staff.services import save_brand, set_membership

    staff = make_user(("staff",))
    brand = save_brand(staff, slug="jixiang-fanghua", name="吉象·芳华", story="象山的姐妹们")
    a = make_artisan()
    set_membership(staff, brand.id, a.id, True)
    make_product(a, title="品牌刺绣", brand_id=brand.id)
    make_product(a, title="无品牌刺绣")
    assert _titles(client.get("/products?brand=jixiang-fanghua")) == ["品牌刺绣"]
    page = client.get("/brands/jixiang-fanghua").get_data(as_text=True)
    assert "吉象·芳华" in page and a.display_name in page and "品牌刺绣" in page
    assert client.get("/brands/nope").status_code == 404


def test_pagination_pages_through_everything_once(app, client, make_artisan, make_product):
    app.config["PRODUCTS_PER_PAGE"] = 4
    a = make_artisan()
    for i in range(10):
        make_product(a, title=f"商品{i:02d}")
    seen = []
    for page in (1, 2, 3):
        resp = client.get(f"/products?page={page}")
        assert _count(resp) == 10
        seen += _titles(resp)
    assert sorted(seen) == sorted(f"商品{i:02d}" for i in range(10))
    assert _titles(client.get("/products?page=4")) == []
    assert 'rel="next"' in client.get("/products?page=1").get_data(as_text=True)


def test_product_list_query_count_does_not_grow_with_page_size(app, client, make_artisan, make_product):
    a, b = make_artisan(), make_artisan()
    for i in range(12):
        make_product(a if i % 2 else b, title=f"商品{i}")
    client.get("/products")  # a process's first listing builds its listing index, once
    counts = {}
    for per_page in (2, 12):
        app.config["PRODUCTS_PER_PAGE"] = per_page
        statements = []

        def listener(*args, statements=statements):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/products").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts[per_page] = len(statements)
    assert counts[2] == counts[12], counts


def test_catalog_query_parses_prices_in_yuan_to_fen():
    cq = services.CatalogQuery.from_args({"min_price": "39.9", "max_price": "100"})
    assert (cq.min_fen, cq.max_fen) == (3990, 10000)
    assert cq.args()["min_price"] == "39.90"
