"""Where the CPU goes while wrk loads one page: each process group's CPU time per request.

    python -m bench.cpu_split [--path /products/<random>] [--seconds 5] [--workers 5]

Starts gunicorn on the bench database (BENCH_DATABASE_URL, default sm_bench: `make bench`
seeds it) with Redis (BENCH_REDIS_URL), logs a buyer in as `bench.run` does (one product in
her cart, the same browser string as wrk), loads the page with wrk (16 connections) and reads
/proc before and after: the CPU seconds of gunicorn's workers, PostgreSQL's and Redis'
processes, and of the whole machine, each divided by the requests served. The bench's
throughput rows say how fast; this says which process pays. `PRODUCT_LANE=0` in the
environment measures product pages through Flask.
"""
from __future__ import annotations

import argparse
import glob
import os
import secrets
import sys
import time

from bench import checkout, wrk
from bench.servers import PROJECT_ROOT, start_gunicorn
from market.config import normalise_database_url

RANDOM_PRODUCT = "/products/<random>"


def cpu_by_group() -> dict[str, float]:
    """CPU seconds (user + system) per process group: gunicorn, postgres, redis, other."""
    tick = os.sysconf("SC_CLK_TCK")
    groups: dict[str, float] = {}
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{proc}/stat") as f:
                stat = f.read()
            with open(f"{proc}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        group = ("gunicorn" if "gunicorn" in cmdline else "postgres" if name.startswith("postgres")
                 else "redis" if name.startswith("redis") else "other")
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return groups


def machine_busy() -> float:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", default=RANDOM_PRODUCT)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--products", type=int, default=100_000)
    args = ap.parse_args(argv)

    db_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sm_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    env = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "smsplit:", "JOBS_QUEUE": "smsplit:jobs",
           "DATA_DIR": str(PROJECT_ROOT / "var" / "bench"), "SECRET_KEY": secrets.token_hex(32),
           "MARKET_ENV": "development", "BENCH_HELLO_ROUTE": "1", "STRIPE_API_BASE": "http://127.0.0.1:9",
           "LOG_FORMAT": "json", "LOGIN_RATE_LIMIT": "100000 per minute", "GUNICORN_MAX_REQUESTS": "0"}
    if "PRODUCT_LANE" in os.environ:
        env["PRODUCT_LANE"] = os.environ["PRODUCT_LANE"]
    server = start_gunicorn(env, workers=args.workers, log_path=PROJECT_ROOT / "bench" / "results" / "cpu-split.log",
                            timeout=180)
    try:
        from market import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url), "CACHE_TYPE": "NullCache",
                          "CACHE_NO_NULL_WARNING": True, "REDIS_URL": "", "LOG_FORMAT": "text"})
        cookie = checkout.signed_in_cookie(app, server.url, run_id=f"split-{secrets.token_hex(3)}", product_id=1)
        headers = (f"Cookie: {cookie}", f"User-Agent: {checkout.BROWSER}")
        script, script_args, path = None, (), args.path
        if args.path == RANDOM_PRODUCT:
            script, script_args, path = "product_pages.lua", (str(args.products),), "/products/1"
        wrk.run("warm-up", server.url, path, seconds=3, connections=16, script=script, script_args=script_args,
                headers=headers)
        before, busy, started = cpu_by_group(), machine_busy(), time.monotonic()
        result = wrk.run("page", server.url, path, seconds=args.seconds, connections=16, script=script,
                         script_args=script_args, headers=headers)
        after, busy = cpu_by_group(), machine_busy() - busy
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    n = max(result.requests, 1)
    print(f"{args.path}: {result.requests} requests in {elapsed:.1f} s ({result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms, "
          f"{result.errors} errors), "
          f"signed in, {args.workers} gunicorn workers, wrk 16 connections")
    print("| process group | CPU s | CPU ms per request |")
    print("| --- | ---: | ---: |")
    for group in ("gunicorn", "postgres", "redis", "other"):
        spent = after.get(group, 0.0) - before.get(group, 0.0)
        print(f"| {group} | {spent:.2f} | {spent / n * 1000:.2f} |")
    print(f"| whole machine (wrk, kernel included) | {busy:.2f} | {busy / n * 1000:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
