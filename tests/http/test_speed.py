"""Issue 15's speed work with every cache on: shared product cards and listing fragments,
the per-process copy in front of the shared cache, the capped count, buffered search
counts. What is shared must never carry one user's page to another."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from market.catalog import searching
from market.extensions import cache, db
from market.models import Product, SearchQueryDay
from tests.support import login


@pytest.fixture
def cached_app(app):
    """The app with production's caches: a shared cache (SimpleCache standing in for Redis),
    listing ids/fragments, product cards, the per-process copy and the visitors' page cache."""
    app.config.update(CATALOG_CACHE_SECONDS=60, CARD_CACHE_SECONDS=300, LOCAL_CACHE_SECONDS=5,
                      PAGE_CACHE_SECONDS=30)
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60})
    yield app
    cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})


def _cart_count(html: str) -> int:
    m = re.search(r'id="cart-count">(\d+)<', html)
    assert m, "cart count missing"
    return int(m.group(1))


def _unread(html: str) -> int:
    m = re.search(r'id="unread-count"[^>]*>(\d+)<', html)
    return int(m.group(1)) if m else 0


def test_two_signed_in_users_alternating_never_see_each_others_page(cached_app, make_user, make_artisan,
                                                                   make_product):
    from market.notifications.service import notify

    shop = make_artisan(name="海边绣坊")
    products = [make_product(shop, title=f"手工刺绣团扇{i}", price_fen=1000 + i) for i in range(5)]
    alice = make_user(name="林爱丽", email="alice@example.cn")
    bea = make_user(name="陈蓓蓓", email="bea@example.cn")
    notify(alice, "order_paid", {"number": "SM1"})
    notify(alice, "order_paid", {"number": "SM2"})
    db.session.commit()

    a, b, visitor = cached_app.test_client(), cached_app.test_client(), cached_app.test_client()
    assert login(a, alice).status_code == 302 and login(b, bea).status_code == 302
    assert a.post("/cart/add", data={"product_id": products[0].id, "quantity": 1}).status_code == 302
    assert b.post("/cart/add", data={"product_id": products[1].id, "quantity": 3}).status_code == 302

    pages = ["/", "/products", "/products?q=刺绣", "/products?q=团扇&sort=price_asc", f"/products/{products[2].id}",
             f"/artisans/{shop.id}", "/products?page=1&min_price=10"]
    for _ in range(3):  # every page several times, so the later rounds come from the caches
        for path in pages:
            for client, name, other, count, unread in ((a, "林爱丽", "陈蓓蓓", 1, 2), (b, "陈蓓蓓", "林爱丽", 3, 0),
                                                       (visitor, None, None, 0, 0)):
                resp = client.get(path)
                html = resp.get_data(as_text=True)
                assert resp.status_code == 200, path
                assert _cart_count(html) == count, (path, name)
                assert _unread(html) == unread, (path, name)
                if name:
                    assert name in html and other not in html, (path, name)
                    # Never the visitors' page; the shared shell with her own parts filled in.
                    assert resp.headers.get("X-Page-Cache") in (None, "shell-hit", "shell-miss"), path
                    if resp.headers.get("X-Page-Cache"):
                        assert "private" in resp.headers.get("Cache-Control", ""), path
                else:
                    assert "林爱丽" not in html and "陈蓓蓓" not in html and "Log out" not in html, path
    # The shared parts really were shared: cards are in the shared cache, listing fragments
    # in the process's own (the whole page is what is shared between processes).
    keys = list(cache.cache._cache)
    assert any(":card:" in k or k.startswith("card:") for k in keys)
    assert any(k.startswith("fragment:") for k in cached_app.extensions["market_local_cache"]._items)


def test_cached_cards_follow_price_stock_and_visibility_at_once(cached_app, make_artisan, make_product):
    shop = make_artisan()
    scarf = make_product(shop, title="蓝印花布围巾", price_fen=12300, stock=2)
    make_product(shop, title="竹编果篮", price_fen=5000)
    client = cached_app.test_client()
    client.get("/lang/zh")  # a session: no whole-page cache, the cards' own cache only
    assert "¥123.00" in client.get("/products").get_data(as_text=True)

    scarf.price_fen = 9900
    db.session.commit()
    html = client.get("/products").get_data(as_text=True)
    assert "¥99.00" in html and "¥123.00" not in html

    scarf.stock = 0
    db.session.commit()
    card = client.get("/products").get_data(as_text=True).split("蓝印花布围巾")[1].split("</article>")[0]
    assert "sold-out" in card

    scarf.status = "hidden"
    db.session.commit()
    html = client.get("/products").get_data(as_text=True)
    assert "蓝印花布围巾" not in html and "竹编果篮" in html


def test_a_new_image_touches_the_product_so_its_card_changes(app, make_artisan, make_product):
    from market.models import ProductImage

    product = make_product(make_artisan(), title="刺绣手帕")
    db.session.execute(Product.__table__.update().where(Product.id == product.id)
                       .values(updated_at=func.datetime("2020-01-01") if db.engine.dialect.name == "sqlite"
                               else func.to_timestamp(0)))
    db.session.commit()
    db.session.expire_all()
    before = db.session.get(Product, product.id).updated_at
    db.session.add(ProductImage(product_id=product.id, filename="a.jpg", thumb_filename="a_t.jpg", width=1,
                                height=1, position=0))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Product, product.id).updated_at != before


def test_a_count_above_the_threshold_is_shown_as_a_lower_bound(app, client, make_artisan, make_product):
    # The SQL path's cap; the in-process listing index counts exactly (below).
    app.config.update(PRODUCTS_PER_PAGE=2, COUNT_EXACT_MAX=3, LISTING_INDEX=False)
    shop = make_artisan()
    for i in range(7):
        make_product(shop, title=f"刺绣{i}")
    html = client.get("/products").get_data(as_text=True)
    count = re.search(r'id="result-count">([^<]+)<', html).group(1)
    assert "3+" in count
    assert "page=2" in html  # more pages are offered
    # Far enough down the count is exact again: page 3 counts up to 4 + 3 = 7 matches.
    html = client.get("/products?page=3").get_data(as_text=True)
    assert re.search(r'id="result-count">\D*7\D', html) and "+" not in re.search(
        r'id="result-count">([^<]+)<', html).group(1)
    # Few matches: exact.
    html = client.get("/products?q=刺绣1").get_data(as_text=True)
    assert "+" not in re.search(r'id="result-count">([^<]+)<', html).group(1)
    # From the in-process index the count is exact on every page.
    app.config["LISTING_INDEX"] = True
    html = client.get("/products").get_data(as_text=True)
    count = re.search(r'id="result-count">([^<]+)<', html).group(1)
    assert "7" in count and "+" not in count


def test_buffered_search_counts_are_exact_once_written(app):
    app.config["SEARCH_COUNT_FLUSH_SECONDS"] = 3600
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
    searching.record_search("茶", 5)
    assert not errors
    total = select(func.sum(SearchQueryDay.searches)).where(SearchQueryDay.query == "刺绣")
    assert db.session.scalar(total) is None  # still in the process's buffer
    searching.flush_search_counts()
    db.session.expire_all()
    assert db.session.scalar(total) == 12
    assert db.session.scalar(select(SearchQueryDay.searches).where(SearchQueryDay.query == "茶")) == 1


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_signed_in_readers_share_a_shell_and_get_their_own_parts(cached_app, make_user, make_artisan,
                                                                  make_product):
    shop = make_artisan(name="海边绣坊")
    product = make_product(shop, title="手工刺绣团扇", price_fen=1000)
    alice = make_user(name="林爱丽", email="alice@example.cn")
    bea = make_user(name="陈蓓蓓", email="bea@example.cn")
    a, b = cached_app.test_client(), cached_app.test_client()
    assert login(a, alice).status_code == 302 and login(b, bea).status_code == 302
    assert a.post("/cart/add", data={"product_id": product.id, "quantity": 2}).status_code == 302

    first = a.get("/products?q=团扇")
    second = b.get("/products?q=团扇")
    third = a.get("/products?q=团扇")
    assert first.headers["X-Page-Cache"] == "shell-miss"
    assert second.headers["X-Page-Cache"] == third.headers["X-Page-Cache"] == "shell-hit"
    for resp, name, other, count in ((first, "林爱丽", "陈蓓蓓", 2), (second, "陈蓓蓓", "林爱丽", 0),
                                     (third, "林爱丽", "陈蓓蓓", 2)):
        html = resp.get_data(as_text=True)
        assert name in html and other not in html and "手工刺绣团扇" in html
        assert _cart_count(html) == count
        assert "sm-hole" not in html  # every hole filled
    # What is stored holds nobody's name, cart or token.
    shells = [v for k, v in cache.cache._cache.items() if "shell" in k]
    assert shells
    for stored in shells:
        text = str(stored)
        assert "林爱丽" not in text and "陈蓓蓓" not in text and "sm-hole:user" in text
        assert not _CSRF.search(text)
    # The cart changed in this request: the count is read again, not the one loaded with her.
    assert a.post("/cart/add", data={"product_id": product.id, "quantity": 1}).status_code == 302
    assert _cart_count(a.get("/products?q=团扇").get_data(as_text=True)) == 3


def test_a_csrf_token_on_a_shared_page_is_the_readers_own(cached_app, make_user, make_artisan, make_product):
    shop = make_artisan(name="海边绣坊")
    product = make_product(shop, title="手工刺绣团扇", price_fen=1000)
    alice = make_user(name="林爱丽", email="alice@example.cn")
    bea = make_user(name="陈蓓蓓", email="bea@example.cn")
    a, b = cached_app.test_client(), cached_app.test_client()
    assert login(a, alice).status_code == 302 and login(b, bea).status_code == 302
    cached_app.config["WTF_CSRF_ENABLED"] = True
    try:
        page_a, page_b = a.get("/products"), b.get("/products")
        assert page_b.headers["X-Page-Cache"] == "shell-hit"  # b's page came from a's render
        token_a = _CSRF.search(page_a.get_data(as_text=True)).group(1)
        token_b = _CSRF.search(page_b.get_data(as_text=True)).group(1)
        assert token_a != token_b
        # Someone else's token is refused; her own works.
        assert a.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                         "csrf_token": token_b}).status_code == 400
        assert b.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                         "csrf_token": token_a}).status_code == 400
        assert a.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                         "csrf_token": token_a}).status_code == 302
        assert b.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                         "csrf_token": token_b}).status_code == 302
        # Logging out with the token from a shared page works too.
        assert b.post("/account/logout", data={"csrf_token": token_b}).status_code == 302
        assert "陈蓓蓓" not in b.get("/products").get_data(as_text=True)
    finally:
        cached_app.config["WTF_CSRF_ENABLED"] = False


def test_flash_messages_on_a_shared_page_are_the_readers_and_shown_once(cached_app, make_user):
    alice = make_user(name="林爱丽", email="alice@example.cn")
    bea = make_user(name="陈蓓蓓", email="bea@example.cn")
    a, b = cached_app.test_client(), cached_app.test_client()
    assert login(a, alice).status_code == 302 and login(b, bea).status_code == 302
    b.get("/products")  # the shell exists before her message
    with a.session_transaction() as sess:
        sess["_flashes"] = [("success", "给林爱丽的消息")]
    first = a.get("/products")
    assert first.headers["X-Page-Cache"] == "shell-hit"
    assert "给林爱丽的消息" in first.get_data(as_text=True)
    assert "给林爱丽的消息" not in a.get("/products").get_data(as_text=True)
    assert "给林爱丽的消息" not in b.get("/products").get_data(as_text=True)
