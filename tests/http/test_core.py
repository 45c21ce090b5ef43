"""Health check, languages, errors, configuration safety."""



def test_healthz_reports_database(client, app):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["dialect"] == app.extensions["sqlalchemy"].engine.dialect.name


def test_chinese_is_default_and_english_is_one_click_away(client):
    page = client.get("/").get_data(as_text=True)
    assert "姐妹集市" in page and 'lang="zh-CN"' in page
    resp = client.get("/lang/en", headers={"Referer": "http://localhost/products"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/products"
    page = client.get("/").get_data(as_text=True)
    assert "Sisters Market" in page and 'lang="en"' in page
    client.get("/lang/zh")
    assert "姐妹集市" in client.get("/").get_data(as_text=True)


def test_unknown_pages_get_a_friendly_404_and_json_for_api(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "404" in resp.get_data(as_text=True)
    resp = client.get("/api/nothing")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == 404


def test_seed_loads_chinese_demo_data(runner, app):
    from market.extensions import db
    from market.models import Artisan, Brand, Product

    result = runner.invoke(args=["seed", "--products", "40"])
    assert result.exit_code == 0, result.output
    assert "demo-password-2026" in result.output
    assert db.session.query(Brand).count() >= 3
    assert db.session.query(Artisan).count() == 20
    assert db.session.query(Product).count() == 40
    assert len({a.district for a in db.session.query(Artisan)}) == 10
    again = runner.invoke(args=["seed", "--if-empty"])
    assert "nothing to do" in again.output
    assert db.session.query(Product).count() == 40
