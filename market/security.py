"""Response headers that tell browsers what this site allows, and which proxy to believe.

One after-request hook (no extra library: the policy is small and depends on configuration
that tests change at run time) sets on every response, HTML, JSON and static alike:

- Content-Security-Policy: scripts, styles, images and fonts from this site only, plus
  Stripe.js (its origin from STRIPE_JS_URL, or STRIPE_API_BASE as the pay page derives it),
  which may also call the payments API and open its own frames; no inline script or style
  (templates use classes in static/css/app.css), no plugins, forms post only here, and
  nobody may frame a page (frame-ancestors 'none', and X-Frame-Options: DENY for old
  browsers);
- X-Content-Type-Options: nosniff (uploads are served as what they are: JPEG);
- Referrer-Policy: strict-origin-when-cross-origin (other sites see the origin, never a
  path with an order number);
- Strict-Transport-Security only when MARKET_ENV=production (served over HTTPS there).

Proxies: with PROXY_FIX_X_FOR = n > 0, werkzeug's ProxyFix takes the client address from the
n-th X-Forwarded-For entry from the right (the one the nearest trusted proxy appended), so the
rate limiter counts each client, not the balancer. With 0 (the default) the header is never
read. X-Forwarded-Proto likewise with PROXY_FIX_X_PROTO.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


def stripe_js_url(config) -> str:
    """Where the pay page loads Stripe.js from: STRIPE_JS_URL, else localstripe's copy under
    STRIPE_API_BASE (development and tests)."""
    return config.get("STRIPE_JS_URL") or f"{config['STRIPE_API_BASE'].rstrip('/')}/js.stripe.com/v3/"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


@lru_cache(maxsize=16)
def content_security_policy(js_url: str, api_base: str) -> str:
    js, api = _origin(js_url), _origin(api_base)
    stripe = " ".join(sorted({o for o in (js, api) if o}))
    frames = stripe
    if js == "https://js.stripe.com":  # real Stripe.js opens 3-D Secure frames from these too
        frames = " ".join(sorted({*stripe.split(), "https://hooks.stripe.com", "https://*.stripe.com"}))
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {js or ''}".strip(),
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": f"'self' {stripe}".strip(),
        "frame-src": frames or "'none'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


@lru_cache(maxsize=16)
def _default_headers(js_url: str, api_base: str, hsts: str | None) -> tuple[tuple[str, str], ...]:
    headers = [("Content-Security-Policy", content_security_policy(js_url, api_base)),
               ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "strict-origin-when-cross-origin")]
    if hsts:
        headers.append(("Strict-Transport-Security", hsts))
    return tuple(headers)


def default_headers(cfg) -> tuple[tuple[str, str], ...]:
    """The headers every response carries (also sent by market.catalog.suggest_lane)."""
    hsts = (f"max-age={int(cfg['HSTS_SECONDS'])}; includeSubDomains"
            if cfg.get("ENV_NAME") == "production" and cfg.get("HSTS_SECONDS") else None)
    return _default_headers(stripe_js_url(cfg), cfg["STRIPE_API_BASE"], hsts)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over what the view set (usually nothing of these) instead of a scan per header.
    present = {key.lower() for key, _value in headers.items()}
    for name, value in default_headers(current_app.config):
        if name.lower() not in present:
            headers.add(name, value)
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per secret
    instead of twice per request (building one also serialises an empty dict to probe it)."""

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("session_serializer")
        if cached is None or cached[0] != keys:
            cached = (keys, super().get_signing_serializer(app))
            app.extensions["session_serializer"] = cached
        return cached[1]


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    x_for, x_proto = int(app.config.get("PROXY_FIX_X_FOR") or 0), int(app.config.get("PROXY_FIX_X_PROTO") or 0)
    if x_for or x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto, x_host=0, x_port=0, x_prefix=0)
    app.after_request(_security_headers)
