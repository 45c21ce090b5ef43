"""The cheaper per-request hooks (issue 15, our hello): Flask-Limiter's hooks skipped on
reads, and Flask's coroutine check remembered per function. What they must not change."""
from __future__ import annotations

from flask import after_this_request


def test_functions_registered_per_request_still_run_every_time(app):
    @app.get("/_test/after-this")
    def with_after_this_request():
        n = app.config.setdefault("_TEST_CALLS", 0) + 1
        app.config["_TEST_CALLS"] = n

        @after_this_request
        def mark(response):
            response.headers["X-Test-Call"] = str(n)
            return response

        return "ok"

    client = app.test_client()
    assert [client.get("/_test/after-this").headers.get("X-Test-Call") for _ in range(3)] == ["1", "2", "3"]


def test_posts_are_still_limited(app):
    # The login form's limit (a POST) is checked by the limiter's before-request hook as ever.
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    codes = [client.post("/account/login", data={"email": "x@example.cn", "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes[-1] == 429, codes
    assert client.get("/products").status_code == 200  # reads are never limited
