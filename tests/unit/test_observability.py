"""Request ids, JSON logs, /metrics and its guard, checkout counters."""
from __future__ import annotations

import json
import logging

import pytest

from market import create_app, observability, signals
from market.config import TestConfig


@pytest.fixture
def bare_app(tmp_path):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}", UPLOAD_FOLDER=tmp_path / "uploads")
    return create_app(config)


def test_every_response_has_a_request_id_and_a_valid_incoming_one_is_kept(bare_app):
    client = bare_app.test_client()
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21"}).headers["X-Request-ID"] == "lb-7f3a9c21"
    # Anything that could forge a log line or a header is replaced.
    for bad in ("short", "has space in it", "quote\"-12345678", "x" * 200):
        assert client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"] != bad


def test_json_log_lines_carry_the_request_id_and_extras():
    record = logging.LogRecord("market.x", logging.WARNING, __file__, 1, "order %s paid", (7,), None)
    record.status = 200
    token = observability.request_id_var.set("req-12345678")
    try:
        observability.RequestIdFilter().filter(record)
        line = json.loads(observability.JsonFormatter().format(record))
    finally:
        observability.request_id_var.reset(token)
    assert line["message"] == "order 7 paid" and line["level"] == "WARNING"
    assert line["request_id"] == "req-12345678" and line["status"] == 200 and "ts" in line


def test_metrics_answer_loopback_or_the_token_only(bare_app):
    client = bare_app.test_client()
    client.get("/healthz")  # a request observed, whichever test ran before (buckets appear with one)
    resp = client.get("/metrics")  # the test client comes from 127.0.0.1
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert "market_http_request_duration_seconds_bucket" in resp.get_data(as_text=True)
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    bare_app.config["METRICS_TOKEN"] = "s3cret-token"
    ok = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}, headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                      headers={"Authorization": "Bearer wrong"}).status_code == 403


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_latency_is_recorded_by_endpoint_and_status(bare_app):
    client = bare_app.test_client()
    client.get("/healthz")
    client.get("/no-such-page")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'endpoint="core.healthz",method="GET",status="200"' in text
    assert 'endpoint="unmatched",method="GET",status="404"' in text


def test_checkout_signals_are_counted(bare_app):
    text = lambda: bare_app.test_client().get("/metrics").get_data(as_text=True)  # noqa: E731
    before = text()
    signals.order_placed.send(object())
    signals.order_paid.send(object())
    signals.payment_declined.send(object(), reason="card_declined")
    after = text()
    assert _value(after, "market_orders_placed_total") == _value(before, "market_orders_placed_total") + 1
    assert _value(after, "market_orders_paid_total") == _value(before, "market_orders_paid_total") + 1
    assert 'market_payments_declined_total{reason="card_declined"}' in after


def test_access_lines_are_json_written_in_batches_errors_and_slow_ones_at_once(bare_app):
    import io

    stream = io.StringIO()
    access = observability.AccessLog(max_lines=3, stream=stream)
    old, observability.ACCESS_LOG = observability.ACCESS_LOG, access
    try:
        bare_app.config.update(LOG_FORMAT="json", ACCESS_LOG_SLOW_MS=60_000)
        client = bare_app.test_client()
        rid = client.get("/healthz").headers["X-Request-ID"]
        assert stream.getvalue() == ""  # waiting for its batch
        client.get("/healthz")
        client.get("/healthz")
        lines = [json.loads(x) for x in stream.getvalue().splitlines()]
        assert len(lines) == 3 and lines[0]["request_id"] == rid and lines[0]["status"] == 200
        assert lines[0]["message"] == "request" and lines[0]["endpoint"] == "core.healthz" and "ts" in lines[0]
        # Sampled out: ordinary requests only; a slow one is written at once.
        bare_app.config["ACCESS_LOG_SAMPLE"] = 0.0
        client.get("/healthz")
        access.flush()
        assert len(stream.getvalue().splitlines()) == 3
        bare_app.config["ACCESS_LOG_SLOW_MS"] = 0
        client.get("/healthz")
        assert len(stream.getvalue().splitlines()) == 4
    finally:
        observability.ACCESS_LOG = old
