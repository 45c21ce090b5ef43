"""Serving: static files that browsers and CDNs may keep for a year, and a short shared
page cache for visitors who are not signed in.

Page cache: a catalogue page (home, list, search, product, artisan, brand) requested
without a session or remember-me cookie is the same for every such visitor, so the
rendered HTML is shared through the cache (Redis across app servers) for
PAGE_CACHE_SECONDS. A page whose rendering touched the session (a form with a CSRF token,
a flash message) or set a cookie is never stored. Signed-in buyers always get fresh pages;
adding to the cart and checkout check stock on their own.

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

from flask import Flask, Response, current_app, g, request, session

from market.caching import cache_key
from market.extensions import cache

log = logging.getLogger(__name__)

ONE_YEAR = 31536000
PAGE_CACHE_ENDPOINTS = frozenset({
    "catalog.home", "catalog.products", "catalog.product", "catalog.artisan", "catalog.brand",
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
    if _page_cache_seconds() <= 0 or not _anonymous_page_request():
        return None
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
