"""Serving: static files that browsers and CDNs may keep for a year, and a short shared
page cache for visitors who are not signed in.

Page cache: a catalogue page (home, list, search, product, artisan, brand) requested
without a session or remember-me cookie is the same for every such visitor, so the
rendered HTML is shared through the cache (Redis across app servers) for
PAGE_CACHE_SECONDS. A page whose rendering touched the session (a form with a CSRF token,
a flash message) or set a cookie is never stored. Adding to the cart and checkout check
stock on their own.

Signed-in pages (hole punching): the same catalogue pages (home, list, search, product,
artisan, brand; their bodies hold nothing about who is looking) are cached for signed-in
readers too, as a shell with holes where the per-user parts go: the header's menu (name, cart
count, unread count, the log-out form), flash messages and every CSRF token. Each request
fills the holes with her own parts, so one user's name, cart or token is never in the shared
copy; her header comes from market.readers (no SQL) when it is cached for her session and
version, else from the database. Holes are HTML comments, which escaped page text can never
contain (Jinja escapes `<`). A product page with something for this reader alone (staff's
forms, the owner's, her own review link) is rendered for her and never stored.

Static files:
`url_for('static', filename=...)` (what every template uses) adds `?v=<content hash>`.
A request whose `v` is the file's current hash is answered with
`Cache-Control: public, max-age=31536000, immutable`: when the file changes, its URL
changes, so nothing stale is ever served from a cache. Hashes depend on content only, so
every app server of a deployment hands out the same URLs.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from market import readers
from market.caching import cache_key, local_cache
from market.extensions import cache

log = logging.getLogger(__name__)

ONE_YEAR = 31536000
# Not product pages: one is its row and stored body read in one statement, always current
# (market.catalog.product_pages), and over many products most views are a product's first in
# a while, so a cached copy cost two round trips that seldom paid and showed edits late.
PAGE_CACHE_ENDPOINTS = frozenset({
    "catalog.home", "catalog.products", "catalog.artisan", "catalog.brand",
})


class StaticFingerprints:
    """Content hashes of static files, recomputed when a file's size or mtime changes."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).resolve()
        self._hashes: dict[str, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def version(self, filename: str) -> str | None:
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder):
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._hashes.get(filename)
        if cached and cached[0] == stamp:
            return cached[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        with self._lock:
            self._hashes[filename] = (stamp, digest)
        return digest


def init_app(app: Flask) -> None:
    fingerprints = StaticFingerprints(app.static_folder)
    app.extensions["static_fingerprints"] = fingerprints

    @app.url_defaults
    def fingerprint_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = fingerprints.version(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_fingerprinted_static(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == fingerprints.version(filename):
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response

    app.before_request(serve_cached_page)
    app.after_request(store_cached_page)
    # After CSRFProtect.init_app (create_app calls it first): tokens become holes in shells.
    app.jinja_env.globals.update(csrf_token=csrf_token_or_hole, user_nav=user_nav, flash_area=flash_area)
    # CSRFProtect also puts its generate_csrf into every template's context, which wins over
    # globals: replaced here, or a shell would keep the token of whoever rendered it.
    app.context_processor(_csrf_in_templates)
    # Flask-Login's context processor loads the user for every template rendered, used or
    # not; a page made from shared parts with her cached header has no use for her rows. The
    # proxy loads her only when a template asks.
    from flask_login.utils import _user_context_processor

    processors = app.template_context_processors[None]
    if _user_context_processor in processors:
        processors.remove(_user_context_processor)
        app.context_processor(_lazy_current_user)

    if app.config.get("BENCH_HELLO_ROUTE"):
        # The benchmarks' baseline: everything a page pays for (WSGI, the app's hooks),
        # and nothing else.
        app.add_url_rule("/_bench/hello", "bench_hello", lambda: "hello")


# ---- page cache for visitors without a session -------------------------------------------

def _page_cache_seconds() -> int:
    return int(current_app.config.get("PAGE_CACHE_SECONDS", 0))


def _anonymous_page_request() -> bool:
    cfg = current_app.config
    return (
        request.method == "GET"
        and request.endpoint in PAGE_CACHE_ENDPOINTS
        and cfg["SESSION_COOKIE_NAME"] not in request.cookies
        and cfg.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies
    )


def serve_cached_page():
    if _page_cache_seconds() <= 0:
        return None
    if not _anonymous_page_request():
        return serve_shell()
    key = cache_key("page", request.full_path)
    try:
        body = cache.get(key)
    except Exception as exc:  # noqa: BLE001  no cache: render the page
        log.warning("page cache read failed: %s", exc)
        return None
    if body is None:
        g.page_cache_key = key
        return None
    response = Response(body, mimetype="text/html")
    response.headers["X-Page-Cache"] = "hit"
    response.vary.add("Cookie")
    return response


def store_cached_page(response: Response) -> Response:
    if g.get("punch_holes"):
        return store_shell(response)
    key = g.pop("page_cache_key", None)
    if (key is None or response.status_code != 200 or response.mimetype != "text/html"
            or response.direct_passthrough or session.modified or "Set-Cookie" in response.headers):
        return response
    try:
        cache.set(key, response.get_data(), timeout=_page_cache_seconds())
        response.headers["X-Page-Cache"] = "miss"
    except Exception as exc:  # noqa: BLE001
        log.warning("page cache write failed: %s", exc)
    return response


# ---- shells for signed-in readers (hole punching) ------------------------------------------

SHELL_ENDPOINTS = frozenset({"catalog.home", "catalog.products", "catalog.product", "catalog.artisan",
                             "catalog.brand"})
HOLE_USER = "<!--sm-hole:user-->"
HOLE_FLASHES = "<!--sm-hole:flashes-->"
HOLE_CSRF = "<!--sm-hole:csrf-->"


def _punching() -> bool:
    return bool(g.get("punch_holes"))


def csrf_token_or_hole():
    """`csrf_token()` in templates: the reader's own token, or a hole in a shared shell."""
    return Markup(HOLE_CSRF) if _punching() else readers.csrf_token()


def _lazy_current_user() -> dict:
    return {"current_user": current_user}


def _csrf_in_templates() -> dict:
    return {"csrf_token": csrf_token_or_hole}


def user_nav() -> Markup:
    """The header's per-user part (templates/_user_nav.html), or its hole in a shell."""
    return Markup(HOLE_USER) if _punching() else Markup(render_template("_user_nav.html"))


def flash_area() -> Markup:
    """Flash messages (templates/_flashes.html), or their hole in a shell."""
    return Markup(HOLE_FLASHES) if _punching() else Markup(render_template("_flashes.html"))


def render_for_this_reader_only() -> None:
    """Called by a view whose page holds something for this reader alone (staff's or the
    owner's forms, her own review links): rendered whole for her, not stored as a shell."""
    g.pop("punch_holes", None)
    g.pop("shell_key", None)


def fill_outside_shells(html: str) -> str:
    """A page built from parts stored with holes (a product page's frame and body): filled
    now with this reader's parts, unless the page is itself being stored as a shell
    (store_shell fills it then)."""
    if _punching():
        return html
    if HOLE_USER in html:
        html = html.replace(HOLE_USER, render_template("_user_nav.html"), 1)
    if HOLE_FLASHES in html:
        html = html.replace(HOLE_FLASHES, render_template("_flashes.html") if "_flashes" in session else "", 1)
    if HOLE_CSRF in html:
        html = html.replace(HOLE_CSRF, readers.csrf_token())
    return html


def _fill(shell: str, nav: str) -> str:
    body = shell.replace(HOLE_USER, nav, 1)
    # Most requests have no message: no template to render then.
    body = body.replace(HOLE_FLASHES, render_template("_flashes.html") if "_flashes" in session else "", 1)
    if HOLE_CSRF in body:
        body = body.replace(HOLE_CSRF, readers.csrf_token())
    return body


def fill_holes(shell: str) -> str:
    """A shell with this request's reader's own menu, messages and CSRF token, rendered from
    the database (and her header remembered for her next requests)."""
    g.pop("punch_holes", None)
    locale = str(get_locale())
    g.punch_holes = True  # her header with a CSRF hole: what is remembered holds no token
    try:
        nav = render_template("_user_nav.html")
    finally:
        g.pop("punch_holes", None)
    if current_user.is_authenticated:
        readers.remember_reader(current_user, nav, locale)
    return _fill(shell, nav)


def _shell_key(locale: str) -> str:
    return cache_key("shell", locale, request.full_path)


def _read_shell(key: str):
    local = local_cache()
    shell = local.get(key)
    if shell is None:
        shell = cache.get(key)
        if shell is not None:
            local.set(key, shell, min(_page_cache_seconds(), float(current_app.config.get("LOCAL_CACHE_SECONDS", 5))))
    return shell


def _shell_owner(shell) -> tuple[int | None, str]:
    """(None or, in a shell stored before product pages left the caches, its shop; the HTML)."""
    if isinstance(shell, tuple):
        return shell[0], shell[1]
    return None, shell.decode() if isinstance(shell, bytes) else shell


def serve_shell():
    """A signed-in GET of a shell page: the shared shell with her parts filled in, or None
    (the page is rendered, with holes, and stored by store_shell). With her header cached
    (market.readers) a hit runs no SQL at all."""
    if request.method != "GET" or request.endpoint not in SHELL_ENDPOINTS:
        return None
    product_id = (request.view_args or {}).get("product_id") if request.endpoint == "catalog.product" else None
    locale = str(get_locale())
    key = _shell_key(locale)
    reader = readers.cached_reader(locale)
    if reader is not None:
        if product_id is not None:
            if reader.is_staff or product_id in reader.bought:
                return None  # her own forms or review links: rendered for her alone
            # Made from the product's stored body (no shell stored or looked up: see
            # PAGE_CACHE_ENDPOINTS); the view reads whether she is the owner from `reader`,
            # and her cached header fills the holes.
            g.punch_holes = True
            g.cached_reader = reader
            return None
        try:
            shell = _read_shell(key)
        except Exception as exc:  # noqa: BLE001  no cache: render the page
            log.warning("shell cache read failed: %s", exc)
            return None
        if shell is not None:
            _, html = _shell_owner(shell)
            response = Response(_fill(html, reader.nav), mimetype="text/html")
            response.headers["X-Page-Cache"] = "shell-hit"
            return _private(response)
        # A listing nobody has asked for in this language lately: its body holds nothing
        # about her, and her cached header fills the holes: no loading her from the
        # database, no header rendered again.
        g.punch_holes = True
        g.shell_key = key
        g.cached_reader = reader
        return None
    readers.prepare_reader()
    if not current_user.is_authenticated:  # a stale cookie: rendered as usual
        return None
    if product_id is not None:
        g.punch_holes = True  # rendered with holes and filled for her; nothing stored
        return None
    try:
        shell = _read_shell(key)
    except Exception as exc:  # noqa: BLE001  no cache: render the page
        log.warning("shell cache read failed: %s", exc)
        return None
    if shell is None:
        g.punch_holes = True
        g.shell_key = key
        return None
    _, html = _shell_owner(shell)
    response = Response(fill_holes(html), mimetype="text/html")
    response.headers["X-Page-Cache"] = "shell-hit"
    return _private(response)


def _private(response: Response) -> Response:
    response.vary.add("Cookie")
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def store_shell(response: Response) -> Response:
    """Store the page rendered with holes (when it is a plain 200 page) and fill them."""
    key = g.pop("shell_key", None)
    if response.mimetype != "text/html" or response.direct_passthrough:
        g.pop("punch_holes", None)
        return response
    shell = response.get_data(as_text=True)
    # Only a plain page is shared: not an error, nor one whose rendering set a cookie.
    if key is not None and response.status_code == 200 and "Set-Cookie" not in response.headers:
        try:
            cache.set(key, shell, timeout=_page_cache_seconds())
            response.headers["X-Page-Cache"] = "shell-miss"
        except Exception as exc:  # noqa: BLE001
            log.warning("shell cache write failed: %s", exc)
    reader = g.pop("cached_reader", None)
    response.set_data(_fill(shell, reader.nav) if reader is not None else fill_holes(shell))
    return _private(response)
