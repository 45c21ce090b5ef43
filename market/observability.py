"""Request ids, structured logs and Prometheus metrics.

- Every request gets an id: the caller's `X-Request-ID` when it looks like one (a load
  balancer's), else a fresh one. It is in every log line written while the request (or a
  background job it enqueued) runs, and in the response's `X-Request-ID` header, so one
  buyer's problem can be followed across app servers and workers.
- LOG_FORMAT=json writes one JSON object per line (what gunicorn.conf.py asks for), with
  an access line per request: method, path, endpoint, status, duration. Access lines skip
  the logging module (a LogRecord and a formatter per request cost more than the page's
  own hooks): each process formats them itself and writes them in batches
  (ACCESS_LOG_BUFFER lines, or every second from a small thread, and at exit). Errors (5xx)
  and slow requests (ACCESS_LOG_SLOW_MS) are written at once; ACCESS_LOG_SAMPLE < 1 keeps
  only that share of the other lines.
- /metrics speaks Prometheus' text format: request latency by endpoint and status, and
  checkout counts. Under gunicorn each worker writes its numbers to files in
  PROMETHEUS_MULTIPROC_DIR and /metrics adds them up, so any worker can answer a scrape.
  Each app server is scraped on its own; Prometheus sums across servers.
- /metrics answers loopback clients that did not come through a proxy, or anyone with
  `Authorization: Bearer $METRICS_TOKEN`. Everyone else gets 403.
"""
from __future__ import annotations

import atexit
import contextvars
import hmac
import json
import logging
import os
import random
import re
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from market import signals

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from upstream are echoed into logs and headers: letters, digits and - _ . : only.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# ---- metrics (module level: one set per process, whatever the number of apps) -------------

REQUEST_LATENCY = Histogram(
    "market_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint and status.",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_LATENCY_BY_LABELS: dict[tuple[str, str, int], object] = {}
ORDERS_PLACED = Counter("market_orders_placed_total", "Orders placed at checkout (stock reserved).")
ORDERS_PAID = Counter("market_orders_paid_total", "Orders whose payment succeeded.")
PAYMENTS_DECLINED = Counter("market_payments_declined_total", "Payments declined or failed, by reason.", ["reason"])


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id(incoming: str | None = None) -> str:
    if incoming and _VALID_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


# ---- logging ------------------------------------------------------------------------

class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr for the root logger (LOG_FORMAT=json); development and tests
    keep Python's and pytest's own handlers."""
    if app.config.get("LOG_FORMAT") != "json":
        return
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return  # already set up by an earlier create_app in this process
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.handlers = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.handlers.clear()  # propagate to the root handler instead of Flask's default one


class AccessLog:
    """Access lines for one process: JSON objects in the same shape as JsonFormatter's,
    written to stderr in batches by `flush` (when `max_lines` are waiting, every second
    from a daemon thread started lazily in the process that logs, so gunicorn's forked
    workers each get their own, and at exit)."""

    def __init__(self, max_lines: int = 64, stream=None):
        self.max_lines = max_lines
        self.stream = stream
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._pid: int | None = None

    def add(self, entry: dict, *, urgent: bool = False) -> None:
        line = json.dumps(entry, ensure_ascii=False, default=str)
        if self._pid != os.getpid():
            self._start()
        with self._lock:
            self._lines.append(line)
            due = urgent or len(self._lines) >= self.max_lines
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            stream = self.stream or sys.stderr
            try:
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            except (OSError, ValueError):  # stderr closed at shutdown: nothing to tell
                pass

    def _start(self) -> None:
        self._pid = os.getpid()
        with self._lock:
            self._lines = []  # lines copied from a parent process are the parent's to write

        def loop() -> None:
            while True:
                time.sleep(1.0)
                self.flush()

        threading.Thread(target=loop, name="access-log", daemon=True).start()
        atexit.register(self.flush)


ACCESS_LOG = AccessLog()
_PID = os.getpid


# ---- per request --------------------------------------------------------------------

def _before_request() -> None:
    rid = new_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_id = rid
    g._request_id_token = request_id_var.set(rid)
    g._started = time.perf_counter()


def _after_request(response: Response) -> Response:
    rid = g.get("request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("_started")
    if started is not None:
        _observe(current_app.config, request.method, request.endpoint or "unmatched", request.path,
                 response.status_code, time.perf_counter() - started, rid, request.remote_addr)
    return response


def observe_outside_flask(cfg, environ, rid: str, endpoint: str, path: str, elapsed: float,
                          status: int = 200) -> None:
    """The latency sample and access line `_after_request` writes, for a request answered by
    a WSGI lane in front of Flask (market.catalog.suggest_lane, product_lane)."""
    _observe(cfg, environ.get("REQUEST_METHOD", "GET"), endpoint, path, status, elapsed, rid,
             environ.get("REMOTE_ADDR"))


def _observe(cfg, method: str, endpoint: str, path: str, status: int, elapsed: float, rid: str | None,
             remote_addr: str | None) -> None:
    """One request's latency sample (labelled by route, never by raw path) and JSON access line."""
    labels = (method, endpoint, status)
    child = _LATENCY_BY_LABELS.get(labels)
    if child is None:  # labels() validates and locks each time: once per combination instead
        child = _LATENCY_BY_LABELS.setdefault(labels, REQUEST_LATENCY.labels(method, endpoint, str(status)))
    child.observe(elapsed)
    if cfg.get("LOG_FORMAT") != "json":
        return
    urgent = status >= 500 or elapsed * 1000 >= float(cfg.get("ACCESS_LOG_SLOW_MS", 1000))
    sample = float(cfg.get("ACCESS_LOG_SAMPLE", 1.0))
    if urgent or sample >= 1.0 or random.random() < sample:
        ACCESS_LOG.add({
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": "INFO",
            "logger": __name__, "message": "request", "request_id": rid, "pid": _PID(),
            "method": method, "path": path, "endpoint": endpoint, "status": status,
            "duration_ms": round(elapsed * 1000, 2), "remote_addr": remote_addr,
        }, urgent=urgent)


def _teardown_request(_exc: BaseException | None) -> None:
    token = g.pop("_request_id_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (cannot happen under WSGI); keep going
            request_id_var.set(None)


# ---- /metrics -----------------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "::1"}
_PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    # A reverse proxy on the same machine also connects from loopback: its requests carry
    # forwarding headers and so need the token. "Loopback" is the TCP peer, read before
    # ProxyFix (PROXY_FIX_X_FOR) replaced remote_addr with the forwarded client's address.
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", request.remote_addr)
    return peer in _LOOPBACK and not any(h in request.headers for h in _PROXY_HEADERS)


def metrics_text() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def metrics_view():
    if not metrics_allowed():
        abort(403)
    return Response(metrics_text(), mimetype=CONTENT_TYPE_LATEST)


# ---- checkout counts, from the order signals ---------------------------------------------

def _count_placed(sender, **_extra) -> None:
    ORDERS_PLACED.inc()


def _count_paid(sender, **_extra) -> None:
    ORDERS_PAID.inc()


def _count_declined(sender, reason: str = "payment_failed", **_extra) -> None:
    PAYMENTS_DECLINED.labels(reason or "payment_failed").inc()


signals.order_placed.connect(_count_placed)
signals.order_paid.connect(_count_paid)
signals.payment_declined.connect(_count_declined)


def init_app(app: Flask) -> None:
    configure_logging(app)
    # First of all before_request hooks, so a request refused early (rate limit) still
    # gets an id and a latency sample.
    app.before_request_funcs.setdefault(None, []).insert(0, _before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
    app.add_url_rule("/metrics", "metrics", metrics_view)
