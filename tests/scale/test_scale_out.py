"""Two gunicorn app servers on different loopback ports over one PostgreSQL database and
one Redis, as on two machines behind a load balancer: nothing a server keeps in memory is
needed by the other.

Needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets both); skipped without them, and a
failure (not a skip) when REQUIRE_POSTGRES=1 and Redis cannot be reached. Everything this
test writes to Redis is under its own key prefix and queue name, removed at the end.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from requests.adapters import HTTPAdapter

from market.jobs import PERIODIC
from tests.support import GUNICORN_START_TIMEOUT, PG_URL, app_config, create_pg_database, redis_or_skip

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
PASSWORD = "scale-out-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CHECKOUT_TOKEN = re.compile(r'name="checkout_token"[^>]*value="([^"]+)"')
SHIPPING = {"ship_name": "林小雨", "ship_phone": "13800138000", "ship_address": "浙江省宁波市象山县丹西街道靖南大街 88 号"}
RACE_BUYERS, RACE_UNITS = 12, 5


def _redis_or_skip():
    if not PG_URL or not REDIS_URL:
        pytest.skip("scale-out test needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL (Redis)")
    return redis_or_skip(REDIS_URL)


class SourceAddress(HTTPAdapter):
    """Connect from a given loopback address (127.0.0.0/8 is all loopback on Linux), so the
    servers see different clients, as they would see different buyers."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(address: str = "127.0.0.1") -> requests.Session:
    s = requests.Session()
    s.mount("http://", SourceAddress(address))
    return s


def csrf(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@dataclass
class Cluster:
    a: object
    b: object
    app: object
    env: dict
    queue: str
    product_ids: list
    race_product_id: int
    buyers: list


def _cleanup_redis(client, run: str, queue_name: str) -> None:
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    q = Queue(queue_name, connection=client)
    ids = set(q.job_ids)
    for registry in (FinishedJobRegistry, FailedJobRegistry, StartedJobRegistry, ScheduledJobRegistry):
        ids |= set(registry(queue_name, connection=client).get_job_ids())
    for job_id in ids:
        with contextlib.suppress(Exception):  # already gone
            Job.fetch(job_id, connection=client).delete()
    client.srem("rq:queues", f"rq:queue:{queue_name}")
    # The run id is in every key prefix of this test: cache, locks, rate limits, queue.
    for key in client.scan_iter(f"*{run}*", count=1000):
        client.delete(key)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, localstripe_url):
    redis_client = _redis_or_skip()
    from bench.servers import flask_cli, start_gunicorn
    from market import create_app
    from market.extensions import db

    db_url, drop = create_pg_database(PG_URL)
    run = uuid.uuid4().hex[:8]
    prefix, queue_name = f"smtest-{run}:", f"smtest-{run}-jobs"
    data_dir = tmp_path_factory.mktemp("shared-data")  # what would be a shared mount
    env = {
        "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix, "JOBS_QUEUE": queue_name,
        "SECRET_KEY": uuid.uuid4().hex * 2, "DATA_DIR": str(data_dir), "MARKET_ENV": "development",
        "STRIPE_API_BASE": localstripe_url, "LOGIN_RATE_LIMIT": "5 per minute", "LOG_FORMAT": "json",
        "STRIPE_RETRY_BACKOFF": "0.01",
    }
    servers = []
    try:
        flask_cli(["db", "upgrade"], env, timeout=120)
        app = create_app({**app_config(db_url, data_dir / "uploads"), "STRIPE_API_BASE": localstripe_url})
        with app.app_context():
            product_ids, race_id, buyers = _shop(app)
            db.engine.dispose()
        logs = tmp_path_factory.mktemp("logs")
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(start_gunicorn, env, workers=2, log_path=logs / f"{n}.log",
                                   timeout=GUNICORN_START_TIMEOUT) for n in "ab"]
            servers = [f.result() for f in futures]
        yield Cluster(servers[0], servers[1], app, env, queue_name, product_ids, race_id, buyers)
    finally:
        for server in servers:
            server.stop()
        drop()
        _cleanup_redis(redis_client, run, queue_name)
        redis_client.close()


def _shop(app):
    from market.accounts.services import register_user
    from market.artisans.services import ProductData, save_product, save_shop
    from market.extensions import db

    seller = register_user("秀英", "xiuying@scale.example.cn", PASSWORD, ["artisan"])
    artisan = save_shop(seller, display_name="秀英绣坊", kind="craftswoman", district="象山县", story="手艺人的故事")
    artisan.status = "approved"
    db.session.commit()

    def product(title, stock):
        return save_product(seller, ProductData(title=title, description="", category="embroidery", price_fen=9900,
                                                stock=stock, brand_id=None, status="published")).id

    ids = [product("手工刺绣围巾", 50), product("蓝印花布包", 50)]
    race = product("限量刺绣团扇", RACE_UNITS)
    buyers = [register_user(f"买家{i}", f"buyer{i}@scale.example.cn", PASSWORD, ["buyer"]).email
              for i in range(RACE_BUYERS + 2)]
    return ids, race, buyers


def login(s: requests.Session, server, email: str):
    page = s.get(f"{server.url}/account/login", timeout=10)
    return s.post(f"{server.url}/account/login", timeout=30, allow_redirects=False,
                  data={"email": email, "password": PASSWORD, "csrf_token": csrf(page.text)})


def add_to_cart(s: requests.Session, server, product_id: int, token: str):
    r = s.post(f"{server.url}/cart/add", data={"product_id": product_id, "quantity": 1, "csrf_token": token},
               timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.text[:300]


def cart_titles(s: requests.Session, server) -> str:
    return s.get(f"{server.url}/cart/", timeout=10).text


def test_a_buyer_alternating_between_servers_keeps_her_session_and_cart(cluster):
    a, b = cluster.a, cluster.b
    p1, p2 = cluster.product_ids
    s = browser()
    # A guest: the cart is in the signed session cookie, which either server can read.
    token_from_a = csrf(s.get(f"{a.url}/products/{p1}", timeout=10).text)
    add_to_cart(s, a, p1, token_from_a)
    assert "手工刺绣围巾" in cart_titles(s, b)
    add_to_cart(s, b, p2, token_from_a)  # a CSRF token from server A is valid on server B
    page = cart_titles(s, a)
    assert "手工刺绣围巾" in page and "蓝印花布包" in page

    # She logs in on B; her cart moves to the database; A sees her signed in with both items.
    assert login(s, b, cluster.buyers[-1]).status_code == 302
    page = cart_titles(s, a)
    assert "买家" in page and "手工刺绣围巾" in page and "蓝印花布包" in page
    # ... and checks out on A with the form B rendered.
    form = s.get(f"{b.url}/checkout", timeout=10).text
    r = s.post(f"{a.url}/checkout", timeout=30, allow_redirects=False,
               data={"csrf_token": csrf(form), "checkout_token": CHECKOUT_TOKEN.search(form).group(1), **SHIPPING})
    assert r.status_code == 302 and "/pay" in r.headers["Location"], r.text[:300]


def test_stock_stays_exact_when_buyers_on_both_servers_race(cluster):
    from sqlalchemy import func, select

    from market.extensions import db
    from market.models import Order, OrderLine, Product

    def prepare(i: int):
        server = (cluster.a, cluster.b)[i % 2]
        s = browser(f"127.0.0.{10 + i}")  # each buyer her own address: the login limit is per address
        assert login(s, server, cluster.buyers[i]).status_code == 302
        add_to_cart(s, server, cluster.race_product_id, csrf(s.get(f"{server.url}/products/{cluster.race_product_id}",
                                                                      timeout=10).text))
        form = s.get(f"{server.url}/checkout", timeout=10).text
        return s, server, {"csrf_token": csrf(form), "checkout_token": CHECKOUT_TOKEN.search(form).group(1), **SHIPPING}

    with ThreadPoolExecutor(6) as pool:
        ready = list(pool.map(prepare, range(RACE_BUYERS)))
    start = threading.Barrier(len(ready))
    outcomes, lock = [], threading.Lock()

    def submit(args):
        s, server, form = args
        start.wait(timeout=30)
        r = s.post(f"{server.url}/checkout", data=form, timeout=60, allow_redirects=False)
        with lock:
            outcomes.append("placed" if "/pay" in r.headers.get("Location", "") else "refused")

    threads = [threading.Thread(target=submit, args=(x,)) for x in ready]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)

    assert outcomes.count("placed") == RACE_UNITS and outcomes.count("refused") == RACE_BUYERS - RACE_UNITS
    with cluster.app.app_context():
        sold = db.session.scalar(select(func.sum(OrderLine.quantity)).join(Order, OrderLine.order_id == Order.id)
                                 .where(OrderLine.product_id == cluster.race_product_id))
        assert sold == RACE_UNITS
        assert db.session.scalar(select(Product.stock).where(Product.id == cluster.race_product_id)) == 0
        db.session.remove()
        db.engine.dispose()


def test_login_rate_limit_is_counted_once_for_all_servers(cluster):
    s = browser("127.0.0.2")
    codes = []
    for attempt in range(6):  # the limit is 5 per minute; alternate servers
        server = (cluster.a, cluster.b)[attempt % 2]
        token = csrf(s.get(f"{server.url}/account/login", timeout=10).text)
        codes.append(s.post(f"{server.url}/account/login", timeout=30,
                            data={"email": "nobody@scale.example.cn", "password": "wrong-password", "csrf_token": token}
                            ).status_code)
    # With counters in each server's memory the 6th attempt would be the 3rd on its server.
    assert codes == [200] * 5 + [429]


def test_anonymous_pages_are_cached_once_for_all_servers(cluster):
    path = "/products?q=%E5%88%BA%E7%BB%A3"
    first = requests.get(cluster.a.url + path, timeout=10)
    second = requests.get(cluster.b.url + path, timeout=10)
    assert first.headers.get("X-Page-Cache") == "miss" and second.headers.get("X-Page-Cache") == "hit"
    assert first.text == second.text and "手工刺绣围巾" in second.text
    # A signed-in buyer never gets the visitors' page: at most the shared shell with her own
    # header filled in (market/serving.py), private to her.
    s = browser()
    email = cluster.buyers[-2]
    login(s, cluster.b, email)
    mine = s.get(cluster.a.url + path, timeout=10)
    assert mine.headers.get("X-Page-Cache", "shell").startswith("shell")
    assert "private" in mine.headers.get("Cache-Control", "")
    assert "买家" + email.split("@")[0].removeprefix("buyer") in mine.text and "手工刺绣围巾" in mine.text and mine.text != second.text


def test_paid_order_mail_goes_through_the_shared_queue_and_metrics_count_it(cluster, localstripe_url):
    import redis
    from rq import Queue
    from rq.registry import FinishedJobRegistry

    from bench.servers import flask_cli

    a, b = cluster.a, cluster.b
    s = browser()
    assert login(s, a, cluster.buyers[-2]).status_code == 302
    p1 = cluster.product_ids[0]
    add_to_cart(s, a, p1, csrf(s.get(f"{a.url}/products/{p1}", timeout=10).text))
    form = s.get(f"{a.url}/checkout", timeout=10).text
    r = s.post(f"{a.url}/checkout", timeout=30, allow_redirects=False,
               data={"csrf_token": csrf(form), "checkout_token": CHECKOUT_TOKEN.search(form).group(1), **SHIPPING})
    pay_url = r.headers["Location"]
    pay_page = s.get(f"{a.url}{pay_url}" if pay_url.startswith("/") else pay_url, timeout=10).text
    # What Stripe.js does in the browser: the card becomes a token at the payments API
    # (localstripe wants a secret key for it; Stripe.js uses the publishable one).
    tok = requests.post(f"{localstripe_url}/v1/tokens", auth=("sk_test_localstripe", ""), timeout=10, data={
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123",
    }).json()
    paid = s.post(f"{a.url}{pay_url.split(a.url)[-1]}", json={"token": tok["id"], "card": tok["card"]["id"]},
                  headers={"X-CSRFToken": csrf(pay_page), "X-Request-ID": "scale-test-payment-0001"}, timeout=30)
    assert paid.json()["status"] == "paid", paid.text
    assert paid.headers["X-Request-ID"] == "scale-test-payment-0001"

    # The notifications wait in Redis for any machine's worker.
    connection = redis.Redis.from_url(REDIS_URL)
    queue = Queue(cluster.queue, connection=connection)
    assert queue.count >= 2  # the buyer's receipt and the artisan's "please ship"
    flask_cli(["worker", "--burst"], cluster.env, timeout=60)
    assert queue.count == 0
    assert len(FinishedJobRegistry(cluster.queue, connection=connection).get_job_ids()) >= 2

    # The periodic reconciliation is enqueued once per period, however many schedulers run.
    period = PERIODIC["reconcile_payments"]
    started = time.time()
    flask_cli(["scheduler", "--once"], cluster.env, timeout=60)
    flask_cli(["scheduler", "--once"], cluster.env, timeout=60)
    periods_spanned = int(time.time() // period) - int(started // period) + 1
    # Two schedulers in one period enqueue once; a period boundary between them allows two.
    # (Other periodic tasks, such as the help desk's sweep, are enqueued beside it.)
    reconciles = [job for job in queue.jobs if job.args and job.args[0] == "reconcile_payments"]
    assert 1 <= len(reconciles) <= min(periods_spanned, 2)
    flask_cli(["worker", "--burst"], cluster.env, timeout=60)

    # /metrics adds up A's two workers; B never saw this checkout.
    metrics_a = requests.get(f"{a.url}/metrics", timeout=10).text
    assert re.search(r"^market_orders_paid_total 1\.0$", metrics_a, re.MULTILINE), metrics_a[-2000:]
    assert 'market_http_request_duration_seconds_count{endpoint="orders.checkout"' in metrics_a
    assert "market_orders_paid_total 0.0" in requests.get(f"{b.url}/metrics", timeout=10).text
    # ... and refuses anyone coming through a proxy without the token.
    assert requests.get(f"{a.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10).status_code == 403
    # The JSON log line of the payment request carries its id.
    assert '"request_id": "scale-test-payment-0001"' in a.log_path.read_text()
