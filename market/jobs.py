"""Background jobs: RQ on Redis when REDIS_URL is set, inline otherwise.

Work that must not hold up a page or that runs on a timer goes through `enqueue(name, ...)`.
Modules register their own tasks with `@task(name, every=seconds)`; this module imports none
of them (so no import circle runs through it):
- "send_mail" (market.mail): account mails (retried with backoff when the SMTP server fails);
- "deliver_notice" and, every minute, "deliver_due_notices" (market.notifications): mail and
  SMS notices, their retries and SMS held through quiet hours; "staff_digest" (market.staff.digest),
  hourly, sends once a day;
- "ask_for_reviews" (market.reviews.services), hourly: buyers asked once per parcel, REVIEW_ASK_DAYS
  after delivery, to review what they received;
- "reconcile_payments" (market.payments.services), every minute: pending payments asked of
  the API, unpaid reservations that ran out released, unanswered refunds settled.

With REDIS_URL set, jobs wait in Redis and any machine's `flask --app market worker` runs
them; `flask --app market scheduler` enqueues the periodic ones, under a Redis lock, so it
may run on every machine and each period's job is still enqueued once. Without REDIS_URL
(development, tests) a job runs at once in the caller, so nothing else has to be started.
If Redis cannot be reached, the job runs inline too: slower, never lost.

Jobs are named, not pickled functions: the queue holds only a name from TASKS and its
arguments, so nothing else can be made to run in a worker.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app, has_app_context

from market.observability import current_request_id, request_id_var

log = logging.getLogger(__name__)

TASKS: dict[str, Callable[..., Any]] = {}
# Task name -> period in seconds: what the scheduler enqueues (filled by `task(every=...)`).
PERIODIC: dict[str, int] = {}
# Task name -> seconds before the 1st, 2nd and 3rd retry (filled by `task(retry=...)`).
RETRIES: dict[str, list[int]] = {}
MAIL_RETRY_INTERVALS = [30, 120, 600]


def task(name: str, *, every: int | None = None, retry: list[int] | None = None):
    def register(func):
        TASKS[name] = func
        if every:
            PERIODIC[name] = every
        if retry:
            RETRIES[name] = list(retry)
        return func

    return register


class JobFailed(RuntimeError):
    """Raised by a task to have RQ retry it later."""


# ---- the queue ------------------------------------------------------------------------

def redis_connection(app: Flask | None = None):
    """One Redis client (connection pool) per app, or None without REDIS_URL."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    cached = app.extensions.get("redis")
    if cached is None or cached[0] != url:
        import redis

        cached = (url, redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5))
        app.extensions["redis"] = cached
    return cached[1]


def queue(app: Flask | None = None):
    app = app or current_app
    connection = redis_connection(app)
    if connection is None:
        return None
    from rq import Queue

    return Queue(app.config.get("JOBS_QUEUE", "market"), connection=connection)


def enqueue(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run task `name` in a worker (RQ), or here and now without Redis. Returns the RQ job,
    or the task's result when it ran inline."""
    if name not in TASKS:
        raise KeyError(f"unknown job {name!r}")
    q = queue()
    if q is not None:
        from redis.exceptions import RedisError
        from rq import Retry

        intervals = RETRIES.get(name)
        retry = Retry(max=len(intervals), interval=intervals) if intervals else None
        try:
            return q.enqueue(run_task, name, args, kwargs, current_request_id(), retry=retry,
                             job_timeout=300, result_ttl=3600, failure_ttl=7 * 86400,
                             description=f"{name} (request {current_request_id() or '-'})")
        except RedisError as exc:
            log.warning("job queue unreachable (%s): running %s inline", exc, name)
    return TASKS[name](*args, **kwargs)


_worker_app: Flask | None = None


def run_task(name: str, args: tuple, kwargs: dict, request_id: str | None = None) -> Any:
    """What a worker executes: the task in a fresh app context (own database session),
    logging under the id of the request that enqueued it."""
    global _worker_app
    if has_app_context():
        app = current_app._get_current_object()
    else:  # started by plain `rq worker`, not `flask worker`
        if _worker_app is None:
            from market import create_app

            _worker_app = create_app()
        app = _worker_app
    token = request_id_var.set(request_id)
    try:
        with app.app_context():
            return TASKS[name](*args, **kwargs)
    finally:
        request_id_var.reset(token)


# ---- periodic jobs ----------------------------------------------------------------------

def enqueue_due(now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose period has come. With Redis, a lock per period makes
    it once across every scheduler that is running; without, the job runs here."""
    connection = redis_connection()
    prefix = current_app.config.get("REDIS_KEY_PREFIX", "sm:")
    started = []
    for name, period in PERIODIC.items():
        if connection is not None:
            slot = int((now or time.time()) // period)
            if not connection.set(f"{prefix}periodic:{name}:{slot}", "1", nx=True, ex=period * 2):
                continue
        enqueue(name)
        started.append(name)
    return started


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
def worker_command(burst: bool) -> None:
    """Run background jobs from Redis (mail, payment reconciliation). Start one or more per machine."""
    q = queue()
    if q is None:
        raise click.UsageError("REDIS_URL is not set: jobs run inline in the app, no worker is needed.")
    from rq import SimpleWorker

    # SimpleWorker runs each job in this process (no fork), so database connections are
    # never shared between processes; run_task gives every job its own app context.
    worker = SimpleWorker([q], connection=q.connection)
    worker.work(burst=burst, with_scheduler=True, logging_level=current_app.config.get("LOG_LEVEL", "INFO"))


@click.command("scheduler")
@click.option("--every", default=10, show_default=True, help="Seconds between looks at the timetable.")
@click.option("--once", is_flag=True, help="Look once, then stop.")
def scheduler_command(every: int, once: bool) -> None:
    """Enqueue periodic jobs on time (reconcile payments every minute). Safe to run
    on every machine: a Redis lock lets one scheduler enqueue each period's job."""
    while True:
        try:
            started = enqueue_due()
            if started:
                log.info("periodic jobs enqueued: %s", ", ".join(started))
        except Exception:  # noqa: BLE001  keep the timetable going through a bad minute
            log.exception("periodic jobs failed")
        if once:
            return
        time.sleep(every)


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
