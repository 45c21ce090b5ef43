"""Each SQL statement of uncached listing pages, timed, in process (no cache at all):

    BENCH_DATABASE_URL=... python -m bench.statement_times "q=%E5%88%BA%E7%BB%A3&min_price=12.34" ...

Prints each query string's whole time, then the slowest statements with their parameters.
"""
from __future__ import annotations

import os
import sys
import time

from sqlalchemy import event


def main(argv: list[str] | None = None) -> int:
    from flask import request

    from market import create_app
    from market.catalog import services
    from market.config import normalise_database_url
    from market.extensions import db

    url = normalise_database_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sm_bench"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "", "CACHE_TYPE": "NullCache",
                      "CACHE_NO_NULL_WARNING": True, "LOG_FORMAT": "text"})
    stats: list[tuple[float, str, object]] = []
    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def before(conn, cursor, statement, params, context, executemany):
            conn.info["t"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, params, context, executemany):
            stats.append(((time.perf_counter() - conn.info["t"]) * 1000, statement, params))

        for qs in (argv if argv is not None else sys.argv[1:]):
            with app.test_request_context("/products?" + qs):
                cq = services.CatalogQuery.from_args(request.args)
                started = time.perf_counter()
                services.search_products(cq, app.config["PRODUCTS_PER_PAGE"])
                print(f"{qs}: {(time.perf_counter() - started) * 1000:.0f} ms")
                db.session.rollback()
        for ms, statement, params in sorted(stats, key=lambda s: -s[0])[:5]:
            print(f"\n{ms:.1f} ms  {' '.join(statement.split())[:400]}\n  {params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
