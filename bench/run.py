"""`make bench`: the storefront under gunicorn on PostgreSQL and Redis with 100,000
products, loaded by wrk from a separate process on loopback; each figure is reported next to
a bare "hello" route measured on the same gunicorn in the same run. Then checkout against
localstripe, the 200-buyer stock race, and database queries per page.

    python -m bench.run [--seconds 10] [--connections 16] [--products 100000] [--workers N]

BENCH_ONLY=http (every page row, then stop) or BENCH_ONLY=hello,suggest (those rows and the
bare baseline) measures pages alone, without checkout and the stock race.

The bench database (BENCH_DATABASE_URL, default sm_bench) is created and seeded when it has
fewer products than asked, and reused otherwise. Results: bench/results/latest.json and
latest.md (git-ignored), and a table on stdout for the README.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from bench import checkout, wrk
from bench.servers import PROJECT_ROOT, flask_cli, start_bare_gunicorn, start_gunicorn
from market.config import normalise_database_url
from market.localstripe_proc import free_port, start_localstripe, stop

RESULTS = PROJECT_ROOT / "bench" / "results"
ZH_WORD, EN_WORD = "刺绣", "silk"
# Issue 15's targets, as ratios to the bare Flask app measured in the same run.
GOALS = {"signed_in_vs_bare_rps": 0.25, "signed_in_aim": 0.40, "hello_vs_bare_rps": 0.60,
         "listing_p99_ms": 100.0, "suggest_p99_ms": 30.0}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- the bench database -----------------------------------------------------------------

def ensure_database(url: str, products: int, data_dir: Path) -> float:
    """Create, migrate and seed the bench database unless it already holds `products`
    products. Returns the seconds spent seeding (0 when reused)."""
    sa_url = make_url(normalise_database_url(url))
    admin = create_engine(sa_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = sa_url.database
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        count = 0
        if exists:
            engine = create_engine(sa_url)
            with engine.connect() as c:
                has_table = c.scalar(text("SELECT to_regclass('public.products') IS NOT NULL"))
                count = c.scalar(text("SELECT count(*) FROM products")) if has_table else 0
            engine.dispose()
        if exists and count >= products:
            env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir)}
            try:
                flask_cli(["db", "upgrade"], env)  # new migrations since the last run
            except subprocess.CalledProcessError as exc:
                # Seeded by a branch whose migration was renumbered when it merged: its
                # revision is unknown here, so seed afresh rather than fail.
                log(f"cannot upgrade {name} ({exc.stderr.strip().splitlines()[-1:]}); seeding it again")
            else:
                log(f"reusing database {name}: {count} products")
                admin.dispose()
                warm_product_pages(env)
                return 0.0
        if exists:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Index pages cost about the same as sequential ones on SSDs; PostgreSQL's default
        # (4.0, for spinning disks) makes it scan the whole table for common search words.
        conn.execute(text(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1'))
    admin.dispose()
    env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir)}
    log(f"creating {name}: migrating and seeding {products} products")
    flask_cli(["db", "upgrade"], env)
    started = time.monotonic()
    flask_cli(["seed", "--products", str(products)], env, timeout=1800)
    seeded = time.monotonic() - started
    engine = create_engine(sa_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    log(f"seeded in {seeded:.0f}s")
    warm_product_pages(env)
    return seeded


def warm_product_pages(env: dict[str, str]) -> None:
    """`flask warm-pages`, as a deployment runs it after a release: the product bodies that
    are missing or stale (a new template, products changed since the last run) are rendered
    now, so the product-page rows measure serving pages, not a first render of each."""
    started = time.monotonic()
    done = flask_cli(["warm-pages", "--batch", "500"], env, timeout=3600)
    log(f"warm-pages in {time.monotonic() - started:.0f}s: {done.stdout.strip()}")


def clear_redis_prefix(redis_url: str, prefix: str) -> None:
    """Remove the bench's keys (cache, locks, rate limits, job queue), nobody else's."""
    import redis

    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter(f"*{prefix.rstrip(':')}*", count=1000):
        r.delete(key)
    r.srem("rq:queues", f"rq:queue:{prefix}jobs")
    r.close()


# ---- queries per page -------------------------------------------------------------------

def queries_per_page(app, product_id: int) -> dict:
    """Statements each page runs with a cold cache, at two page sizes (must be equal)."""
    from market.extensions import db

    pages = {"home": "/", "catalog": "/products", "product": f"/products/{product_id}",
             "search_zh": f"/products?q={quote(ZH_WORD)}", "search_en": f"/products?q={EN_WORD}"}
    counts: dict[str, dict[int, int]] = {}
    with app.app_context():
        engine = db.engine
    for per_page in (12, 48):
        app.config["PRODUCTS_PER_PAGE"] = per_page
        client = app.test_client()
        for name, path in pages.items():
            statements = []

            def listener(*args, _s=statements):
                _s.append(args[2])

            event.listen(engine, "before_cursor_execute", listener)
            try:
                status = client.get(path).status_code
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            counts.setdefault(name, {})[per_page] = len(statements)
    return counts


# ---- the run ----------------------------------------------------------------------------

def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{multiprocessing.cpu_count()} cores ({cpu or platform.processor()}), {mem_gb:.0f} GB RAM, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--products", type=int, default=int(os.environ.get("BENCH_PRODUCTS", 100_000)))
    ap.add_argument("--workers", type=int, default=multiprocessing.cpu_count() * 2 + 1)
    ap.add_argument("--race-buyers", type=int, default=200)
    ap.add_argument("--race-units", type=int, default=10)
    args = ap.parse_args(argv)

    db_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sm_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = "smbench:"
    data_dir = PROJECT_ROOT / "var" / "bench"
    RESULTS.mkdir(parents=True, exist_ok=True)
    run_id = datetime.now().strftime("%Y%m%d%H%M%S")
    started = time.monotonic()

    seed_seconds = ensure_database(db_url, args.products, data_dir)
    clear_redis_prefix(redis_url, prefix)  # every run starts with a cold cache

    stripe_port = free_port()
    stripe = start_localstripe(stripe_port)
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    env = {
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix, "JOBS_QUEUE": f"{prefix}jobs",
        "DATA_DIR": str(data_dir), "SECRET_KEY": secrets.token_hex(32), "MARKET_ENV": "development",
        "BENCH_HELLO_ROUTE": "1", "STRIPE_API_BASE": stripe_url, "LOG_FORMAT": "json",
        "LOGIN_RATE_LIMIT": "100000 per minute",  # 200 buyers log in from one loopback address
        # Worker recycling (a fresh worker imports the app: seconds of CPU on 2 cores) would
        # land in the middle of one page's measurement and make its p99 about that.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    log_path = RESULTS / "gunicorn.log"
    log_path.unlink(missing_ok=True)
    # Five workers importing the app at once take a while on 2 busy cores.
    server = start_gunicorn(env, workers=args.workers, log_path=log_path, timeout=180)
    bare = start_bare_gunicorn(workers=args.workers, log_path=RESULTS / "gunicorn-bare.log", timeout=120)
    log(f"gunicorn: {args.workers} workers on {server.url}, the bare app on {bare.url}; localstripe on {stripe_url}")

    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                     "products": args.products, "workers": args.workers, "connections": args.connections,
                     "seconds_per_endpoint": args.seconds, "seed_seconds": round(seed_seconds, 1)}
    try:
        from market import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url), "CACHE_TYPE": "NullCache",
                          "CACHE_NO_NULL_WARNING": True, "REDIS_URL": "", "STRIPE_API_BASE": stripe_url,
                          "STRIPE_RETRY_BACKOFF": 0.05, "UPLOAD_FOLDER": data_dir / "uploads", "LOG_FORMAT": "text"})
        from market.extensions import db
        from market.models import Product

        with app.app_context():
            product_id = db.session.scalar(select(func.max(Product.id)).where(Product.status == "published"))

        # A real signed-in buyer: logged in through the login form, one product in her cart.
        cookie = checkout.signed_in_cookie(app, server.url, run_id=run_id, product_id=product_id)
        signed_in = (f"Cookie: {cookie}", f"User-Agent: {checkout.BROWSER}")
        n = str(args.products)
        # (name, server, path, lua script, script args, headers)
        endpoints = [
            ("bare_hello", bare, "/hello", None, (), ()),
            ("hello", server, "/_bench/hello", None, (), ()),
            ("home", server, "/", None, (), ()),
            ("catalog", server, "/products", None, (), ()),
            ("catalog_signed_in", server, "/products?page=<random 1..50>", "catalog_pages.lua", ("50",), signed_in),
            ("product", server, "/products/<random>", "product_pages.lua", (n,), ()),
            ("product_signed_in", server, "/products/<random>", "product_pages.lua", (n,), signed_in),
            ("search_zh", server, f"/products?q={quote(ZH_WORD)}", None, (), ()),
            ("search_en", server, f"/products?q={EN_WORD}", None, (), ()),
            ("search_zh_signed_in", server, f"/products?q={quote(ZH_WORD)}", None, (), signed_in),
            ("search_zh_uncached", server, f"/products?q={quote(ZH_WORD)}&min_price=<random>", "search_uncached.lua",
             (quote(ZH_WORD),), signed_in),
            ("filtered_signed_in", server, "/products?<random filters>", "search_filtered.lua", (), signed_in),
            ("suggest", server, "/api/search/suggest?q=<random prefix>", "suggest.lua", (), ()),
            # The same at a typing-realistic concurrency: at 16 connections on 2 cores a
            # p99 is mostly the queue, whatever the endpoint costs.
            ("suggest_c4", server, "/api/search/suggest?q=<random prefix>", "suggest.lua", (), (), 4),
        ]
        only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
        http = []
        for name, target_server, path, script, script_args, headers, *rest in endpoints:
            if only and "http" not in only and name not in only and name != "bare_hello":
                continue
            target = "/" if script else path
            connections = rest[0] if rest else args.connections
            # Warm up (worker imports, caches), as a real server would be.
            wrk.run(name, target_server.url, target, seconds=2, connections=connections,
                    script=script, script_args=script_args, headers=headers)
            # The bare app again right before each row: on a machine shared with other work the
            # load changes from one row to the next, so each row's ratio is to its own baseline.
            paired = wrk.run("bare_hello", bare.url, "/hello", seconds=max(2, args.seconds // 2),
                             connections=connections)
            res = wrk.run(name, target_server.url, target, seconds=args.seconds, connections=connections,
                          script=script, script_args=script_args, headers=headers)
            res.path = path
            res.bare_rps = paired.rps
            http.append(res)
            log(f"{name:<20} {res.rps:8.1f} req/s  p50 {res.p50_ms:7.2f} ms  p99 {res.p99_ms:7.2f} ms  "
                f"errors {res.errors}  (bare just before: {paired.rps:.0f} req/s, ratio {res.rps / paired.rps:.2f})")
        bare.stop()
        if only:
            results["http"] = [r.as_dict() for r in http]
            print(render_http(results))
            return 0
        results["http"] = [r.as_dict() for r in http]

        log("queries per page (cold cache)")
        results["queries_per_page"] = queries_per_page(app, product_id)

        log("checkout: paid orders per second against localstripe")
        requests.delete(f"{stripe_url}/_config/data", timeout=10)
        results["checkout"] = checkout.paid_orders_per_second(app, seconds=args.seconds, threads=4, run_id=run_id)
        log(f"checkout: {results['checkout']}")

        log(f"stock race: {args.race_buyers} buyers for {args.race_units} units over HTTP")
        results["race"] = checkout.stock_race(app, server.url, buyers=args.race_buyers, units=args.race_units,
                                              run_id=run_id)
        log(f"race: {results['race']}")
        metrics = requests.get(f"{server.url}/metrics", timeout=10).text
        results["metrics_sample"] = [ln for ln in metrics.splitlines() if ln.startswith("market_orders_placed_total")]
    finally:
        server.stop()
        bare.stop()
        stop(stripe)
        clear_redis_prefix(redis_url, prefix)

    results["total_seconds"] = round(time.monotonic() - started, 1)
    table = render(results)
    print(table)
    (RESULTS / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    (RESULTS / f"bench-{run_id}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    (RESULTS / "latest.md").write_text(table)
    ok = results["race"]["exact"]
    log(f"done in {results['total_seconds']}s; results in {RESULTS.relative_to(PROJECT_ROOT)}/latest.json")
    return 0 if ok else 1


LABELS = {
    "bare_hello": "bare Flask “hello”, outside our middleware (baseline)",
    "hello": "our `/_bench/hello`, through our middleware",
    "home": "home page", "catalog": "catalogue page 1",
    "catalog_signed_in": "catalogue, random page 1–50, signed in",
    "product": "product page (random of 100k)",
    "product_signed_in": "product page (random of 100k), signed in",
    "search_zh": f"search “{ZH_WORD}”", "search_en": f"search “{EN_WORD}”",
    "search_zh_signed_in": f"search “{ZH_WORD}”, signed in",
    "search_zh_uncached": f"search “{ZH_WORD}” + random price filter, signed in (nothing cached)",
    "filtered_signed_in": "listing, random filter combination, signed in (nothing cached)",
    "suggest": "suggestions `/api/search/suggest`, random prefix",
    "suggest_c4": "suggestions, random prefix, 4 connections (bare app also at 4)",
}


def ratio(x: dict) -> float:
    """A row's req/s over the bare app's, measured right before it."""
    return x["rps"] / x["bare_rps"] if x.get("bare_rps") else 0.0


def render_http(r: dict) -> str:
    rows = {x["name"]: x for x in r["http"]}
    lines = [
        f"Run {r['date']} on {r['machine']}; {r['products']:,} products on PostgreSQL, Redis cache; "
        f"gunicorn {r['workers']} sync workers; wrk {r['connections']} connections, {r['seconds_per_endpoint']} s each.",
        "",
        "| page | req/s | bare req/s just before | × bare | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for x in r["http"]:
        lines.append(f"| {LABELS.get(x['name'], x['name'])} | {x['rps']:.0f} | {x['bare_rps']:.0f} | "
                     f"{ratio(x):.2f} | {x['p50_ms']:.1f} | {x['p99_ms']:.1f} | {x['errors']} |")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    goals = []
    signed = [rows[n] for n in ("catalog_signed_in", "product_signed_in", "search_zh_signed_in") if n in rows]
    if signed:
        goals.append(f"signed-in pages ≥ {GOALS['signed_in_vs_bare_rps']:.2f}× bare (aim {GOALS['signed_in_aim']:.1f}×): "
                     + ", ".join(f"{x['name']} {ratio(x):.2f}× ({verdict(ratio(x) >= GOALS['signed_in_vs_bare_rps'])})"
                                 for x in signed))
    if "hello" in rows:
        own = ratio(rows["hello"])
        goals.append(f"own hello ≥ {GOALS['hello_vs_bare_rps']:.1f}× bare: {own:.2f}× ({verdict(own >= GOALS['hello_vs_bare_rps'])})")
    listings = [x for x in r["http"] if x["name"] in ("catalog", "catalog_signed_in", "search_zh", "search_en",
                                                       "search_zh_signed_in", "search_zh_uncached", "filtered_signed_in")]
    if listings:
        worst = max(listings, key=lambda x: x["p99_ms"])
        goals.append(f"every listing p99 < {GOALS['listing_p99_ms']:.0f} ms: worst {worst['name']} "
                     f"{worst['p99_ms']:.0f} ms ({verdict(worst['p99_ms'] < GOALS['listing_p99_ms'])})")
    if "suggest" in rows:
        goals.append(f"suggest p99 < {GOALS['suggest_p99_ms']:.0f} ms: {rows['suggest']['p99_ms']:.1f} ms "
                     f"({verdict(rows['suggest']['p99_ms'] < GOALS['suggest_p99_ms'])})")
    lines += ["", "Goals: " + "; ".join(goals)]
    return "\n".join(lines) + "\n"


def render(r: dict) -> str:
    lines = [render_http(r).rstrip("\n")]
    c = r["checkout"]
    race = r["race"]
    lines += [
        "",
        "| checkout | result |",
        "| --- | --- |",
        f"| paid orders per second (localstripe, {c['threads']} buyers in threads, {c['seconds']} s) | "
        f"{c['paid_per_second']} (p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms per order; {c['errors']} errors) |",
        f"| stock race over HTTP: {race['buyers']} buyers, {race['units']} units | {race['units_sold']} sold, "
        f"{race['stock_left']} left, {race['placed']} orders placed, {race['refused']} told “sold out”, "
        f"{race['other']} other ({'exact' if race['exact'] else 'WRONG'}) in {race['race_seconds']} s |",
        "",
        "| page | queries (12 per page) | queries (48 per page) |",
        "| --- | ---: | ---: |",
    ]
    for name, counts in r["queries_per_page"].items():
        lines.append(f"| {name} | {counts[12]} | {counts[48]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
