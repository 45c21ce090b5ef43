"""Search at scale, in process: suggestion latency (target p99 < 30 ms at 100,000 products
on PostgreSQL), the cost of building the search vocabulary, and searches with synonyms and
typo correction, each next to baselines measured in the same run.

    python -m bench.search [--products 100000] [--requests 2000]

Uses its own database (BENCH_SEARCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/sm_bench_search), created, migrated and seeded like
`make bench`'s (bench/run.py) when it has fewer products than asked, and reused otherwise;
it is kept apart from sm_bench so that this branch's migrations never touch the database
other branches bench on. Requests go through the Flask test client (routing, middleware,
JSON), one at a time. Baselines: a bare `SELECT 1` round trip on the same connection pool,
and GET /healthz (the same Flask stack plus `SELECT 1`). Timings are reported, never asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from urllib.parse import quote

from sqlalchemy import text

from bench.run import ensure_database, log
from bench.servers import PROJECT_ROOT
from market.config import normalise_database_url

# What people type, letter by letter: prefixes of common searches, synonyms, typos, English.
TYPED = ["绣", "刺", "刺绣", "刺绣团", "绣花", "海", "海鲜", "海鲜礼", "鱼鲞", "虾", "竹", "竹编", "竹编果",
         "茶", "红茶", "杨梅", "民宿", "年糕", "蜂蜜", "团扇", "s", "si", "silk", "emb", "embroid", "bam",
         "bamboo", "tea", "honey", "剌绣", "xyz", "宁海", "吉象", "慈溪绣"]
SEARCHES = [("search 刺绣, SEARCH_EXPANSION=0 (the search before synonyms)", "刺绣", False),
            ("search 刺绣 (with its synonyms)", "刺绣", True), ("search 绣花 (synonyms of 刺绣)", "绣花", True),
            ("search 海鲜干货 (one-way group)", "海鲜干货", True), ("search 剌绣 (typo, corrected)", "剌绣", True),
            ("search embroidry (English typo)", "embroidry", True)]


def distinct_titles(n: int) -> list[str]:
    """n different product titles made of the demo seed's words (items, adjectives, places,
    makers), as a catalogue where every product has a title of its own would have."""
    import itertools

    from market.demo_data import ARTISAN_NAMES, DISTRICT_LIST, PRODUCT_SPECS

    parts = [(adj, item) for items, adjs, _ in PRODUCT_SPECS.values() for item in items for adj in adjs]
    combos = itertools.product(range(1, 10**6), ARTISAN_NAMES, DISTRICT_LIST, parts)
    return [f"{district[:2]}{adj}{item}·{name}{k}号" for k, name, district, (adj, item) in itertools.islice(combos, n)]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def row(label: str, samples: list[float], base: list[float] | None = None) -> str:
    p50, p99 = statistics.median(samples), percentile(samples, 99)
    r50 = f"{p50 / statistics.median(base):.1f}" if base else "1.0"
    r99 = f"{p99 / percentile(base, 99):.1f}" if base else "1.0"
    return f"| {label} | {len(samples)} | {p50:.2f} | {r50} | {p99:.2f} | {r99} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=int(os.environ.get("BENCH_PRODUCTS", 100_000)))
    ap.add_argument("--requests", type=int, default=2000, help="suggestion requests (and baseline round trips)")
    ap.add_argument("--searches", type=int, default=30, help="requests per search row")
    args = ap.parse_args(argv)
    url = os.environ.get("BENCH_SEARCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sm_bench_search")
    data_dir = PROJECT_ROOT / "var" / "bench-search"
    ensure_database(url, args.products, data_dir)

    from market import create_app
    from market.catalog import searching
    from market.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "CACHE_TYPE": "NullCache",
                      "UPLOAD_FOLDER": data_dir / "uploads", "LOG_FORMAT": "text", "LOG_LEVEL": "WARNING",
                      "CATALOG_CACHE_SECONDS": 0, "PAGE_CACHE_SECONDS": 0})
    client = app.test_client()
    with app.app_context():
        products = db.session.scalar(text("SELECT count(*) FROM products"))
        started = time.perf_counter()
        vocab = searching.build_vocabulary()
        build_ms = (time.perf_counter() - started) * 1000
        stamp_ms = timed(searching._stamp, 20)
        db.session.rollback()
    log(f"{products} products; vocabulary: {len(vocab.titles)} distinct titles, "
        f"{len(vocab.speller.cjk_)} CJK words, {len(vocab.speller.latin_)} Latin words, built in {build_ms:.0f} ms")

    # Warm up: the process's vocabulary, connections, Jinja, Babel.
    for q in TYPED:
        assert client.get(f"/api/search/suggest?q={quote(q)}").status_code == 200
    client.get("/healthz")

    with app.app_context():
        def select_one():
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        select_one_ms = timed(select_one, args.requests)
    healthz_ms = timed(lambda: client.get("/healthz"), args.requests)
    queries = iter(TYPED * (args.requests // len(TYPED) + 1))
    suggest_ms = timed(lambda: client.get(f"/api/search/suggest?q={quote(next(queries))}"), args.requests)
    searches = []
    for label, q, expansion in SEARCHES:
        app.config["SEARCH_EXPANSION"] = expansion
        client.get(f"/products?q={quote(q)}&sort=relevance")  # warm
        searches.append((label, timed(lambda q=q: client.get(f"/products?q={quote(q)}&sort=relevance"),
                                      args.searches)))
    app.config["SEARCH_EXPANSION"] = True

    # The demo seed repeats a few hundred titles; a real catalogue has a title per product.
    # Worst case for the in-memory index: 100,000 distinct titles.
    with app.app_context():
        titles = distinct_titles(args.products)
        started = time.perf_counter()
        synthetic = searching.vocabulary_from([(t, 1) for t in titles], vocab.brands)
        synthetic_build_ms = (time.perf_counter() - started) * 1000
    app.config["SEARCH_VOCAB_SECONDS"] = 10**9
    app.extensions["search_vocabulary"] = {"vocab": synthetic, "checked": time.monotonic()}
    queries = iter(TYPED * (args.requests // len(TYPED) + 1))
    distinct_ms = timed(lambda: client.get(f"/api/search/suggest?q={quote(next(queries))}"), args.requests)

    print(f"\n{products} products on PostgreSQL, in process, one request at a time; "
          f"\"×\" is the ratio to the same percentile of a bare SELECT 1 round trip.")
    print("| what | n | p50 ms | p50 × SELECT 1 | p99 ms | p99 × SELECT 1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(row("`SELECT 1` round trip (baseline)", select_one_ms))
    print(row("GET /healthz (Flask stack + SELECT 1)", healthz_ms, select_one_ms))
    print(row(f"GET /api/search/suggest ({len(TYPED)} typed prefixes)", suggest_ms, select_one_ms))
    for label, samples in searches:
        print(row(f"GET /products, {label}", samples, select_one_ms))
    print(row(f"GET /api/search/suggest, {len(titles):,} distinct titles (synthetic vocabulary)",
              distinct_ms, select_one_ms))
    print(row("vocabulary staleness check (count, last update)", stamp_ms, select_one_ms))
    print(f"| vocabulary build from the seed ({len(vocab.titles)} distinct titles) | 1 | {build_ms:.0f} | | | |")
    print(f"| vocabulary build, {len(titles):,} distinct titles (in memory, no query) | 1 | "
          f"{synthetic_build_ms:.0f} | | | |")
    p99 = max(percentile(suggest_ms, 99), percentile(distinct_ms, 99))
    print(f"\nSuggestions p99 {p99:.1f} ms (target < 30 ms): {'met' if p99 < 30 else 'NOT met'}; "
          f"{p99 / percentile(healthz_ms, 99):.2f}× the p99 of /healthz.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
