"""Fingerprinted static files with year-long caching, the shared page cache for visitors
without a session, and background jobs without Redis."""
from __future__ import annotations

import pytest
from flask import url_for

from market import create_app, jobs
from market.config import TestConfig


@pytest.fixture
def make_app(tmp_path):
    def make(**overrides):
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}", UPLOAD_FOLDER=tmp_path / "uploads")
        config.update(overrides)
        app = create_app(config)
        from market.extensions import db
        from market.reference import seed_reference_data

        with app.app_context():
            db.create_all()
            seed_reference_data()
        return app

    return make


def test_static_urls_carry_a_content_hash_and_are_cached_for_a_year(make_app):
    app = make_app()
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    assert "?v=" in url
    client = app.test_client()
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.cache_control.max_age == 31536000 and resp.cache_control.immutable and resp.cache_control.public
    # An unversioned or outdated URL must be revalidated, never kept for a year.
    assert not client.get("/static/css/app.css").cache_control.max_age
    assert not client.get("/static/css/app.css?v=000000000000").cache_control.max_age
    # Pages link to the versioned URL.
    assert url in client.get("/").get_data(as_text=True)


def test_the_fingerprint_changes_with_the_content(tmp_path):
    from market.serving import StaticFingerprints

    (tmp_path / "a.css").write_text("body{}")
    prints = StaticFingerprints(tmp_path)
    first = prints.version("a.css")
    (tmp_path / "a.css").write_text("body{color:red}")
    assert prints.version("a.css") != first
    assert prints.version("../etc/passwd") is None and prints.version("missing.css") is None


def test_visitors_without_a_session_share_cached_pages(make_app, make_artisan_in):
    app = make_app(CACHE_TYPE="SimpleCache", PAGE_CACHE_SECONDS=30)
    make_artisan_in(app, "手工刺绣围巾")
    client = app.test_client()
    first, second = client.get("/products"), client.get("/products")
    assert first.headers["X-Page-Cache"] == "miss" and second.headers["X-Page-Cache"] == "hit"
    assert first.data == second.data and "手工刺绣围巾" in second.get_data(as_text=True)
    # A page with a form (CSRF token in the session) is never shared.
    product = client.get("/products/1")
    assert product.status_code == 200 and "X-Page-Cache" not in product.headers
    # Someone with a session always gets a fresh page.
    client.get("/lang/en")
    assert "X-Page-Cache" not in client.get("/products").headers


@pytest.fixture
def make_artisan_in():
    def make(app, title):
        from market.accounts.services import register_user
        from market.artisans.services import ProductData, save_product, save_shop
        from market.extensions import db

        with app.app_context():
            user = register_user("秀英", "xy@example.cn", "correct-horse-battery", ["artisan"])
            artisan = save_shop(user, display_name="秀英绣坊", kind="craftswoman", district="象山县", story="")
            artisan.status = "approved"
            db.session.commit()
            save_product(user, ProductData(title=title, description="", category="embroidery", price_fen=9900,
                                           stock=3, brand_id=None, status="published"))

    return make


def test_without_redis_jobs_run_inline_and_mail_still_goes_out(make_app):
    app = make_app()
    with app.app_context():
        from market.mail import outbox, send_mail

        assert jobs.queue() is None
        assert send_mail("a@example.cn", "主题", "正文") is True
        assert outbox()[-1]["To"] == "a@example.cn"
        assert jobs.enqueue("reconcile_payments") == {"checked": 0, "expired": 0, "refunds": 0}  # ran here
        with pytest.raises(KeyError):
            jobs.enqueue("os.system", "rm -rf /")


def test_a_failing_smtp_server_makes_the_mail_job_fail_so_it_is_retried(make_app):
    from market.localstripe_proc import free_port

    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    with app.app_context():
        with pytest.raises(jobs.JobFailed):
            jobs.TASKS["send_mail"]("a@example.cn", "主题", "正文")
        from market.mail import send_mail

        assert send_mail("a@example.cn", "主题", "正文") is False  # inline: reported, never raised
