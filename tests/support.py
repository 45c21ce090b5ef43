"""Helpers the tests share: import them from here (`from tests.support import login`),
never from another test module. Plain `pytest` from the repository root finds this module
through `pythonpath` in pyproject.toml."""
from __future__ import annotations

import os
import uuid

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from market.config import TestConfig, normalise_database_url
from market.extensions import db
from market.localstripe_proc import free_port
from market.models import Order, Product
from market.orders import operations
from market.orders import services as orders
from market.payments import services as payments

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
DEFAULT_PASSWORD = "correct-horse-battery"


def create_pg_database(base_url: str) -> tuple[str, callable]:
    """A private database per test session, so parallel runs never share tables."""
    url = make_url(normalise_database_url(base_url))
    name = f"sm_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def app_config(database_url: str, upload_dir) -> dict:
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_FOLDER=upload_dir)
    return config



# ---- signing in -------------------------------------------------------------------------

def login(client, user_or_email, password=DEFAULT_PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/account/login", data={"email": email, "password": password})


def login_in_browser(page, base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(f"{base_url}/account/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/")



# ---- orders and payments against localstripe ------------------------------------------

ADDRESS = orders.Address("林小雨", "138 0013 8000", "浙江省宁波市象山县丹西街道靖南大街 88 号")
VISA = "4242424242424242"
DECLINED = "4000000000000341"
THREE_D_SECURE = "4000002500003155"


def use_localstripe(app, url: str) -> None:
    """Point the app at a clean localstripe."""
    requests.delete(f"{url}/_config/data", timeout=5)
    app.config.update(STRIPE_API_BASE=url, STRIPE_RETRY_BACKOFF=0.01)


def use_unreachable_api(app) -> None:
    app.config.update(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_RETRY_BACKOFF=0.01,
                      STRIPE_CONNECT_TIMEOUT=0.5)


def place(buyer, items: dict, token: str | None = None) -> Order:
    return operations.place_order(buyer, {p.id: q for p, q in items.items()}, ADDRESS, token or uuid.uuid4().hex)


def mark_paid(order: Order) -> str:
    """The order marked paid in the database only (tests of fulfilment that need no API)."""
    return operations.mark_paid(order.id, order.total_fen)


def get_pi(url: str, pi_id: str) -> dict:
    return requests.get(f"{url}/v1/payment_intents/{pi_id}", auth=("sk_test_x", ""), timeout=5).json()


def succeed_at_api(order: Order, number: str = VISA) -> dict:
    """The order's PaymentIntent paid at the API behind the app's back (as a buyer whose
    browser and webhook never report back): the app knows nothing of it yet."""
    payment = payments.ensure_payment_intent(order)
    api = payments.client()
    pm = api.create_card_payment_method(number=number, exp_month=12, exp_year=2034, cvc="123")
    api.attach_payment_method(payment.stripe_payment_intent_id, pm["id"], idempotency_key=uuid.uuid4().hex)
    return api.confirm_payment_intent(payment.stripe_payment_intent_id, idempotency_key=uuid.uuid4().hex)


def refunds_at_api(url: str, pi_id: str) -> list[dict]:
    data = requests.get(f"{url}/v1/refunds", auth=("sk_test_x", ""), params={"payment_intent": pi_id, "limit": 100},
                        timeout=5).json()
    return data["data"]


def refund_totals_consistent(order_id: int) -> bool:
    return operations.refund_totals_consistent(order_id)


def pay_card(order: Order, number: str = VISA):
    return payments.pay_with_card(order, number=number, exp_month=12, exp_year=2034, cvc="123")


def stock_of(product) -> int:
    db.session.expire_all()
    return db.session.get(Product, product.id).stock


def payment_intents(url: str, order_id: int) -> list[dict]:
    data = requests.get(f"{url}/v1/payment_intents", auth=("sk_test_x", ""), params={"limit": 100}, timeout=5).json()
    return [pi for pi in data["data"] if pi["metadata"].get("order_id") == str(order_id)]


def checkout_data(client, **fields) -> dict:
    """The checkout form as a browser submits it: the token is the one the page carries."""
    import re

    page = client.get("/checkout").get_data(as_text=True)
    match = re.search(r'name="checkout_token"[^>]*value="([^"]+)"', page)
    data = {"ship_name": ADDRESS.name, "ship_phone": ADDRESS.phone, "ship_address": ADDRESS.address,
            "checkout_token": match.group(1) if match else ""}
    data.update(fields)
    return data


# ---- racing in threads and in separate processes ----------------------------------------

def race_in_threads(app, jobs: list, timeout: float = 60) -> list:
    """Run each callable in its own thread with its own app context (own session and
    connection, as concurrent requests have), all released at the same moment. Returns each
    one's result, or the exception it raised."""
    import threading

    start = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        with app.app_context():
            try:
                start.wait(timeout=30)
                results[i] = job()
            except BaseException as exc:  # noqa: BLE001  reported to the test
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


REFUND_PROCESS = """
import sys, time
from market import create_app
from market.orders.errors import OrderError
from market.payments import services as payments
from tests.support import app_config
db_url, upload_dir, stripe_url, order_id, amount, start_at = sys.argv[1:7]
app = create_app({**app_config(db_url, upload_dir), "STRIPE_API_BASE": stripe_url})
with app.app_context():
    time.sleep(max(0.0, float(start_at) - time.time()))
    try:
        record = payments.refund(None, int(order_id), amount=int(amount) if amount != "all" else None)
        print("refunded", record.id, record.status)
    except OrderError:
        print("refused")
"""


def refund_in_processes(app, order_id: int, amounts: list, upload_dir) -> list[str]:
    """Each refund asked by a separate Python process (own interpreter, own connection pool),
    all starting at the same wall-clock moment. Returns each process's last output line."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    start_at = time.time() + 6  # every interpreter has started and connected by then
    procs = [subprocess.Popen(
        [sys.executable, "-c", REFUND_PROCESS, app.config["SQLALCHEMY_DATABASE_URI"], str(upload_dir),
         app.config["STRIPE_API_BASE"], str(order_id), str(amount), str(start_at)],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for amount in amounts]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(out.strip().splitlines()[-1] if out.strip() else "")
    return outputs


# ---- a payments API that hangs ----------------------------------------------------------

class HungLocalstripe:
    """A private localstripe that can be frozen with SIGSTOP: the kernel still accepts
    connections on its port, nothing ever answers (a hung API, not a down one); SIGCONT
    resumes it."""

    def __init__(self):
        from market.localstripe_proc import start_localstripe

        self.port = free_port()
        self.proc = start_localstripe(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def hang(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        from market.localstripe_proc import stop

        self.resume()
        stop(self.proc)


def gunicorn_env(app, stripe_url: str, data_dir, **extra) -> dict[str, str]:
    """The environment of a gunicorn server over the test's own database."""
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": uuid.uuid4().hex * 2,
           "DATA_DIR": str(data_dir), "MARKET_ENV": "development", "STRIPE_API_BASE": stripe_url,
           "REDIS_URL": "", "CHECKOUT_RATE_LIMIT": "1000 per minute", "LOGIN_RATE_LIMIT": "1000 per minute",
           "LOG_FORMAT": "text", "CACHE_TYPE": "NullCache", "PAGE_CACHE_SECONDS": "0"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def http_login(base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> requests.Session:
    import re

    s = requests.Session()
    page = s.get(f"{base_url}/account/login", timeout=30).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = s.post(f"{base_url}/account/login", data={"email": email, "password": password, "csrf_token": csrf},
               allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.status_code
    return s


def csrf_of(html: str) -> str:
    import re

    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
