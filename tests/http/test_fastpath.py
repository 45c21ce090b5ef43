"""The signed-in fast path (market.readers, market.user_versions): a shell page served to a
signed-in reader from the caches runs no SQL, and yet every change to what her header shows is
on the very next page, an ended session never gets her header, and two readers alternating
never see each other's parts."""
from __future__ import annotations

import re

import pytest

from market.catalog.product_lane import lane_of
from market.extensions import cache, db
from tests.support import (
    DEFAULT_PASSWORD,
    client_with_cookies,
    cookie,
    delivered_line,
    login,
    production_caches,
    statements,
)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cached_app(app):
    """Production's caches: a shared cache (SimpleCache standing in for Redis), shells, the
    per-process copy and cached headers."""
    with production_caches(app, page_cache_seconds=30):
        yield app


def _from_cache(client, path: str = "/products") -> str:
    """The page, after making sure it comes from the caches alone: the first request learns
    whose session it is, the second stores her header, the third runs no SQL."""
    client.get(path), client.get(path)
    lane = lane_of(client.application)
    served, lane_statements = lane.served, lane.statements
    with statements() as seen:
        resp = client.get(path)
    assert resp.status_code == 200, path
    if re.match(r"/products/\d+", path):
        # A product page is its row and stored body in one statement, always current (no
        # shell, no page cache), answered by the product lane before Flask; nothing of hers
        # is read. (On PostgreSQL the lane's statement goes through the driver, unseen by
        # SQLAlchemy's events: the lane counts it.)
        assert lane.served == served + 1, path
        assert "X-Page-Cache" not in resp.headers and len(seen) + lane.statements - lane_statements == 1, (path, seen)
        assert all("product_pages" in s for s in seen), seen
    else:
        assert resp.headers["X-Page-Cache"] == "shell-hit", path
        assert seen == [], (path, seen)
    return resp.get_data(as_text=True)


def _next_page(client, path: str = "/products") -> str:
    resp = client.get(path)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _cart(html: str) -> int:
    return int(re.search(r'id="cart-count">(\d+)<', html).group(1))


def _unread(html: str) -> int:
    m = re.search(r'id="unread-count"[^>]*>(\d+)<', html)
    return int(m.group(1)) if m else 0


def _signed_in(html: str) -> bool:
    return 'action="/account/logout"' in html


def test_a_signed_in_shell_page_and_product_page_run_no_sql(cached_app, make_user, make_artisan, make_product):
    shop = make_artisan(name="海边绣坊")
    fan, other = make_product(shop, title="手工刺绣团扇", price_fen=1000), make_product(shop, title="竹编果篮")
    alice = make_user(name="林爱丽")
    a = cached_app.test_client()
    assert login(a, alice).status_code == 302
    assert a.post("/cart/add", data={"product_id": fan.id, "quantity": 2}).status_code == 302
    for path in ("/", "/products", "/products?q=团扇", f"/products/{other.id}", f"/artisans/{shop.id}"):
        html = _from_cache(a, path)
        assert "林爱丽" in html and _cart(html) == 2 and "sm-hole" not in html, path
    assert "竹编果篮" in _from_cache(a, f"/products/{other.id}")
    # Another browser string than at login (Flask-Login's "basic" protection): still her page,
    # from the cache, and the session is marked not fresh as Flask-Login would.
    with statements() as seen:
        resp = a.get("/products", headers={"User-Agent": "another-browser/1.0"})
    assert seen == [] and "林爱丽" in resp.get_data(as_text=True)
    with a.session_transaction() as sess:
        assert sess.get("_fresh") is False


def test_every_change_to_her_header_is_on_the_very_next_page(cached_app, make_user, make_artisan, make_product):
    from market.accounts import services as accounts
    from market.notifications.service import notify

    product = make_product(make_artisan(), title="手工刺绣团扇", stock=10)
    staff = make_user(("staff",), name="值班员")
    alice = make_user(name="林爱丽")
    a = cached_app.test_client()
    login(a, alice)

    assert _cart(_from_cache(a)) == 0
    a.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    assert _cart(_next_page(a)) == 2
    assert _cart(_from_cache(a)) == 2
    a.post("/cart/update", data={"product_id": product.id, "quantity": 3})
    assert _cart(_next_page(a)) == 3
    _from_cache(a)
    a.post("/cart/remove", data={"product_id": product.id})
    assert _cart(_next_page(a)) == 0

    _from_cache(a)
    notify(alice, "order_paid", {"number": "SM1"})  # as a background job would, in its own commit
    db.session.commit()
    assert _unread(_next_page(a)) == 1
    _from_cache(a)
    assert a.post("/notices/read-all").status_code == 302
    assert _unread(_next_page(a)) == 0

    assert 'href="/staff/"' not in _from_cache(a)
    accounts.grant_role(staff, alice, "staff", allowed=("staff",))
    assert 'href="/staff/"' in _next_page(a)
    _from_cache(a)
    accounts.revoke_role(staff, alice, "staff", allowed=("staff",))
    assert 'href="/staff/"' not in _next_page(a)
    assert 'id="nav-supply"' not in _from_cache(a)
    accounts.add_role(alice, "entrepreneur")
    assert 'id="nav-supply"' in _next_page(a)

    _from_cache(a)
    alice.name = "林新名"
    db.session.commit()
    html = _next_page(a)
    assert "林新名" in html and "林爱丽" not in html

    # A product she received: the link to review it is on her very next view of its page.
    other = make_product(make_artisan(), title="竹编果篮")
    assert "write-review" not in _from_cache(a, f"/products/{other.id}")
    delivered_line(alice, other)
    for _ in range(3):
        resp = a.get(f"/products/{other.id}")
        assert "write-review" in resp.get_data(as_text=True) and resp.headers.get("X-Page-Cache") is None


@pytest.mark.parametrize("how", ["logout", "everywhere", "password", "suspend", "deactivate"])
def test_an_ended_session_never_gets_her_header_from_the_cache(cached_app, make_user, make_artisan, make_product,
                                                               how):
    from market.accounts import admin
    from market.accounts import services as accounts

    product = make_product(make_artisan(), title="手工刺绣团扇")
    staff = make_user(("staff",))
    alice = make_user(name="林爱丽")
    a = cached_app.test_client()
    login(a, alice)
    for path in ("/products", f"/products/{product.id}"):
        assert "林爱丽" in _from_cache(a, path)
    captured = cookie(a, cached_app.config["SESSION_COOKIE_NAME"])

    if how == "logout":
        assert a.post("/account/logout").status_code == 302
    elif how == "everywhere":
        accounts.end_all_sessions(alice)
    elif how == "password":
        accounts.change_password(alice, DEFAULT_PASSWORD, "blue-river-lantern-9")
    elif how == "suspend":
        admin.suspend(staff, alice.id, "测试")
    else:
        alice.active = False
        db.session.commit()

    old = client_with_cookies(cached_app, **{cached_app.config["SESSION_COOKIE_NAME"]: captured})
    for _ in range(2):
        for path in ("/products", f"/products/{product.id}"):
            html = _next_page(old, path)
            assert "林爱丽" not in html and not _signed_in(html), (how, path)
    if how == "logout":
        assert not _signed_in(_next_page(a))


def test_two_readers_alternating_get_their_own_header_and_csrf_token(cached_app, make_user, make_artisan,
                                                                    make_product):
    from market.notifications.service import notify

    shop = make_artisan()
    product = make_product(shop, title="手工刺绣团扇", stock=20)
    alice, bea = make_user(name="林爱丽"), make_user(name="陈蓓蓓")
    notify(alice, "order_paid", {"number": "SM1"})
    db.session.commit()
    a, b = cached_app.test_client(), cached_app.test_client()
    login(a, alice), login(b, bea)
    a.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    b.post("/cart/add", data={"product_id": product.id, "quantity": 3})
    cached_app.config["WTF_CSRF_ENABLED"] = True
    try:
        tokens = {}
        for _ in range(2):
            for path in ("/products", f"/products/{product.id}", "/"):
                for client, name, other, cart, unread in ((a, "林爱丽", "陈蓓蓓", 1, 1), (b, "陈蓓蓓", "林爱丽", 3, 0)):
                    html = _from_cache(client, path)
                    assert name in html and other not in html, path
                    assert _cart(html) == cart and _unread(html) == unread, (path, name)
                    page_tokens = set(_CSRF.findall(html))
                    assert len(page_tokens) == 1, path
                    tokens.setdefault(name, set()).update(page_tokens)
        assert not tokens["林爱丽"] & tokens["陈蓓蓓"]
        token_a, token_b = next(iter(tokens["林爱丽"])), next(iter(tokens["陈蓓蓓"]))
        # Each token works for its owner only.
        assert a.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                         "csrf_token": token_b}).status_code == 400
        assert a.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                         "csrf_token": token_a}).status_code == 302
        assert b.post("/account/logout", data={"csrf_token": token_b}).status_code == 302
        assert _cart(_next_page(a)) == 2 and not _signed_in(_next_page(b))
    finally:
        cached_app.config["WTF_CSRF_ENABLED"] = False


def test_product_shells_never_carry_staff_or_owner_parts(cached_app, make_user, make_artisan, make_product):
    from market.reviews import services as reviews

    shop = make_artisan(name="海边绣坊")
    product = make_product(shop, title="手工刺绣团扇")
    buyer = make_user(name="老顾客")
    reviews.write_review(buyer, delivered_line(buyer, product).id, stars=5, body="很喜欢")
    staff = make_user(("staff",), name="值班员")
    alice = make_user(name="林爱丽")
    path = f"/products/{product.id}"
    a, s, owner = cached_app.test_client(), cached_app.test_client(), cached_app.test_client()
    login(a, alice), login(s, staff), login(owner, shop.user)

    for _ in range(3):
        for client, who in ((a, "reader"), (s, "staff"), (owner, "owner")):
            resp = client.get(path)
            html = resp.get_data(as_text=True)
            assert resp.status_code == 200 and "很喜欢" in html
            assert ('id="moderation"' in html) == (who == "staff"), who
            assert ('class="reply-form"' in html) == (who == "owner"), who
            if who != "reader":
                assert resp.headers.get("X-Page-Cache") is None, who  # rendered for her alone
    assert "林爱丽" in _from_cache(a, path)
    from market.models import ProductPage

    # What every reader shares (the stored product bodies, any shells) holds no staff or owner parts.
    shared = [p.html for p in db.session.query(ProductPage)] + \
        [str(v) for k, v in cache.cache._cache.items() if "shell" in k]
    assert shared and not any("moderation" in t or "reply-form" in t or "值班员" in t for t in shared)
    # Neither a shared page nor a cached header holds anyone's CSRF token.
    stored = shared + [str(v) for k, v in cache.cache._cache.items() if "reader:" in k]
    assert any("/account/logout" in t for t in stored)
    assert all(token == "<!--sm-hole:csrf-->" for t in stored for token in _CSRF.findall(t))


def test_a_product_nobody_has_seen_is_made_from_its_stored_body_with_her_cached_header(
        cached_app, make_user, make_artisan, make_product):
    """With her header cached, a signed-in reader's first view of a product runs no query
    about her (her user, roles, cart, orders): the row with its stored body, the related
    cards' stamps, and her own header, token and cart count in the page; the next reader gets
    hers, and the owner and staff still get their own pages."""
    shop = make_artisan(name="海边绣坊")
    products = [make_product(shop, title=f"刺绣团扇{i}号", stock=20) for i in range(4)]
    staff = make_user(("staff",), name="值班员")
    alice, bea = make_user(name="林爱丽"), make_user(name="陈蓓蓓")
    a, b, s, owner = (cached_app.test_client() for _ in range(4))
    for client, who in ((a, alice), (b, bea), (s, staff), (owner, shop.user)):
        login(client, who)
    a.post("/cart/add", data={"product_id": products[0].id, "quantity": 2})
    _from_cache(a), _from_cache(b)  # their headers are cached now
    ids = [p.id for p in products]
    with statements() as seen:
        resp = a.get(f"/products/{ids[3]}")
    html = resp.get_data(as_text=True)
    assert "X-Page-Cache" not in resp.headers and "刺绣团扇3号" in html  # no shell: always current
    assert "林爱丽" in html and _cart(html) == 2 and "sm-hole" not in html and _CSRF.search(html)
    assert not any("users.session_token" in q for q in seen), [" ".join(q.split())[:160] for q in seen]
    assert not any("cart_items" in q or "order_lines" in q for q in seen), seen
    html = _from_cache(b, f"/products/{ids[3]}")
    assert "陈蓓蓓" in html and "林爱丽" not in html and _cart(html) == 0
    for client in (s, owner):  # staff's forms, the owner's page: rendered for them alone
        resp = client.get(f"/products/{ids[2]}")
        page = resp.get_data(as_text=True)
        assert resp.headers.get("X-Page-Cache") is None and "林爱丽" not in page
        assert ('id="moderation"' in page) == (client is s)
    # Nothing of anyone's is in what is stored for everyone.
    from market.models import ProductPage

    bodies = [p.html for p in db.session.query(ProductPage)]
    assert bodies and not any("林爱丽" in t or "moderation" in t or "cart-count" in t for t in bodies)


def test_a_listing_nobody_asked_for_yet_loads_only_its_products(cached_app, make_user, make_artisan, make_product):
    """Signed in, her header cached, a query string no one has asked for: the page is rendered
    with holes and filled from her cached header; the only SQL is the listing index's changes
    (and, here, the cards' rows), never her user, cart or orders."""
    shop = make_artisan(name="海边绣坊")
    make_product(shop, title="手工刺绣团扇", price_fen=1000)
    buyer = make_user(name="林爱丽", email="lin@example.cn")
    client = cached_app.test_client()
    assert login(client, buyer).status_code == 302
    _from_cache(client, "/products")
    with statements() as seen:
        resp = client.get("/products?min_price=5&sort=price_asc")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["X-Page-Cache"] == "shell-miss"
    assert "林爱丽" in html and "手工刺绣团扇" in html
    assert not any(s.lstrip().startswith("SELECT users.") or re.search(r"\b(cart_items|orders)\b", s)
                   for s in seen), seen
    assert 1 <= len(seen) <= 2, seen  # the index's changes; the cards' rows when not cached
    # The shell she left is everyone's: another reader is served it with her own header.
    other = cached_app.test_client()
    assert login(other, make_user(name="陈蓓蓓", email="chen@example.cn")).status_code == 302
    page = other.get("/products?min_price=5&sort=price_asc").get_data(as_text=True)
    assert "陈蓓蓓" in page and "林爱丽" not in page


def test_a_product_page_seen_before_shows_an_edit_on_the_very_next_view(cached_app, make_user, make_artisan,
                                                                         make_product):
    """Product pages are not kept in the page cache or in shells: a visitor and a signed-in
    reader who have both seen the page see a new price and stock at once (they used to get the
    cached copy for up to PAGE_CACHE_SECONDS)."""
    from sqlalchemy import update

    from market.models import Product

    shop = make_artisan(name="海边绣坊")
    product = make_product(shop, title="手工刺绣团扇", price_fen=12800, stock=5)
    path = f"/products/{product.id}"
    visitor, reader = cached_app.test_client(), cached_app.test_client()
    login(reader, make_user(name="林爱丽"))
    for client in (visitor, reader, visitor, reader):
        assert "128.00" in client.get(path).get_data(as_text=True)
    db.session.execute(update(Product).where(Product.id == product.id).values(price_fen=9900, stock=2))
    db.session.commit()
    for client in (visitor, reader):
        html = client.get(path).get_data(as_text=True)
        assert "99.00" in html and "128.00" not in html
    assert "林爱丽" in html
