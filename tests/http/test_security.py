"""Security headers on every kind of response, and which proxy the app believes:
X-Forwarded-For is read only with PROXY_FIX_X_FOR > 0, and /metrics' loopback rule holds."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from market import create_app
from market.config import PROJECT_ROOT
from tests.support import app_config, login


@pytest.fixture
def app_with(app, tmp_path):
    """A second app on the same test database with some settings changed at creation."""

    def make(**overrides):
        config = app_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "uploads2")
        config.update(overrides)
        return create_app(config)

    return make


def _csp(resp) -> dict[str, str]:
    return {d.split()[0]: " ".join(d.split()[1:]) for d in resp.headers["Content-Security-Policy"].split("; ")}


@pytest.mark.parametrize("path", ["/", "/products", "/healthz", "/static/css/app.css", "/no-such-page",
                                  "/api/nothing-here"])
def test_every_response_carries_the_security_headers(client, path):
    resp = client.get(path)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = _csp(resp)
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
    assert csp["script-src"].startswith("'self'") and "'unsafe-inline'" not in resp.headers["Content-Security-Policy"]
    assert csp["object-src"] == "'none'" and csp["form-action"] == "'self'"
    assert "Strict-Transport-Security" not in resp.headers  # not production


def test_stripe_origin_comes_from_configuration(app, client):
    app.config.update(STRIPE_API_BASE="http://127.0.0.1:8499", STRIPE_JS_URL="")
    csp = _csp(client.get("/"))
    assert "http://127.0.0.1:8499" in csp["script-src"].split() and "http://127.0.0.1:8499" in csp["connect-src"].split()
    app.config.update(STRIPE_API_BASE="https://api.stripe.com", STRIPE_JS_URL="https://js.stripe.com/v3/")
    csp = _csp(client.get("/"))
    assert csp["script-src"] == "'self' https://js.stripe.com"
    assert "https://api.stripe.com" in csp["connect-src"].split()
    assert "https://js.stripe.com" in csp["frame-src"].split() and "https://hooks.stripe.com" in csp["frame-src"].split()


def test_hsts_only_in_production(app, client):
    app.config["ENV_NAME"] = "production"
    assert client.get("/healthz").headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    app.config["ENV_NAME"] = "development"
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_templates_have_no_inline_script_style_or_handlers():
    """The CSP allows neither; a page that used them would break silently in the browser."""
    offenders = []
    for path in Path(PROJECT_ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\sstyle=", r"<style", r"<script(?![^>]*\ssrc=)", r"\son[a-z]+\s*=", r"javascript:"):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}: {pattern}")
    assert offenders == []


# ---- proxies ------------------------------------------------------------------------------

def _attempts(client, email, forwarded_for: str | None, n: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [client.post("/account/login", data={"email": email, "password": "wrong"}, headers=headers).status_code
            for _ in range(n)]


def test_behind_one_proxy_each_client_has_its_own_login_budget(app_with, make_user):
    user = make_user()
    proxied = app_with(PROXY_FIX_X_FOR=1, LOGIN_RATE_LIMIT="2 per minute")
    client = proxied.test_client()  # the balancer connects from 127.0.0.1
    assert _attempts(client, user.email, "203.0.113.7", 3) == [200, 200, 429]
    assert _attempts(client, user.email, "198.51.100.4", 2) == [200, 200]
    # A client cannot pick her address: the balancer appends the real one, and that is used.
    assert _attempts(client, user.email, "198.51.100.99, 203.0.113.7", 1) == [429]


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(app_with, make_user):
    user = make_user()
    direct = app_with(PROXY_FIX_X_FOR=0, LOGIN_RATE_LIMIT="2 per minute")
    client = direct.test_client()
    assert _attempts(client, user.email, "203.0.113.7", 2) == [200, 200]
    assert _attempts(client, user.email, "198.51.100.4", 1) == [429]  # same peer, same budget
    assert login(client, user).status_code == 429


def test_metrics_refuse_forwarded_requests_and_answer_direct_loopback(app_with):
    for hops in (0, 1):
        client = app_with(PROXY_FIX_X_FOR=hops, METRICS_TOKEN="").test_client()
        assert client.get("/metrics").status_code == 200, hops
        # Through a proxy on the same machine, even claiming to be loopback itself.
        for forwarded in ("203.0.113.7", "127.0.0.1"):
            assert client.get("/metrics", headers={"X-Forwarded-For": forwarded}).status_code == 403, (hops, forwarded)
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 403


def test_negative_proxy_hops_are_refused_at_start(app_with):
    from market.config import ConfigError

    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR"):
        app_with(PROXY_FIX_X_FOR=-1)
