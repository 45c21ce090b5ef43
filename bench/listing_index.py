"""The listing index against the SQL path, in process, on the bench database: the service
calls of an uncached listing (the page's ids and count, then the facets: what
`/products` asks of market.catalog.services), for random filter combinations, each path
timed on the same combinations in turn; plus the index's build time and memory.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sm_bench python -m bench.listing_index [-n 200]

Wall and CPU (time.process_time: this process only, not the database's) per listing,
p50 and p99. Rendering is not in it (see `python -m bench.profile_pages --cost` for whole
pages). Timings are reported, never asserted.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from urllib.parse import parse_qsl, urlsplit

from bench.profile_pages import _rss_mb, random_filters
from market.config import normalise_database_url


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args(argv)

    from market import create_app
    from market.catalog import indexed, services
    from market.extensions import db

    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sm_bench")
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "CATALOG_CACHE_SECONDS": 0,
                      "LOG_LEVEL": "WARNING"})
    rnd = random.Random(15)
    combos = [dict(parse_qsl(urlsplit(random_filters(rnd)).query)) for _ in range(args.n)]
    with app.test_request_context("/products"):
        rss, started, cpu = _rss_mb(), time.perf_counter(), time.process_time()
        indexed.warm()
        built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
        sizes = indexed.memory()
        print(f"listing index: {sizes['products']} products, {sizes['tokens']} distinct tokens, arrays "
              f"{sizes['bytes'] / 1e6:.1f} MB; built in {built:.1f} s wall, {built_cpu:.1f} s CPU; "
              f"RSS {rss:.0f} MB before, {_rss_mb():.0f} MB after")
        timings: dict[str, tuple[list[float], list[float]]] = {"sql": ([], []), "index": ([], [])}
        for query in combos:
            for path in ("sql", "index"):  # the same combination on both paths, in turn
                app.config["LISTING_INDEX"] = path == "index"
                cq = services.CatalogQuery.from_args(query)
                started, cpu = time.perf_counter(), time.process_time()
                page = services.list_products(cq, 24)
                if page.total:
                    services.facet_counts(cq)
                timings[path][0].append((time.perf_counter() - started) * 1000)
                timings[path][1].append((time.process_time() - cpu) * 1000)
                db.session.rollback()
    print(f"{args.n} random filter combinations (bench/profile_pages.random_filters), ids + count + facets")
    print("| path | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms | CPU mean ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for path, label in (("sql", "SQL (LISTING_INDEX=0)"), ("index", "in-process listing index")):
        wall, cpu = timings[path]
        print(f"| {label} | {_percentile(wall, 50):.2f} | {_percentile(wall, 99):.2f} | {_percentile(cpu, 50):.2f} "
              f"| {_percentile(cpu, 99):.2f} | {statistics.mean(cpu):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
