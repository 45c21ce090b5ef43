"""Where a signed-in page's time goes: cProfile over many in-process requests of one page,
the top functions by their own time and by cumulative time.

    python -m bench.profile_pages [--page catalog|search|product|hello|filtered|combination] [-n 200] [--top 20]
    python -m bench.profile_pages --cost [-n 300]

--cost prints, for each page, the CPU time this process spends per request (no profiler;
time.process_time, so other work on the machine barely moves it; the database's and Redis'
own CPU is not in it), next to the bare Flask app's (bench/bare_app.py) in the same process.

Runs against the bench database (BENCH_DATABASE_URL, default sm_bench: `make bench` seeds it)
with Redis (BENCH_REDIS_URL) as the cache, as a buyer who logged in through the login form
with one product in her cart, so the per-request work of a real session is in the profile.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import secrets
import sys
import time
from urllib.parse import quote

from sqlalchemy import func, select

from bench.checkout import PASSWORD, make_buyers
from market.config import normalise_database_url

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def signed_in_client(app, product_id: int):
    with app.app_context():
        [(_, email)] = make_buyers(f"profile-{secrets.token_hex(4)}", 1)
    client = app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    r = client.post("/account/login", data={"email": email, "password": PASSWORD,
                                            "csrf_token": _CSRF.search(page).group(1)})
    assert r.status_code == 302, r.status_code
    page = client.get(f"/products/{product_id}").get_data(as_text=True)
    client.post("/cart/add", data={"product_id": product_id, "quantity": 1, "csrf_token": _CSRF.search(page).group(1)})
    return client


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--page", default="catalog", choices=("catalog", "search", "product", "hello", "filtered", "combination"))
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--cost", action="store_true")
    args = ap.parse_args(argv)

    from market import create_app
    from market.extensions import db
    from market.models import Product

    db_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sm_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url), "REDIS_URL": redis_url,
                      "REDIS_KEY_PREFIX": "smprofile:", "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url,
                      "CACHE_KEY_PREFIX": "smprofile:cache:", "BENCH_HELLO_ROUTE": True,
                      "LOG_FORMAT": "json", "LOGIN_RATE_LIMIT": "100000 per minute"})
    with app.app_context():
        top_id = db.session.scalar(select(func.max(Product.id)))
    client = signed_in_client(app, top_id)
    rnd = random.Random(1)
    word = quote("刺绣")
    paths = {
        "catalog": lambda: f"/products?page={rnd.randint(1, 50)}",
        "search": lambda: f"/products?q={word}",
        "product": lambda: f"/products/{rnd.randint(1, top_id)}",
        "hello": lambda: "/_bench/hello",
        "filtered": lambda: f"/products?q={word}&min_price={rnd.randint(0, 20)}.{rnd.randint(0, 99):02d}",
        "combination": lambda: random_filters(rnd),
    }[args.page]
    if args.cost:
        return cost(app, client, rnd, top_id, args.n)
    for _ in range(20):  # warm: templates compiled, vocabulary built, caches filled
        client.get(paths())
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.n):
        r = client.get(paths())
        if r.status_code not in (200, 404):
            raise RuntimeError(f"{r.request.path} answered {r.status_code}")
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.page}: {args.n} requests, {elapsed / args.n * 1000:.2f} ms each under the profiler")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    return 0


def _cpu_ms(client, path_of, n: int) -> tuple[float, float]:
    for _ in range(min(n, 30)):
        client.get(path_of())
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        client.get(path_of())
    return (time.process_time() - cpu) / n * 1000, (time.perf_counter() - wall) / n * 1000


WORDS = ["刺绣", "绣花", "silk", "茶", "海鲜", "竹编", "布", ""]
CATEGORIES = ["embroidery", "weaving", "textiles", "ceramics", "seafood", "tea", "snacks", "produce", ""]
DISTRICTS = ["象山县", "宁海县", "慈溪市", ""]


def random_filters(rnd) -> str:
    """A listing nobody has cached, as bench/lua/search_filtered.lua asks for them: a random
    word, category, district, price range (sometimes min above max), sort and page."""
    path = f"/products?min_price={rnd.randint(0, 50)}.{rnd.randint(0, 99):02d}"
    if word := rnd.choice(WORDS):
        path += f"&q={quote(word)}"
    if (category := rnd.choice(CATEGORIES)) and rnd.random() < 0.5:
        path += f"&category={category}"
    if (district := rnd.choice(DISTRICTS)) and rnd.random() < 0.3:
        path += f"&district={quote(district)}"
    if rnd.random() < 0.5:
        path += f"&max_price={rnd.randint(20, 2000)}"
    return path + f"&sort={rnd.choice(['relevance', 'newest', 'price_asc', 'price_desc'])}&page={rnd.randint(1, 5)}"


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def index_memory(app) -> None:
    """The listing index's build time and size, and this process's RSS before and after."""
    from market.catalog import indexed

    if not app.config.get("LISTING_INDEX"):
        print("listing index: off (LISTING_INDEX=0), listings from SQL")
        return
    with app.app_context():
        indexed.forget()
        before, started = _rss_mb(), time.perf_counter()
        indexed.warm()
        built = time.perf_counter() - started
        sizes = indexed.memory()
    print(f"listing index: {sizes['products']} products, {sizes['tokens']} distinct tokens, arrays "
          f"{sizes['bytes'] / 1e6:.1f} MB, built in {built:.2f} s; process RSS {before:.0f} MB before, "
          f"{_rss_mb():.0f} MB after")


def cost(app, client, rnd, top_id: int, n: int) -> int:
    from bench.bare_app import app as bare

    index_memory(app)

    word = quote("刺绣")
    visitor = app.test_client()
    rows = [
        ("bare Flask “hello” (bench/bare_app.py)", bare.test_client(), lambda: "/hello"),
        ("our `/_bench/hello`, visitor", visitor, lambda: "/_bench/hello"),
        ("catalogue, random page 1–50, signed in", client, lambda: f"/products?page={rnd.randint(1, 50)}"),
        ("product page, random id, signed in", client, lambda: f"/products/{rnd.randint(1, top_id)}"),
        ("search 刺绣, signed in", client, lambda: f"/products?q={word}"),
        ("search 刺绣 + random price filter, signed in", client,
         lambda: f"/products?q={word}&min_price={rnd.randint(0, 20)}.{rnd.randint(0, 99):02d}"),
        ("listing, random filter combination, signed in (uncached)", client, lambda: random_filters(rnd)),
        ("suggestions, random prefix", visitor, lambda: f"/api/search/suggest?q={rnd.choice(['绣', '刺绣', '茶', 'sil', 'tea'])}"),
    ]
    results = [(label, *_cpu_ms(c, path_of, n)) for label, c, path_of in rows]
    base = results[0][1]
    print(f"{n} requests each, in process; CPU = this process's time.process_time per request")
    print("| page | CPU ms per request | bare CPU ÷ page CPU | wall ms per request |")
    print("| --- | ---: | ---: | ---: |")
    for label, cpu_ms, wall_ms in results:
        print(f"| {label} | {cpu_ms:.2f} | {base / cpu_ms:.2f} | {wall_ms:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
