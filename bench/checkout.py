"""Checkout benchmarks against localstripe on PostgreSQL:

- paid orders per second: buyers in threads place an order and pay it by card through the
  server-side path (place_order + pay_with_card: PaymentMethod, PaymentIntent, confirm);
- the stock race: 200 buyers, each logged in to the real gunicorn server, submit checkout
  for the same product with 10 units at the same moment; exactly 10 must be sold.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from market.extensions import db

VISA = "4242424242424242"
PASSWORD = "bench-password-2026"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CHECKOUT_TOKEN = re.compile(r'name="checkout_token"[^>]*value="([^"]+)"')


def _address():
    from market.orders.services import Address

    return Address("林小雨", "13800138000", "浙江省宁波市象山县丹西街道靖南大街 88 号")


def make_shop(run_id: str, stock: int, title: str):
    """A bench artisan with one product of `stock` units."""
    from market import search
    from market.models import Artisan, Product, User, UserRole

    user = User(name="压测手艺人", email=f"bench-artisan-{run_id}-{uuid.uuid4().hex[:6]}@bench.sisters-market.cn",
                password_hash="!")
    user.roles = [UserRole(role="artisan")]
    artisan = Artisan(user=user, display_name="压测小店", district="象山县", kind="craftswoman", story="", status="approved")
    product = Product(artisan=artisan, title=title, description="", category="embroidery", price_fen=9900,
                      stock=stock, status="published", search_tokens=search.index_tokens(title))
    db.session.add_all([user, artisan, product])
    db.session.commit()
    return product.id


def make_buyers(run_id: str, n: int) -> list[tuple[int, str]]:
    """n buyers sharing one password hash (hashing 200 times would only time scrypt)."""
    from market.models import User, UserRole

    password_hash = generate_password_hash(PASSWORD)
    emails = [f"bench-buyer-{run_id}-{i}@bench.sisters-market.cn" for i in range(n)]
    db.session.execute(insert(User), [{"name": f"买家{i}", "email": e, "password_hash": password_hash}
                                      for i, e in enumerate(emails)])
    ids = dict(db.session.execute(select(User.email, User.id).where(User.email.in_(emails))).all())
    db.session.execute(insert(UserRole), [{"user_id": ids[e], "role": "buyer"} for e in emails])
    db.session.commit()
    return [(ids[e], e) for e in emails]


def paid_orders_per_second(app, *, seconds: float, threads: int, run_id: str) -> dict:
    from market.models import User
    from market.orders import operations as orders
    from market.payments import services as payments

    with app.app_context():
        product_id = make_shop(run_id, 10_000_000, "压测手工刺绣围巾")
        buyers = make_buyers(run_id + "-pay", threads)
    paid, declined, latencies, errors = [0], [0], [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(buyer_id: int) -> None:
        with app.app_context():
            buyer = db.session.get(User, buyer_id)
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    order = orders.place_order(buyer, {product_id: 1}, _address(), uuid.uuid4().hex)
                    outcome = payments.pay_with_card(order, number=VISA, exp_month=12, exp_year=2034, cvc="123")
                except Exception as exc:  # noqa: BLE001  reported, not raised: the bench goes on
                    with lock:
                        errors.append(repr(exc))
                    db.session.rollback()
                    continue
                finally:
                    db.session.expunge_all()
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    if outcome.status == "paid":
                        paid[0] += 1
                    else:
                        declined[0] += 1
            db.session.remove()

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(loop, [b for b, _ in buyers]))
    elapsed = time.monotonic() - started
    latencies.sort()
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else None  # noqa: E731
    return {"paid": paid[0], "not_paid": declined[0], "errors": len(errors), "first_error": errors[0] if errors else None,
            "seconds": round(elapsed, 1), "threads": threads, "paid_per_second": round(paid[0] / elapsed, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def _csrf(html: str) -> str:
    m = _CSRF.search(html)
    if not m:
        raise RuntimeError("no csrf_token in the page")
    return m.group(1)


def stock_race(app, base_url: str, *, buyers: int, units: int, run_id: str, login_threads: int = 16) -> dict:
    """`buyers` logged-in buyers POST checkout for the same product at once, over HTTP."""
    from market.models import Order, OrderLine, Product

    with app.app_context():
        product_id = make_shop(run_id, units, "压测限量蓝印花布包")
        people = make_buyers(run_id + "-race", buyers)

    def prepare(email: str):
        s = requests.Session()
        page = s.get(f"{base_url}/account/login", timeout=30)
        r = s.post(f"{base_url}/account/login", timeout=30, allow_redirects=False,
                   data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page.text)})
        if r.status_code != 302:
            raise RuntimeError(f"login failed for {email}: {r.status_code}")
        product_page = s.get(f"{base_url}/products/{product_id}", timeout=30)
        s.post(f"{base_url}/cart/add", timeout=30, data={"product_id": product_id, "quantity": 1,
                                                         "csrf_token": _csrf(product_page.text)})
        form = s.get(f"{base_url}/checkout", timeout=30).text
        return s, {"csrf_token": _csrf(form), "checkout_token": _CHECKOUT_TOKEN.search(form).group(1),
                   "ship_name": "林小雨", "ship_phone": "13800138000", "ship_address": "浙江省宁波市象山县丹西街道靖南大街 88 号"}

    started = time.monotonic()
    with ThreadPoolExecutor(login_threads) as pool:
        ready = list(pool.map(prepare, [e for _, e in people]))
    prepare_seconds = time.monotonic() - started

    barrier = threading.Barrier(len(ready))
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(session_and_form) -> None:
        s, form = session_and_form
        barrier.wait(timeout=60)
        r = s.post(f"{base_url}/checkout", data=form, timeout=120, allow_redirects=False)
        where = r.headers.get("Location", "")
        kind = "placed" if "/pay" in where else ("refused" if "/cart" in where else f"other:{r.status_code}")
        with lock:
            outcomes.append(kind)

    started = time.monotonic()
    threads = [threading.Thread(target=submit, args=(x,)) for x in ready]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    race_seconds = time.monotonic() - started

    with app.app_context():
        sold = db.session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Order, OrderLine.order_id == Order.id)
            .where(OrderLine.product_id == product_id, Order.status.in_(("pending_payment", "paid")))
        )
        left = db.session.scalar(select(Product.stock).where(Product.id == product_id))
        db.session.remove()
    return {"buyers": buyers, "units": units, "placed": outcomes.count("placed"), "refused": outcomes.count("refused"),
            "other": len(outcomes) - outcomes.count("placed") - outcomes.count("refused"),
            "units_sold": int(sold), "stock_left": int(left), "exact": int(sold) == units and left == 0,
            "prepare_seconds": round(prepare_seconds, 1), "race_seconds": round(race_seconds, 2)}


# The browser the signed-in rows pretend to be, at login and in every wrk request: Flask-Login
# ties a session to its address and browser, and a real reader's browser does not change.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) SistersMarketBench/1.0"


def signed_in_cookie(app, base_url: str, *, run_id: str, product_id: int) -> str:
    """A real buyer session, as a browser gets it: a new buyer logs in through the login
    form (CSRF token and all) and puts a product in her cart, so every page she then sees
    loads her user, roles, cart count and unread notices. Returns the `Cookie:` value."""
    with app.app_context():
        [(_, email)] = make_buyers(run_id + "-pages", 1)
    s = requests.Session()
    s.headers["User-Agent"] = BROWSER  # wrk sends the same, as one browser would (session protection)
    page = s.get(f"{base_url}/account/login", timeout=30)
    r = s.post(f"{base_url}/account/login", timeout=30, allow_redirects=False,
               data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page.text)})
    if r.status_code != 302:
        raise RuntimeError(f"login failed for {email}: {r.status_code}")
    product_page = s.get(f"{base_url}/products/{product_id}", timeout=30)
    s.post(f"{base_url}/cart/add", timeout=30, data={"product_id": product_id, "quantity": 1,
                                                     "csrf_token": _csrf(product_page.text)})
    home = s.get(f"{base_url}/", timeout=30).text
    if 'id="cart-count">1<' not in home or email not in home and "买家0" not in home:
        raise RuntimeError("the bench session is not signed in with one item in the cart")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)
