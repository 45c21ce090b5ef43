"""The product lane (market.catalog.product_lane): a signed-in reader's product page answered
before Flask from the stored body and her cached header is the page Flask would answer, and
every case the lane cannot decide alone is left to Flask (tests/http/test_fastpath.py covers
ended sessions and two readers alternating, through the lane too)."""
from __future__ import annotations

import re

import pytest

from market.catalog import product_lane
from market.catalog.product_lane import lane_of
from market.extensions import db
from market.models import Product
from tests.support import delivered_line, login, production_caches

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BROWSER = {"User-Agent": "Mozilla/5.0 lane-test"}


@pytest.fixture
def cached_app(app):
    with production_caches(app, page_cache_seconds=30):
        yield app


def _signed_in(app, user):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": BROWSER["User-Agent"]})
    assert login(client, user).status_code == 302
    return client


def _warm(client, path: str) -> None:
    """Her header cached (first view learns her session, the second stores it) and this
    process's frame and related section rendered."""
    for _ in range(3):
        assert client.get(path).status_code == 200


def _by_lane(client, path: str, **kwargs):
    lane = lane_of(client.application)
    served = lane.served
    resp = client.get(path, **kwargs)
    return resp, lane.served == served + 1


def _by_flask(client, path: str, **kwargs):
    """The same request with the lane stepped around."""
    app = client.application
    lane = lane_of(app)
    app.wsgi_app = lane.wsgi_app
    try:
        return client.get(path, **kwargs)
    finally:
        app.wsgi_app = lane


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_lane_answers_the_page_flask_would(cached_app, make_user, make_artisan, make_product, lang):
    from market.models import Brand

    shop, tea = make_artisan(name="海边绣坊"), make_artisan(name="山里茶园")
    brand = Brand(slug="jixiang", name="吉象·芳华")
    brand.members.extend([shop, tea])
    db.session.add(brand)
    db.session.commit()
    product = make_product(shop, title="手工刺绣团扇", price_fen=12800, brand_id=brand.id)
    product.title_en = "Embroidered fan"
    db.session.commit()
    make_product(shop, title="竹编果篮", brand_id=brand.id)
    make_product(tea, title="高山云雾茶", brand_id=brand.id)
    alice = make_user(name="林爱丽")
    a = _signed_in(cached_app, alice)
    a.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    a.get(f"/lang/{lang}")
    path = f"/products/{product.id}"
    _warm(a, path)
    lane_resp, served = _by_lane(a, path)
    assert served and lane_resp.status_code == 200
    flask_resp = _by_flask(a, path)
    assert lane_resp.get_data(as_text=True) == flask_resp.get_data(as_text=True)
    html = lane_resp.get_data(as_text=True)
    assert "林爱丽" in html and 'id="cart-count">2<' in html and "sm-hole" not in html and "sm-frame" not in html
    assert ("Embroidered fan" if lang == "en" else "手工刺绣团扇") in html
    assert "竹编果篮" in html and "高山云雾茶" in html  # more from this shop, from the same brand

    def headers(resp):
        return sorted((k, v) for k, v in resp.headers.items() if k != "X-Request-ID")

    assert headers(lane_resp) == headers(flask_resp)
    assert lane_resp.headers["X-Request-ID"] and lane_resp.headers["Cache-Control"] == "private, no-store"
    # Her token in the buy form is her session's: the form posts.
    cached_app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = _CSRF.search(html).group(1)
        assert a.post("/cart/add", data={"product_id": product.id, "quantity": 1, "csrf_token": token}).status_code == 302
    finally:
        cached_app.config["WTF_CSRF_ENABLED"] = False
    assert 'id="cart-count">3<' in a.get(path).get_data(as_text=True)


def test_an_edit_is_on_the_very_next_view_through_the_lane(cached_app, make_user, make_artisan, make_product):
    product = make_product(make_artisan(), title="手工刺绣团扇", price_fen=12800, stock=5)
    a = _signed_in(cached_app, make_user())
    path = f"/products/{product.id}"
    _warm(a, path)
    assert _by_lane(a, path)[1]
    db.session.execute(db.update(Product).where(Product.id == product.id).values(price_fen=9900, stock=0))
    db.session.commit()
    resp, served = _by_lane(a, path)  # the stored body's stamp no longer matches: Flask renders it
    html = resp.get_data(as_text=True)
    assert not served and "99.00" in html and "128.00" not in html
    resp, served = _by_lane(a, path)  # and stores it: the lane again, with the new price
    assert served and "99.00" in resp.get_data(as_text=True)
    product = db.session.get(Product, product.id)
    product.status = "draft"
    db.session.commit()
    resp, served = _by_lane(a, path)
    assert not served and resp.status_code == 404


@pytest.mark.parametrize("case", ["staff", "owner", "bought", "query", "flash", "other_browser", "hidden"])
def test_what_the_lane_cannot_decide_alone_goes_to_flask(cached_app, make_user, make_artisan, make_product, case):
    shop = make_artisan(name="海边绣坊")
    owner = shop.user
    product = make_product(shop, title="手工刺绣团扇", stock=5)
    reader = {"staff": lambda: make_user(("staff",), name="值班员"), "owner": lambda: owner}.get(
        case, lambda: make_user(name="林爱丽"))()
    if case == "bought":
        delivered_line(reader, product)
    client = _signed_in(cached_app, reader)
    path = f"/products/{product.id}"
    _warm(client, path)
    kwargs = {}
    if case == "query":
        path += "?q=团扇"
    elif case == "flash":
        with client.session_transaction() as sess:
            sess["_flashes"] = [("info", "已加入购物车")]
    elif case == "other_browser":
        kwargs["headers"] = {"User-Agent": "another-browser/1.0"}
    elif case == "hidden":
        product = db.session.get(Product, product.id)
        product.hidden_at, product.hidden_reason = db.func.now(), "违规"
        db.session.commit()
    resp, served = _by_lane(client, path, **kwargs)
    html = resp.get_data(as_text=True)
    assert not served, case
    if case == "hidden":
        assert resp.status_code == 404
        return
    assert resp.status_code == 200
    if case == "staff":
        assert f"/staff/products/{product.id}/hide" in html
    elif case == "owner":  # her page is rendered for her (reply forms: test_fastpath)
        assert "手工刺绣团扇" in html
    elif case == "bought":
        assert "评价" in html
    elif case == "flash":
        assert "已加入购物车" in html
        assert _by_lane(client, path)[1]  # shown once: the next view is the lane's again
    elif case == "other_browser":
        with client.session_transaction() as sess:
            assert sess.get("_fresh") is False  # as Flask-Login marks it


def test_a_failing_database_read_leaves_the_page_to_flask(cached_app, make_user, make_artisan, make_product,
                                                         monkeypatch):
    product = make_product(make_artisan(), title="手工刺绣团扇")
    a = _signed_in(cached_app, make_user(name="林爱丽"))
    path = f"/products/{product.id}"
    _warm(a, path)

    def broken(*_args):
        raise OSError("connection refused")

    monkeypatch.setattr(product_lane.ProductLane, "_head", broken)
    resp, served = _by_lane(a, path)
    assert not served and resp.status_code == 200 and "手工刺绣团扇" in resp.get_data(as_text=True)


def test_lane_pages_are_counted_and_logged_like_any_other(cached_app, make_user, make_artisan, make_product):
    from market import observability

    product = make_product(make_artisan(), title="手工刺绣团扇")
    a = _signed_in(cached_app, make_user())
    path = f"/products/{product.id}"
    _warm(a, path)
    histogram = observability.REQUEST_LATENCY.labels("GET", "catalog.product", "200")

    def count() -> float:
        return next(s.value for m in histogram.collect() for s in m.samples if s.name.endswith("_count"))

    before = count()
    cached_app.config["LOG_FORMAT"] = "json"
    lines = []
    original = observability.ACCESS_LOG.add
    observability.ACCESS_LOG.add = lambda line, urgent=False: lines.append(line)
    try:
        resp, served = _by_lane(a, path, headers={"X-Request-ID": "lane-test-1"})
    finally:
        observability.ACCESS_LOG.add = original
        cached_app.config["LOG_FORMAT"] = "text"
    assert served and resp.headers["X-Request-ID"] == "lane-test-1"
    assert count() == before + 1
    assert [(line["path"], line["endpoint"], line["status"], line["request_id"]) for line in lines] == [
        (path, "catalog.product", 200, "lane-test-1")]


def test_the_lane_is_installed_once_and_can_be_switched_off(app):
    from flask import Flask

    lane = lane_of(app)
    product_lane.install(app)
    assert lane_of(app) is lane and not isinstance(lane.wsgi_app, product_lane.ProductLane)
    plain = Flask(__name__)
    plain.config["PRODUCT_LANE"] = False
    product_lane.install(plain)
    assert lane_of(plain) is None


# ---- with Redis as the shared cache: her versions asked while the row is read ----------------

@pytest.fixture
def redis_app(app):
    """Production's caches with Redis itself as the shared cache (TEST_REDIS_URL; CI sets it,
    and with REQUIRE_POSTGRES an unreachable Redis fails instead of skipping)."""
    import os
    import uuid

    from market.extensions import cache
    from tests.support import redis_or_skip

    url = os.environ.get("TEST_REDIS_URL", "")
    client = redis_or_skip(url)
    prefix = f"lanetest-{uuid.uuid4().hex[:8]}:"
    with production_caches(app, page_cache_seconds=30):
        cache.init_app(app, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url, "CACHE_KEY_PREFIX": prefix,
                                    "CACHE_DEFAULT_TIMEOUT": 60})
        try:
            yield app
        finally:
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
            client.close()


def test_versions_read_in_two_halves_are_the_versions(redis_app, make_user):
    from market import user_versions
    from market.extensions import cache

    user = make_user()
    redis_app.config["VERSIONS_TRACKING"] = False  # the two halves are the path without tracking
    with redis_app.app_context():
        assert user_versions.begin_read_versions(user.id)() is None  # none made yet: a miss
        made = user_versions.versions(user.id)
        finish = user_versions.begin_read_versions(user.id)
        assert finish() == made == user_versions.read_versions(user.id)
        user_versions.bump(user.id)
        assert user_versions.begin_read_versions(user.id)() not in (None, made)
        # Whatever happens meanwhile, the answer is read and the connection given back.
        from market import readers

        pool = cache.cache._read_client.connection_pool
        data = {"_user_id": user.session_token, "csrf_token": "x"}
        cache.set(readers._token_key(user.session_token), user.id)  # her session is known

        def failing():
            raise OSError("the database went away")

        with pytest.raises(OSError):
            readers.reader_of_session(data, "zh", failing)
        assert len(pool._in_use_connections) == 0
        assert user_versions.read_versions(user.id) == user_versions.begin_read_versions(user.id)()


@pytest.mark.parametrize("tracking", [True, False])
def test_with_redis_the_lane_serves_her_page_and_never_an_ended_session(redis_app, make_user, make_artisan,
                                                                       make_product, tracking):
    from market import user_versions

    redis_app.config["VERSIONS_TRACKING"] = tracking

    product = make_product(make_artisan(), title="手工刺绣团扇")
    alice = make_user(name="林爱丽")
    a = _signed_in(redis_app, alice)
    path = f"/products/{product.id}"
    _warm(a, path)
    resp, served = _by_lane(a, path)
    assert served and "林爱丽" in resp.get_data(as_text=True)
    with redis_app.app_context():
        user_versions.bump(alice.id)  # anything her header shows changed: Flask renders it once
    resp, served = _by_lane(a, path)
    assert not served and "林爱丽" in resp.get_data(as_text=True)
    assert _by_lane(a, path)[1]
    stolen = {c.key: c.value for c in a._cookies.values()}
    assert a.post("/account/logout").status_code == 302
    thief = redis_app.test_client()
    thief.environ_base.update({"HTTP_USER_AGENT": BROWSER["User-Agent"]})
    for key, value in stolen.items():
        thief.set_cookie(key, value)
    resp, served = _by_lane(thief, path)
    assert not served and "林爱丽" not in resp.get_data(as_text=True)
