"""Fixtures, one per real component: the database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), localstripe, a live server and headless Chromium.

Every test that uses `app` runs once per database backend. With REQUIRE_POSTGRES=1 (CI)
an unreachable PostgreSQL fails the run instead of skipping it.
"""
from __future__ import annotations

import contextvars
import os
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from market import create_app
from market.config import normalise_database_url
from market.extensions import db
from tests.support import (
    BACKENDS,
    BROWSER_TIMEOUT_MS,
    DEFAULT_PASSWORD,
    PG_URL,
    REQUIRE_PG,
    app_config,
    create_pg_database,
    login,
)


def pytest_configure(config):
    """A CI job that is cancelled or times out gets SIGTERM: turn it into the interrupt pytest
    handles like Ctrl+C, so session fixtures are torn down (localstripe stopped, Chromium
    closed, the private PostgreSQL databases dropped) instead of being left behind."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupt)


def pytest_sessionstart(session):
    if REQUIRE_PG and not PG_URL:
        pytest.exit("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set", returncode=3)
    if PG_URL:
        try:
            engine = create_engine(normalise_database_url(PG_URL))
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # a CI that asked for PostgreSQL must fail, never skip
            pytest.exit(f"PostgreSQL at {PG_URL} is unreachable: {exc}", returncode=3)


def pytest_sessionfinish(session, exitstatus):
    from tests.support import drop_pg_databases

    drop_pg_databases()  # the private PostgreSQL databases, given back during the run and kept for reuse


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the marks (`--dist loadgroup`)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`), the tests of a module that
    builds something once per module (the scale-out cluster of two gunicorns, fitted matchers)
    run in one worker, so that fixture is built once and not once per worker. Other tests go to
    whichever worker is free, in collection order, so each worker still runs its SQLite tests
    before its PostgreSQL ones and sets each backend's database up once."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        if any(defs and defs[-1].scope in ("module", "class", "package") for defs in info.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    url, drop = create_pg_database(PG_URL)
    yield url
    drop()


@pytest.fixture(scope="session")
def _schema_ready(database_url, tmp_path_factory):
    """Create the schema once per backend."""
    app = create_app(app_config(database_url, tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return database_url


def _truncate_all() -> None:
    """Empty every table and restart the ids at 1 (on both backends), as a fresh database has.

    DELETE, not TRUNCATE, on PostgreSQL too: TRUNCATE of the 60-odd tables gives each table and
    index a new file, 0.7 s per test on an idle machine and 2-4 s under CI's load; DELETE of the
    few rows a test writes takes ~25 ms. TRUNCATE stays as the fallback should a cycle of
    foreign keys ever refuse the DELETEs."""
    tables = [t.name for t in db.metadata.sorted_tables]
    try:
        for t in reversed(tables):
            db.session.execute(text(f'DELETE FROM "{t}"'))
        if db.engine.dialect.name == "postgresql":  # what RESTART IDENTITY did
            db.session.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
                                    "FROM pg_sequences WHERE schemaname = current_schema()"))
        db.session.commit()
    except Exception:
        db.session.rollback()
        if db.engine.dialect.name != "postgresql":
            raise
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        db.session.commit()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh contextvars context, so it gets its own app context
    (own db session, g, locale, current_user) as in production, even though the test
    itself holds an app context open for calling services directly."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(_schema_ready, tmp_path):
    from market.reference import seed_reference_data

    app = create_app(app_config(_schema_ready, tmp_path / "uploads"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        seed_reference_data()  # what the migrations insert: Ningbo's districts, the mentor groups
        yield app
        db.session.remove()
        _truncate_all()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- people and things -------------------------------------------------------------

@pytest.fixture
def make_user(app):
    from market.accounts.services import register_user

    counter = iter(range(1, 10_000))

    def make(roles=("buyer",), *, email=None, name=None, password=DEFAULT_PASSWORD):
        n = next(counter)
        roles = list(roles)
        return register_user(name or f"用户{n}", email or f"user{n}@example.cn", password, roles,
                             allow_staff="staff" in roles)

    return make


@pytest.fixture
def make_artisan(make_user):
    from market.artisans.services import save_shop
    from market.models import Artisan

    def make(*, approved=True, district="象山县", name=None, **user_kwargs):
        user = make_user(("artisan",), **user_kwargs)
        artisan: Artisan = save_shop(user, display_name=name or f"{user.name}的小店", kind="craftswoman",
                                     district=district, story="手艺人的故事")
        if approved:
            artisan.status = "approved"
            db.session.commit()
        return artisan

    return make


@pytest.fixture
def make_product(app):
    from market.artisans.services import ProductData, save_product

    def make(artisan, *, title="手工刺绣围巾", description="", category="embroidery", price_fen=9900, stock=10,
             status="published", brand_id=None, uploads=()):
        data = ProductData(title=title, description=description, category=category, price_fen=price_fen,
                           stock=stock, brand_id=brand_id, status=status)
        return save_product(artisan.user, data, uploads=uploads)

    return make


@pytest.fixture
def login_as(client):
    def do(user, password=DEFAULT_PASSWORD):
        resp = login(client, user, password)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client

    return do


# ---- localstripe --------------------------------------------------------------------

@pytest.fixture(scope="session")
def localstripe_url():
    from market.localstripe_proc import stop
    from tests.support import start_test_localstripe

    port, proc = start_test_localstripe()
    yield f"http://127.0.0.1:{port}"
    stop(proc)


# ---- live server and browser ------------------------------------------------------

class LiveServer:
    """The app on a port the kernel picks when the socket is bound (port 0): no window in which
    another process on the machine can take a port we chose but had not bound yet."""

    def __init__(self, app, port: int = 0):
        from werkzeug.serving import make_server

        self.app = app
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()  # release the socket now, not when the object is collected


@pytest.fixture
def live_server(app):
    server = LiveServer(app).start()
    yield server
    server.stop()


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)  # its own default is 5 s
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_browser_page(chromium):
    """Factory for extra isolated browser sessions (several users in one test)."""
    contexts = []

    def make():
        ctx = chromium.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
        ctx.set_default_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


# ---- mutual aid ----------------------------------------------------------------------

@pytest.fixture
def make_mentor(make_user):
    """An approved mentor of the mutual-aid team (her user has the mentor role)."""
    from market.mentoring.services import MentorData, review_mentor, save_mentor_profile

    def make(name="陈老师", *, group="entrepreneur", industries=("seafood",), skills=("e_commerce", "live_streaming"),
             district="象山县", capacity=3, bio="", approved=True, **user_kwargs):
        user = make_user(("mentor",), name=name, **user_kwargs)
        profile = save_mentor_profile(user, MentorData(name, group, list(industries), list(skills), bio, district,
                                                       capacity))
        if approved:
            staff = make_user(("staff",))
            review_mentor(staff, profile.id, "approved")
        return profile

    return make


@pytest.fixture
def make_help_request(make_user):
    from market.mentoring.services import CaseData, file_case

    def make(user=None, *, industry="seafood", difficulties=("e_commerce",), district="象山县",
             description="想在网上卖象山海鲜干货，不会直播带货。", consent=True, business_name="阿芳海鲜干货"):
        user = user or make_user(("entrepreneur",))
        return file_case(user, CaseData(business_name, industry, "startup", district, list(difficulties),
                                              description, consent))

    return make


@pytest.fixture
def desk(app, make_user, make_mentor):
    """The help desk at DESK_T0 (the test's clock): two mentors, staff, and a case she filed,
    as (case, author, staff, first mentor, second mentor)."""
    from market import clock
    from market.mentoring import services
    from tests.support import DESK_T0, case_data

    clock.set(app, DESK_T0)
    first = make_mentor("陈海燕", bio="海鲜电商直播")
    second = make_mentor("李秀英", district="宁海县", bio="电商运营")
    staff = make_user(("staff",), name="妇联小周")
    author = make_user(("entrepreneur",), name="阿芳")
    case = services.file_case(author, case_data())
    return case, author, staff, first, second
