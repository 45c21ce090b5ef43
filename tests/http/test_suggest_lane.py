"""The suggestion lane (market/catalog/suggest_lane.py): a remembered answer is served before
Flask with the same body and the headers that matter; anything else still goes to Flask."""
from __future__ import annotations

import pytest

from tests.support import login


@pytest.fixture
def lane_app(app, make_artisan, make_product):
    # Production's freshness periods: with 0 (the tests' default) every keystroke asks the
    # database, so the lane never answers.
    app.config.update(SEARCH_VOCAB_SECONDS=300, SYNONYMS_CACHE_SECONDS=60)
    shop = make_artisan()
    make_product(shop, title="手工刺绣团扇")
    make_product(shop, title="刺绣香囊")
    make_product(shop, title="竹编果篮", category="weaving")
    return app


def _flask_view_refuses(app):
    """Make the Flask view fail, so a 200 can only have come from the lane."""
    def refuse():
        raise AssertionError("answered by Flask")

    app.view_functions["catalog.suggest"] = refuse


def test_a_remembered_prefix_is_answered_by_the_lane_exactly_as_by_flask(lane_app):
    client = lane_app.test_client()
    first = client.get("/api/search/suggest?q=绣&limit=5")  # Flask answers and remembers
    assert first.status_code == 200
    view = lane_app.view_functions["catalog.suggest"]
    _flask_view_refuses(lane_app)
    again = client.get("/api/search/suggest?q=绣&limit=5", headers={"X-Request-ID": "abcdef123456"})
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.get_json()["suggestions"][0]["url"].startswith("/products?")
    for name in ("Content-Type", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                 "Referrer-Policy"):
        assert again.headers[name] == first.headers[name], name
    assert again.headers["X-Request-ID"] == "abcdef123456"
    assert "Cookie" in again.headers["Vary"]
    # Not remembered (another limit, a new prefix): Flask, whose view refuses here.
    for path in ("/api/search/suggest?q=绣&limit=3", "/api/search/suggest?q=竹"):
        assert client.get(path).status_code == 500, path
    assert client.get("/api/search/suggest?q=%00").status_code == 400  # Flask's check for NUL
    lane_app.view_functions["catalog.suggest"] = view
    long = client.get("/api/search/suggest", query_string={"q": "绣" * 101})
    assert long.status_code == 400 and long.get_json()["error"]["code"] == "query_too_long"
    assert client.post("/api/search/suggest?q=绣").status_code in (400, 405)


def test_the_lane_answers_in_the_readers_language(lane_app, make_user):
    zh, en = lane_app.test_client(), lane_app.test_client()
    assert en.get("/lang/en").status_code in (200, 302)
    zh_first = zh.get("/api/search/suggest?q=embroid").get_data()
    en_first = en.get("/api/search/suggest?q=embroid").get_data()
    _flask_view_refuses(lane_app)
    assert zh.get("/api/search/suggest?q=embroid").get_data() == zh_first
    assert en.get("/api/search/suggest?q=embroid").get_data() == en_first
    # A signed-in reader (a real session cookie) is answered by the lane too.
    buyer = lane_app.test_client()
    assert login(buyer, make_user(email="buyer@example.cn")).status_code == 302
    assert buyer.get("/api/search/suggest?q=embroid").get_data() == zh_first
    # A cookie that does not verify is an empty session, as for Flask: the default language.
    forged = lane_app.test_client()
    forged.set_cookie(lane_app.config["SESSION_COOKIE_NAME"], "not-a-signed-cookie")
    assert forged.get("/api/search/suggest?q=embroid").get_data() == zh_first


def test_the_lane_steps_aside_when_the_vocabulary_is_due_for_its_check(lane_app, make_artisan, make_product):
    client = lane_app.test_client()
    before = client.get("/api/search/suggest?q=竹编").get_json()
    make_product(make_artisan(), title="竹编茶盘", category="weaving")
    # Within SEARCH_VOCAB_SECONDS the remembered answer stands (as before the lane)...
    assert client.get("/api/search/suggest?q=竹编").get_json() == before
    # ...and once the check is due, Flask asks the database and the new title is suggested.
    lane_app.extensions["search_vocabulary"]["checked"] = 0.0
    titles = [s["text"] for s in client.get("/api/search/suggest?q=竹编").get_json()["suggestions"]]
    assert "竹编茶盘" in titles


def test_the_lane_can_be_switched_off(app):
    from flask import Flask

    from market.catalog.suggest_lane import SuggestLane, install

    assert isinstance(app.wsgi_app.wsgi_app, SuggestLane)  # behind the product lane
    plain = Flask(__name__)
    plain.config["SUGGEST_LANE"] = False
    install(plain)
    assert not isinstance(plain.wsgi_app, SuggestLane)
