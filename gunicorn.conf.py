"""gunicorn settings for `make serve` and production: `gunicorn -c gunicorn.conf.py`.

App servers keep no state of their own (sessions are signed cookies, carts and orders are
in PostgreSQL, rate limits, caches and jobs in Redis, uploads in UPLOAD_FOLDER on shared
storage), so any number of them can run behind a load balancer. Every setting can be
changed from the environment without editing this file.
"""
import multiprocessing
import os
import shutil
import tempfile

wsgi_app = "market:create_app()"
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Sync workers: each request's CPU (Jinja, SQLAlchemy) holds the GIL anyway, and database
# waits are short; processes use every core.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Workers are recycled now and then (jittered, so not all at once) to bound slow leaks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = max_requests // 10
# Behind a load balancer, trust its X-Forwarded-* from these addresses only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app writes one JSON access line per request itself (with the request id).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

os.environ.setdefault("LOG_FORMAT", "json")

# Prometheus multiprocess mode: every worker writes its metrics to files here and /metrics
# adds them up. It must be set before any worker imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sm-metrics-")


def on_starting(server):
    # Numbers from an earlier run of this server would be added to the new ones.
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Build the search vocabulary (typo correction, suggestions) and the in-process listing
    index (market/catalog/indexed.py) before the worker takes requests: each takes seconds
    with 100,000 products on a busy machine, which the first buyers would otherwise wait for,
    each worker in turn. WARM_SEARCH_VOCABULARY=0 skips both."""
    if os.environ.get("WARM_SEARCH_VOCABULARY", "1") == "0":
        return
    app = getattr(worker, "wsgi", None)
    if not hasattr(app, "app_context"):
        return
    try:
        with app.app_context():
            from market.catalog import indexed
            from market.catalog.searching import vocabulary

            vocabulary()
            if indexed.enabled():
                indexed.warm()
    except Exception:  # noqa: BLE001  a cold vocabulary or index is built on first use instead
        worker.log.exception("could not build the search vocabulary or listing index at start")
