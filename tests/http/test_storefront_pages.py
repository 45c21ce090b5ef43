"""The product page that sells (related products, shipping, the artisan), English titles
and descriptions (shown to English readers, found by search, entered as a browser does), and
product moderation by staff (hidden with a reason the artisan sees, restored, audited)."""
from __future__ import annotations

from sqlalchemy import select

from market.extensions import db
from market.models import AuditEntry, Notice, Product
from tests.support import login, page_form


def test_product_page_shows_shipping_returns_the_artisan_and_related_products(app, client, make_user, make_artisan,
                                                                              make_product):
    from market.staff.services import save_brand, set_membership

    staff = make_user(("staff",))
    brand = save_brand(staff, slug="cixi-xiuniang", name="慈溪绣娘", story="绣娘合作社")
    maker = make_artisan(name="秀英绣坊", district="慈溪市")
    maker.story = "从小跟着外婆学越绣，后来带着村里十几位姐妹一起做。"
    neighbour = make_artisan(name="桂芳巧手工作室", district="慈溪市")
    for a in (maker, neighbour):
        set_membership(staff, brand.id, a.id, True)
    db.session.commit()
    fan = make_product(maker, title="荷花刺绣团扇", brand_id=brand.id)
    make_product(maker, title="喜鹊刺绣手帕")
    make_product(neighbour, title="牡丹刺绣抱枕", brand_id=brand.id)
    make_product(neighbour, title="草稿商品", status="draft", brand_id=brand.id)
    fish = make_product(neighbour, title="淡晒虾干", category="seafood")

    html = client.get(f"/products/{fan.id}").get_data(as_text=True)
    more = html.split('id="more-from-artisan"')[1].split("</section>")[0]
    same = html.split('id="same-brand"')[1].split("</section>")[0]
    assert "喜鹊刺绣手帕" in more and "荷花刺绣团扇" not in more
    assert "牡丹刺绣抱枕" in same and "草稿商品" not in same and "喜鹊刺绣手帕" not in same
    shipping = html.split('id="shipping"')[1].split("</section>")[0]
    assert "秀英绣坊" in shipping and "慈溪市" in shipping and "7" in shipping
    assert "从小跟着外婆学越绣" in html.split('id="artisan"')[1]
    fresh = client.get(f"/products/{fish.id}").get_data(as_text=True).split('id="shipping"')[1].split("</section>")[0]
    assert fresh != shipping  # fresh food: no "changed my mind" returns, faster delivery


def test_english_readers_see_the_english_title_and_search_finds_either(client, make_artisan, make_product):
    artisan = make_artisan(name="秀英绣坊")
    login(client, artisan.user)
    form = page_form(client, "/shop/products/new", action="")
    resp = form.submit(client, {"title": "荷花刺绣团扇", "description": "慈溪绣娘手工刺绣。", "category": "embroidery",
                                "price": "88", "stock": "5", "status": "published",
                                "title_en": "Lotus embroidered silk fan",
                                "description_en": "Hand embroidered by the women of Cixi."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    product = db.session.scalar(select(Product))
    assert (product.title_en, product.description_en) == ("Lotus embroidered silk fan",
                                                          "Hand embroidered by the women of Cixi.")
    plain = make_product(artisan, title="竹编果篮")

    reader = client.application.test_client()
    zh = reader.get(f"/products/{product.id}").get_data(as_text=True)
    assert "<h1>荷花刺绣团扇</h1>" in zh and "Lotus embroidered" not in zh
    reader.get("/lang/en")
    en = reader.get(f"/products/{product.id}").get_data(as_text=True)
    assert "<h1>Lotus embroidered silk fan</h1>" in en and "Hand embroidered by the women" in en
    assert "<h1>竹编果篮</h1>" in reader.get(f"/products/{plain.id}").get_data(as_text=True)  # no English: Chinese
    listing = reader.get("/products").get_data(as_text=True)
    assert "Lotus embroidered silk fan" in listing

    found_en = reader.get("/products?q=lotus").get_data(as_text=True)
    found_zh = reader.get("/products?q=团扇").get_data(as_text=True)
    assert f"/products/{product.id}" in found_en and f"/products/{plain.id}" not in found_en
    assert f"/products/{product.id}" in found_zh

    # Editing keeps the English and lets her change it.
    form = page_form(client, f"/shop/products/{product.id}/edit", action="")
    assert form.value("title_en") == "Lotus embroidered silk fan"
    assert form.submit(client, {"title_en": "Lotus fan"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).title_en == "Lotus fan"
    assert f"/products/{product.id}" in reader.get("/products?q=lotus").get_data(as_text=True)


def test_staff_hide_a_listing_with_a_reason_the_artisan_sees_then_restore_it(app, client, make_user, make_artisan,
                                                                            make_product):
    artisan = make_artisan(name="秀英绣坊")
    product = make_product(artisan, title="荷花刺绣团扇")
    staff = make_user(("staff",))
    buyer = make_user()

    login(client, buyer)
    assert client.post(f"/staff/products/{product.id}/hide", data={"reason": "x"}).status_code == 403

    client = app.test_client()
    login(client, staff)
    form = page_form(client, f"/products/{product.id}", action=f"/staff/products/{product.id}/hide")
    form.submit(client, {"reason": "  "})  # no reason: refused, nothing changed
    db.session.expire_all()
    assert db.session.get(Product, product.id).hidden_at is None
    assert form.submit(client, {"reason": "图片涉嫌侵权，请换成自己拍的照片"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).hidden_reason == "图片涉嫌侵权，请换成自己拍的照片"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.hide"))
    assert (entry.actor_id, entry.object_type, entry.object_id) == (staff.id, "products", product.id)
    assert "图片涉嫌侵权" in client.get(f"/products/{product.id}").get_data(as_text=True)  # staff still see it

    public = app.test_client()
    assert public.get(f"/products/{product.id}").status_code == 404
    assert "荷花刺绣团扇" not in public.get("/products").get_data(as_text=True)
    assert "荷花刺绣团扇" not in public.get("/products?q=团扇").get_data(as_text=True)

    mine = app.test_client()
    login(mine, artisan.user)
    assert "图片涉嫌侵权" in mine.get("/shop/").get_data(as_text=True)
    assert "图片涉嫌侵权" in mine.get(f"/shop/products/{product.id}/edit").get_data(as_text=True)
    assert "图片涉嫌侵权" in mine.get(f"/products/{product.id}").get_data(as_text=True)
    told = db.session.scalar(select(Notice).where(Notice.kind == "listing_hidden", Notice.user_id == artisan.user_id))
    assert told is not None and "图片涉嫌侵权" in told.body

    form = page_form(client, f"/products/{product.id}", action=f"/staff/products/{product.id}/restore")
    assert form.submit(client).status_code == 302
    assert public.get(f"/products/{product.id}").status_code == 200
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.restore")) is not None
    assert client.post(f"/staff/products/{product.id}/restore").status_code == 302  # not hidden: a message
    assert client.post("/staff/products/999999/hide", data={"reason": "x"}).status_code == 404
