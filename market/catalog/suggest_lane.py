"""A short lane for suggestions while typing: `GET /api/search/suggest` answered from the
process's remembered answers before Flask sees the request.

A keystroke's answer is small, the same for everyone who types the same prefix in the same
language, and already remembered with the vocabulary it came from
(`searching.suggestion_body`). What made it cost several times a bare Flask app was the
request around it: the request and app contexts, opening the session, Flask-Limiter's and
CSRF's checks, the page-cache and reader hooks, then JSON and a `url_for` per suggestion.
This WSGI layer answers a remembered prefix with only what matters for this route:

- the same body, status and `Content-Type` as the Flask view, and `Vary: Cookie` (the
  language comes from the session);
- the security headers every response carries (market.security.default_headers);
- a request id (`X-Request-ID`), the latency histogram and the JSON access line, as
  market.observability writes them for every other request;
- no rate limit is skipped: every limit of this app is on POST (market.extensions).

Everything else goes to Flask as before: other paths and methods, a prefix not yet
remembered, a vocabulary or synonym list due for its freshness check (those need the
database), a query with NUL or over the length limit (its 400 comes from the view), a
`limit` out of the ordinary. The language is read from the signed session cookie with
Flask's own serializer; an invalid cookie means the default language, as in Flask. Not
done here: a permanent session's cookie is not refreshed by a keystroke (the next page
refreshes it).
"""
from __future__ import annotations

import time
from urllib.parse import parse_qsl

from werkzeug.http import parse_cookie

from market import observability, security
from market.catalog import searching

PATH = "/api/search/suggest"
ENDPOINT = "catalog.suggest"


class SuggestLane:
    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        body = self._remembered(environ)
        if body is None:
            return self.wsgi_app(environ, start_response)
        rid = observability.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        headers = [("Content-Type", self.app.json.mimetype), ("Content-Length", str(len(body))),
                   ("Vary", "Cookie"), (observability.REQUEST_ID_HEADER, rid),
                   *security.default_headers(self.app.config)]
        start_response("200 OK", headers)
        observability.observe_outside_flask(self.app.config, environ, rid, ENDPOINT, PATH,
                                            time.perf_counter() - started)
        return [body]

    def _remembered(self, environ) -> bytes | None:
        # WSGI hands the query string over as latin-1; Werkzeug reads its bytes as UTF-8.
        raw = environ.get("QUERY_STRING", "").encode("latin-1", "replace").decode("utf-8", "replace")
        if "%00" in raw or "\x00" in raw:
            return None
        args = dict(reversed(parse_qsl(raw, keep_blank_values=True, errors="replace")))  # first value wins
        q = args.get("q", "")
        if len(q) > searching.MAX_QUERY_CHARS or "\ufffd" in q:
            return None
        limit = args.get("limit")
        if limit is not None and not limit.isdigit():
            return None
        return searching.remembered_suggestion(self.app, q, searching.suggestion_limit(limit), self._locale(environ))

    def _locale(self, environ) -> str:
        """The language select_locale would choose: the session's `lang`, else the default."""
        cfg = self.app.config
        default = cfg["BABEL_DEFAULT_LOCALE"]
        cookie = parse_cookie(environ).get(cfg["SESSION_COOKIE_NAME"]) if environ.get("HTTP_COOKIE") else None
        if not cookie:
            return default
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        try:
            data = serializer.loads(cookie, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except Exception:  # noqa: BLE001  a bad or expired cookie is an empty session to Flask too
            return default
        lang = data.get("lang") if isinstance(data, dict) else None
        return lang if lang in cfg["LANGUAGES"] else default


def install(app) -> None:
    """Put the lane in front of the app (SUGGEST_LANE=0 leaves every request to Flask)."""
    if app.config.get("SUGGEST_LANE", True) and not isinstance(app.wsgi_app, SuggestLane):
        app.wsgi_app = SuggestLane(app, app.wsgi_app)
