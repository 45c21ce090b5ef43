"""Product pages from stored bodies (market.catalog.product_pages): a product's first view
renders its body once and stores it; later views read it with the product's row in one
statement; every change the body shows is on the very next view, however it was made; the
parts of a page that belong to one reader never reach the stored body or another reader."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from market.extensions import db
from market.models import Brand, Product, ProductImage, ProductPage
from market.orders import operations
from tests.support import login, mark_paid, place, production_caches, statements

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cached_app(app):
    """Production's caches (SimpleCache standing in for Redis), but no page shells nor
    visitors' page cache: every view below goes through the product view itself."""
    with production_caches(app, page_cache_seconds=0):
        yield app


def _page(client, product_id: int) -> str:
    resp = client.get(f"/products/{product_id}")
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _stored(product_id: int) -> list[ProductPage]:
    db.session.expire_all()
    return list(db.session.scalars(select(ProductPage).where(ProductPage.product_id == product_id)))


def _delivered_line(buyer, product):
    order = place(buyer, {product: 1})
    mark_paid(order)
    db.session.expire_all()
    sub = order.sub_orders[0]
    operations.ship(product.artisan.user, sub.id, "顺丰", "SF1234567890")
    operations.deliver(product.artisan.user, sub.id)
    db.session.expire_all()
    return order.lines[0]


def test_a_first_view_stores_the_body_and_the_next_reads_it_with_the_row(cached_app, make_artisan, make_product):
    shop = make_artisan(name="海边绣坊")
    fan = make_product(shop, title="手工刺绣团扇", price_fen=12800, stock=7)
    make_product(shop, title="竹编果篮")
    client, fan_id = cached_app.test_client(), fan.id
    first = _page(client, fan_id)
    [stored] = _stored(fan_id)
    assert stored.locale == "zh" and "手工刺绣团扇" in stored.html and "sm-hole" not in first
    # What belongs to readers is not in it: the token is a hole, no header.
    assert "<!--sm-hole:csrf-->" in stored.html and 'class="site-header"' not in stored.html
    with statements() as seen:
        second = _page(client, fan_id)
    assert not any("product_images" in s or "FROM reviews" in s for s in seen), seen
    assert len(seen) <= 2, seen  # the row with its body; the related cards' stamps
    for html in (first, second):
        assert "手工刺绣团扇" in html and "¥128.00" in html and "竹编果篮" in html and "海边绣坊" in html
    assert _CSRF.search(second) and "sm-hole" not in second


@pytest.mark.parametrize("how", ["form", "orm", "core"])
def test_an_edit_is_on_the_very_next_view(cached_app, make_artisan, make_product, how):
    from market.artisans.services import ProductData, save_product

    shop = make_artisan()
    product = make_product(shop, title="手工刺绣团扇", price_fen=12800, stock=7)
    client = cached_app.test_client()
    assert "手工刺绣团扇" in _page(client, product.id)
    if how == "form":
        save_product(shop.user, ProductData(title="荷花刺绣团扇", description="", category="embroidery",
                                            price_fen=9900, stock=3, status="published"), product=product)
    elif how == "orm":
        product.title, product.price_fen, product.stock = "荷花刺绣团扇", 9900, 3
        db.session.commit()
    else:  # as another process would, without the ORM (stock taken at checkout, a script)
        db.session.execute(update(Product).where(Product.id == product.id)
                           .values(title="荷花刺绣团扇", price_fen=9900, stock=3))
        db.session.commit()
    html = _page(client, product.id)
    assert "荷花刺绣团扇" in html and "¥99.00" in html and "3" in re.search(r'class="stock">([^<]+)<', html).group(1)
    assert "手工刺绣团扇" not in html and "¥128.00" not in html
    # Sold out: the buy form goes at once.
    db.session.execute(update(Product).where(Product.id == product.id).values(stock=0))
    db.session.commit()
    html = _page(client, product.id)
    assert "buy-form" not in html and "sold-out" in html


def test_changes_to_images_shop_brand_and_reviews_are_on_the_very_next_view(cached_app, make_user, make_artisan,
                                                                           make_product):
    from market.reviews import services as reviews

    shop = make_artisan(name="海边绣坊")
    brand = Brand(slug="haibian", name="海边姐妹")
    brand.members.append(shop)
    db.session.add(brand)
    db.session.commit()
    product = make_product(shop, title="手工刺绣团扇", brand_id=brand.id)
    client = cached_app.test_client()
    assert "海边绣坊" in _page(client, product.id)

    shop.display_name, shop.story = "石浦绣坊", "新的故事"
    db.session.commit()
    html = _page(client, product.id)
    assert "石浦绣坊" in html and "新的故事" in html and "海边绣坊" not in html

    brand.name = "石浦姐妹"
    db.session.commit()
    assert "石浦姐妹" in _page(client, product.id)

    db.session.add(ProductImage(product_id=product.id, filename="new-cover.jpg", thumb_filename="new-cover_t.jpg",
                                width=800, height=600))
    db.session.commit()
    assert "new-cover.jpg" in _page(client, product.id)

    buyer = make_user(name="王小红")
    review = reviews.write_review(buyer, _delivered_line(buyer, product).id, stars=4, body="针脚细密")
    assert "针脚细密" in _page(client, product.id)
    reviews.answer(shop.user, review.id, "谢谢喜欢")
    assert "谢谢喜欢" in _page(client, product.id)
    reviews.hide(make_user(("staff",)), review.id, "广告")
    assert "针脚细密" not in _page(client, product.id)


def test_a_body_stored_from_rows_a_commit_replaced_is_never_served(cached_app, make_artisan, make_product):
    from market.catalog import product_pages

    shop = make_artisan(name="海边绣坊")
    product = make_product(shop, title="手工刺绣团扇")
    client = cached_app.test_client()
    _page(client, product.id)
    # A worker rendered the old shop name; meanwhile the rename committed. What it stored
    # carries the stamp of the rows it read, so it does not match the new row.
    with cached_app.test_request_context("/"):
        old = product_pages.head(product.id, "zh")
    shop.display_name = "石浦绣坊"
    db.session.commit()
    db.session.execute(update(ProductPage).where(ProductPage.product_id == product.id)
                       .values(stamp=old.stamp, html=old.html))
    db.session.commit()
    assert "石浦绣坊" in _page(client, product.id)


def test_hidden_unpublished_and_closed_shops_are_gone_despite_a_stored_body(cached_app, make_user, make_artisan,
                                                                         make_product):
    from market.accounts import admin
    from market.catalog import moderation

    staff = make_user(("staff",))
    shop = make_artisan()
    product = make_product(shop, title="手工刺绣团扇")
    client = cached_app.test_client()
    _page(client, product.id)
    moderation.hide_product(staff, product.id, "图片不实")
    assert client.get(f"/products/{product.id}").status_code == 404
    moderation.restore_product(staff, product.id)
    assert client.get(f"/products/{product.id}").status_code == 200
    admin.suspend(staff, shop.user.id, "测试")
    assert client.get(f"/products/{product.id}").status_code == 404


def test_readers_with_parts_of_their_own_never_share_them(cached_app, make_user, make_artisan, make_product):
    """Staff, the shop's owner and a buyer who may review see their own parts; the stored
    body and every other reader see none of them; each signed-in reader her own header and
    token, alternating."""
    from market.reviews import services as reviews

    shop = make_artisan(name="海边绣坊")
    product = make_product(shop, title="手工刺绣团扇")
    writer = make_user(name="王小红")
    reviews.write_review(writer, _delivered_line(writer, product).id, stars=5, body="很好")
    alice, bea = make_user(name="林爱丽"), make_user(name="陈蓓蓓")
    receiver = make_user(name="周可可")
    _delivered_line(receiver, product)
    staff = make_user(("staff",), name="值班员")
    clients = {}
    for who in (alice, bea, receiver, staff, shop.user):
        clients[who.name] = cached_app.test_client()
        assert login(clients[who.name], who).status_code == 302
    clients["visitor"] = cached_app.test_client()
    clients[alice.name].post("/cart/add", data={"product_id": product.id, "quantity": 2})
    own = {"值班员": ("moderation", "hide-review-form"), "周可可": ("write-review",),
           shop.user.name: ("reply-form",)}
    personal = ("moderation", "hide-review-form", "write-review", "reply-form")
    for _ in range(2):
        for name, client in clients.items():
            html = _page(client, product.id)
            for marker in personal:
                assert (marker in html) == (marker in own.get(name, ())), (name, marker)
            for other in ("林爱丽", "陈蓓蓓", "周可可", "值班员"):
                assert (other in html) == (other == name), (name, other)
            if name == "林爱丽":
                assert 'id="cart-count">2<' in html
            if name == "陈蓓蓓":  # her own token: adding to the cart with it works
                token = _CSRF.search(html).group(1)
                resp = client.post("/cart/add", data={"product_id": product.id, "quantity": 1, "csrf_token": token})
                assert resp.status_code == 302
    for stored in _stored(product.id):
        assert not any(marker in stored.html for marker in personal)
        assert "林爱丽" not in stored.html and "值班员" not in stored.html


def test_warm_pages_renders_missing_and_stale_bodies_only(cached_app, runner, make_artisan, make_product):
    shop = make_artisan()
    products = [make_product(shop, title=f"刺绣团扇{i}号") for i in range(3)]
    make_product(shop, title="草稿", status="draft")
    result = runner.invoke(args=["warm-pages", "--locale", "zh", "--locale", "en", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "3 public product(s) checked, 6 page bod(ies) rendered" in result.output
    assert runner.invoke(args=["warm-pages"]).output.startswith("3 public product(s) checked, 0 ")
    products[1].price_fen = 5500
    db.session.commit()
    assert "1 page bod(ies) rendered" in runner.invoke(args=["warm-pages"]).output
    client = cached_app.test_client()
    with statements() as seen:
        html = _page(client, products[1].id)
    assert "¥55.00" in html and not any("INSERT INTO product_pages" in s for s in seen)  # nothing to render
    assert runner.invoke(args=["warm-pages", "--batch", "0"]).exit_code != 0
