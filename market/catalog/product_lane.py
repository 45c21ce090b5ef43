"""A short lane for product pages: `GET /products/<id>` for a signed-in reader whose header
is cached, answered from the product's row and stored body before Flask sees the request.

A product page for most signed-in readers is three things that are already kept: the page's
frame (market.catalog.product_pages.frame, once per language and process), the product's body
stored with its row (`product_pages`, one statement) and her own header (market.readers,
cached under her session and versions). Through Flask the page still cost about eight times a
bare app: the request and app contexts, the session and every hook, three database round trips
for one statement (a pool ping, BEGIN, ROLLBACK) and the ORM session around it. This WSGI layer
answers such a page with only what matters for it:

- the same checks as the Flask path (market.serving.serve_shell with a cached reader, then
  market.catalog.views.product): a signed session cookie (Flask's own serializer) holding a
  session token and a CSRF token, Flask-Login's session protection (the identifier of this
  address and browser), her token's user and versions from the shared cache, the product public
  and its stored body made from this very row (its stamp), and she is not staff, not its shop's
  owner and has not bought it (those get their own page);
- one statement for the row and body, on this process's own small autocommit pool (PostgreSQL:
  the driver's cursor, no ORM, no BEGIN/ROLLBACK or ping; other databases through SQLAlchemy
  Core);
- the same page (frame, title, body, related products, her header, her CSRF token) and the
  same headers as the Flask path (`Vary: Cookie`, `Cache-Control: private, no-store`, the
  security headers), a request id, the latency histogram and the JSON access line.

Everything else goes to Flask as before: other paths and methods, any query string, no or an
invalid session cookie, flash messages or a remember-me change pending in the session, a
session from another address or browser, a reader not cached, a product hidden or not yet
stored, and a frame or related section this process has not rendered lately (Flask renders
and keeps them). A failing database or cache read goes to Flask too, which answers as it
would. `PRODUCT_LANE=0` turns the lane off.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import namedtuple

from flask_login.utils import _create_identifier
from sqlalchemy import create_engine
from werkzeug.http import parse_cookie

from market import observability, readers, security, serving
from market.catalog import product_pages
from market.extensions import db, login_manager
from market.ids import MAX_ID

log = logging.getLogger(__name__)

PREFIX = "/products/"
ENDPOINT = "catalog.product"
SESSIONS_KEPT = 4096
_ENGINES: dict[tuple[int, str], object] = {}
_ENGINES_LOCK = threading.Lock()


class ProductLane:
    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._statement = None  # (sql, fixed params, positional names) for the PostgreSQL driver
        self._row_type = None
        self._sessions: dict[str, tuple[dict, float]] = {}  # cookie -> (its session, signed at)
        self.served = 0  # pages answered here
        self.statements = 0  # statements sent on the lane's own pool (SQLAlchemy's events miss them)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING")
                or not path.startswith(PREFIX)):
            return self.wsgi_app(environ, start_response)
        digits = path[len(PREFIX):]
        if not digits.isascii() or not digits.isdigit() or digits[0] == "0" or len(digits) > 10:
            return self.wsgi_app(environ, start_response)
        product_id = int(digits)
        if product_id > MAX_ID:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        try:
            html = self._page(environ, product_id)
        except Exception as exc:  # noqa: BLE001  Flask answers instead (and reports what fails)
            log.warning("product lane gave way to Flask for %s: %s", product_id, exc)
            html = None
        if html is None:
            return self.wsgi_app(environ, start_response)
        body = html.encode()
        self.served += 1
        cfg = self.app.config
        rid = observability.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        start_response("200 OK", [
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
            ("Vary", "Cookie"), ("Cache-Control", "private, no-store"), (observability.REQUEST_ID_HEADER, rid),
            *security.default_headers(cfg),
        ])
        observability.observe_outside_flask(cfg, environ, rid, ENDPOINT, path, time.perf_counter() - started)
        return [body]

    # ---- the checks and the page --------------------------------------------------------

    def _session(self, environ) -> dict | None:
        cfg = self.app.config
        if not environ.get("HTTP_COOKIE"):
            return None
        cookie = parse_cookie(environ).get(cfg["SESSION_COOKIE_NAME"])
        if not cookie:
            return None
        max_age = self.app.permanent_session_lifetime.total_seconds()
        known = self._sessions.get(cookie)
        if known is not None and time.time() - known[1] <= max_age:
            data = known[0]
        else:
            serializer = self.app.session_interface.get_signing_serializer(self.app)
            try:
                data, signed = serializer.loads(cookie, max_age=int(max_age), return_timestamp=True)
            except Exception:  # noqa: BLE001  a bad or expired cookie: Flask treats it as no session
                return None
            if len(self._sessions) >= SESSIONS_KEPT:
                self._sessions.clear()
            # The same cookie is the same signed text: decoded once, its age checked every time.
            self._sessions[cookie] = (data, signed.timestamp())
        if not isinstance(data, dict) or "_flashes" in data or "_remember" in data:
            return None  # messages to show, a remember-me cookie to set or clear: Flask does it
        return data

    def _protection_holds(self, environ, data: dict) -> bool:
        """Flask-Login's session protection sees this address and browser as the login's
        (anything else, Flask decides: it may mark the session not fresh or end it)."""
        mode = self.app.config.get("SESSION_PROTECTION", login_manager.session_protection)
        if mode not in ("basic", "strong"):
            return True
        if login_manager._session_identifier_generator is not _create_identifier:
            return False
        return data.get("_id") == identifier(environ)

    def _page(self, environ, product_id: int) -> str | None:
        cfg = self.app.config
        data = self._session(environ)
        if data is None or not self._protection_holds(environ, data):
            return None
        lang = data.get("lang")
        locale = lang if lang in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]
        raw_csrf = data.get(cfg.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if not isinstance(raw_csrf, str) or not raw_csrf:
            return None
        with self.app.app_context():
            # Her versions (Redis) and the product's row (the database): both asked at once.
            reader, item = readers.reader_of_session(data, locale, lambda: self._head(product_id, locale))
            if reader is None or reader.is_staff or product_id in reader.bought:
                return None
            if item is None or not item.public or item.artisan_id == reader.artisan_id:
                return None
            body = item.body
            frame = product_pages.frame(locale, render=False)
            if body is None or frame is None:
                return None
            related = product_pages.kept_related_html(item, locale)
            if related is None:
                return None
            html = product_pages.fill_frame(frame, item, body, related, locale)
            token = readers.signed_csrf(raw_csrf)
        html = html.replace(serving.HOLE_USER, reader.nav, 1).replace(serving.HOLE_FLASHES, "", 1)
        return html.replace(serving.HOLE_CSRF, token)

    def _head(self, product_id: int, locale: str) -> product_pages.Head | None:
        engine = db.engine
        if engine.dialect.name != "postgresql":
            return product_pages.head(product_id, locale)
        lane_engine = _engine_for(engine)
        if self._statement is None:
            compiled = product_pages._HEAD_BY_ID.compile(dialect=lane_engine.dialect)
            self._statement = (str(compiled), dict(compiled.params), compiled.positiontup)
            self._row_type = None
        sql, fixed, positions = self._statement
        values = {**fixed, "pid": product_id, "locale": locale}
        params = tuple(values[name] for name in positions) if positions else values
        conn = lane_engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                self.statements += 1
                cursor.execute(sql, params)
                row = cursor.fetchone()
                if self._row_type is None:  # the driver builds its description anew each time
                    self._row_type = namedtuple("HeadRow", [d[0] for d in cursor.description])
            finally:
                cursor.close()
        except Exception:
            conn.invalidate()  # a broken connection is not given to the next request
            raise
        finally:
            conn.close()
        return product_pages._head(self._row_type(*row)) if row is not None else None


def identifier(environ) -> str:
    """flask_login.utils._create_identifier for a WSGI environ (the same text, the same hash)."""
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    agent = environ.get("HTTP_USER_AGENT")
    if agent is not None:
        agent = agent.encode("utf-8")
    return hashlib.sha512(f"{address}|{agent}".encode()).hexdigest()


def _engine_for(engine):
    """This process's small autocommit pool for the lane's one statement (made after a fork,
    one per database URL; no ping per checkout: a dead connection fails the read, Flask answers,
    and the pool replaces it)."""
    key = (os.getpid(), engine.url.render_as_string(hide_password=False))
    lane = _ENGINES.get(key)
    if lane is None:
        with _ENGINES_LOCK:
            lane = _ENGINES.get(key)
            if lane is None:
                lane = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=2,
                                     pool_timeout=1)
                _ENGINES[key] = lane
    return lane


def lane_of(app) -> ProductLane | None:
    """The app's product lane, wherever it sits among the WSGI layers."""
    layer = app.wsgi_app
    while layer is not None and not isinstance(layer, ProductLane):
        layer = getattr(layer, "wsgi_app", None) if not hasattr(layer, "__self__") else None
    return layer


def install(app) -> None:
    """Put the lane in front of the app (PRODUCT_LANE=0 leaves every request to Flask)."""
    if app.config.get("PRODUCT_LANE", True) and not isinstance(app.wsgi_app, ProductLane):
        app.wsgi_app = ProductLane(app, app.wsgi_app)
