"""Helpers the tests share: import them from here (`from tests.support import login`),
never from another test module. Plain `pytest` from the repository root finds this module
through `pythonpath` in pyproject.toml."""
from __future__ import annotations

import io
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import MultiDict

from market import mail
from market.config import TestConfig, normalise_database_url
from market.extensions import cache, db
from market.localstripe_proc import free_port
from market.models import Order, OrderLine, Product, SubOrder
from market.orders import operations
from market.orders import services as orders
from market.payments import services as payments

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
DEFAULT_PASSWORD = "correct-horse-battery"


# Databases this process made and has been given back, emptied, for the next create_pg_database.
_PG_POOL: list[tuple[str, str]] = []  # (base url, database name)
_PG_MADE: list[tuple[str, str]] = []


def create_pg_database(base_url: str) -> tuple[str, callable]:
    """A private, empty database (per test session, or per migration test), so parallel runs
    never share tables. `drop()` gives it back: its schema is dropped and made anew, and the next
    call in this process gets it; `drop_pg_databases()` (at the end of the session) drops them all.
    Not DROP DATABASE each time: PostgreSQL makes every DROP DATABASE wait for a checkpoint of the
    whole server, which on CI's busy server took up to a minute per migration test."""
    url = make_url(normalise_database_url(base_url))
    name = next((n for b, n in _PG_POOL if b == base_url), None)
    if name is not None:
        _PG_POOL.remove((base_url, name))
    else:
        name = f"sm_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A throwaway database: a commit need not wait for its WAL to reach the disk (on a busy
            # CI machine that wait is most of a small commit). What the tests see is unchanged.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        admin.dispose()
        _PG_MADE.append((base_url, name))
    own_url = url.set(database=name)

    def drop():
        """Empty it for the next user (as DROP DATABASE ... WITH (FORCE) would: other sessions
        on it are ended first), or drop it if that fails."""
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            engine = create_engine(own_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(text("SET lock_timeout = '30s'"))
                    conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
            finally:
                engine.dispose()
            _PG_POOL.append((base_url, name))
        except Exception:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            _PG_MADE.remove((base_url, name))
        finally:
            admin.dispose()

    return own_url.render_as_string(hide_password=False), drop


def drop_pg_databases() -> None:
    """Drop every database create_pg_database made in this process (tests/conftest.py calls it
    when the session ends, interrupted or not)."""
    while _PG_MADE:
        base_url, name = _PG_MADE.pop()
        admin = create_engine(make_url(normalise_database_url(base_url)), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()
    _PG_POOL.clear()


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



# ---- forms as a browser sends them ------------------------------------------------------

def submit_form(client, url: str, fields: dict | None = None, *, action: str | None = None, **kwargs):
    """Open `url`, fill its POST form as a browser does (`page_form`), change `fields` (a name ->
    value or list of values; None leaves the field out, as an unticked box) and submit it.
    `action` picks the form by its action path; by default the form that posts to the page."""
    form = page_form(client, url, action="" if action is None else action, method="post")
    return form.submit(client, fields, **kwargs)


# ---- mail and cookies -------------------------------------------------------------------

def mails_to(address: str) -> list:
    return [m for m in mail.outbox() if m["To"] == address]


def link_in(message, path_prefix: str) -> str:
    """The path (and query) of the first link in a mail whose path starts with `path_prefix`."""
    for url in re.findall(r"https?://\S+", message.get_content()):
        parts = urlsplit(url)
        if parts.path.startswith(path_prefix):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no {path_prefix} link in: {message.get_content()}")


def cookie(client, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found else None


def client_with_cookies(app, **cookies: str):
    """A fresh client (another browser) that sends only these cookies, as an attacker replaying
    captured values would."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


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


def move_delivery_back(sub_id: int, days: int) -> None:
    """The parcel's delivery moved `days` back in the database, as time would."""
    db.session.expire_all()
    when = db.session.get(SubOrder, sub_id).delivered_at - timedelta(days=days)
    db.session.execute(db.update(SubOrder).where(SubOrder.id == sub_id).values(delivered_at=when))
    db.session.commit()


def ship_and_deliver(by, sub_id: int, days_ago: int = 0) -> None:
    """The parcel shipped and delivered as recorded by `by` (its artisan, or staff), `days_ago`
    days ago (0: now)."""
    operations.ship(by, sub_id, "顺丰", "SF1234567890")
    operations.deliver(by, sub_id)
    db.session.expire_all()
    if days_ago:
        move_delivery_back(sub_id, days_ago)


def delivered_line(buyer, product, *, deliver: bool = True) -> OrderLine:
    """The line of a paid order of one `product` by `buyer`, shipped by its artisan and (unless
    `deliver` is False) delivered: what a verified buyer's review or a refund request needs."""
    order = place(buyer, {product: 1})
    mark_paid(order)
    db.session.expire_all()
    sub = order.sub_orders[0]
    seller = product.artisan.user
    operations.ship(seller, sub.id, "顺丰", "SF1234567890")
    if deliver:
        operations.deliver(seller, sub.id)
    db.session.expire_all()
    return order.lines[0]


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


# ---- browser ------------------------------------------------------------------------------

# How long a browser test waits for a condition (Playwright's actions, waits and `expect`). A
# timeout only costs time when a test fails; 15 s was too short on a loaded two-core CI machine
# (a post that refits the matcher took longer). conftest sets it for every page and for expect.
BROWSER_TIMEOUT_MS = 45_000

def watch_csp_violations(page) -> list[str]:
    """Console messages in which Chromium reports something the Content-Security-Policy
    refused (an inline style, a script from another origin...). The list fills as the page runs."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    return violations


def image_loads(page, selector: str, timeout_ms: int = BROWSER_TIMEOUT_MS) -> bool:
    """True once the first image matching ``selector`` has loaded with real pixels. Images load
    after the page's load event when they are lazy or their src was just switched, so this waits;
    a broken image never becomes complete with a width, so it still fails on a bad URL."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    script = ("sel => { const img = document.querySelector(sel);"
              " if (!img) return false; img.loading = 'eager'; img.scrollIntoView();"
              " return img.complete && img.naturalWidth > 0; }")
    try:
        page.wait_for_function(script, arg=selector, timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def image_upload(size=(800, 600), colour=(200, 30, 90), fmt="PNG", name="photo.png"):
    """An image as a browser would send it: (stream, file name)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    buf.seek(0)
    return buf, name


# ---- forms as a browser submits them -------------------------------------------------------

class _FormParser(HTMLParser):
    """Every <form> of a page with what a browser would send for it unchanged."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[BrowserForm] = []
        self._form: BrowserForm | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = BrowserForm(action=a.get("action", ""), method=a.get("method", "get").lower(),
                                     enctype=a.get("enctype", "application/x-www-form-urlencoded"), attrs=a)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind == "file":
                form.fields.append((name, FILE_LEFT_EMPTY))
            else:
                form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name:
            form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name and "disabled" not in a:
            self._select = {"name": name, "multiple": "multiple" in a, "options": [], "selected": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name and "disabled" not in a:
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            o = self._option
            value = o["value"] if o["value"] is not None else o["text"].strip()
            self._select["options"].append(value)
            if o["selected"]:
                self._select["selected"].append(value)
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            s = self._select
            chosen = s["selected"] if s["multiple"] else (s["selected"][-1:] or s["options"][:1])
            self._form.fields.extend((s["name"], v) for v in chosen)
            self._form.choices[s["name"]] = s["options"]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = self._textarea["text"]
            text = text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text
            self._form.fields.append((self._textarea["name"], text))
            self._textarea = None
        elif tag == "form":
            self._form = None


FILE_LEFT_EMPTY = object()


@dataclass
class BrowserForm:
    """A form as rendered: `submit` sends it as Chromium would, with every field the page
    filled in (hidden CSRF token included), an empty file part for each file input left
    empty, and only the changes the test names."""

    action: str
    method: str
    enctype: str
    attrs: dict
    fields: list = field(default_factory=list)
    buttons: list = field(default_factory=list)
    choices: dict = field(default_factory=dict)
    page_url: str = ""

    def value(self, name: str):
        values = [v for k, v in self.fields if k == name]
        return values[0] if len(values) == 1 else values

    def names(self) -> set[str]:
        return {k for k, _ in self.fields} | set(self.choices)

    def payload(self, changes: dict | None = None, files: dict | None = None, button: tuple | None = None):
        changes, files = changes or {}, files or {}
        for name in list(changes) + list(files):
            assert name in self.names() or name in dict(self.buttons), f"the form has no field {name!r}"
        out: list[tuple[str, object]] = []
        done: set[str] = set()
        for name, value in self.fields + [(n, None) for n in changes if n not in {k for k, _ in self.fields}]:
            if name in files:
                if name not in done:
                    out.extend((name, f) for f in files[name])
            elif name in changes:
                new = changes[name]
                if name not in done and new is not None:  # None: left out, as an unticked box
                    out.extend((name, v) for v in (new if isinstance(new, list | tuple) else [new]))
            elif value is FILE_LEFT_EMPTY:
                out.append((name, (io.BytesIO(b""), "")))  # what a browser sends for an empty file input
            elif value is not None:
                out.append((name, value))
            done.add(name)
        if button:
            out.append(button)
        return MultiDict(out)

    def submit(self, client, changes: dict | None = None, files: dict | None = None, button: tuple | None = None,
               **kwargs):
        url = urljoin(self.page_url, self.action) if self.action else self.page_url
        data = self.payload(changes, files, button)
        if self.method == "get":
            return client.get(url, query_string=data, **kwargs)
        if self.enctype == "multipart/form-data":
            return client.post(url, data=data, content_type="multipart/form-data", **kwargs)
        assert not any(isinstance(v, tuple) for v in data.values()), "files need enctype=multipart/form-data"
        return client.post(url, data=data, **kwargs)


def forms_on(html: str, page_url: str) -> list[BrowserForm]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.page_url = page_url
    return parser.forms


def page_form(client, url: str, *, action: str | None = None, having: str | None = None,
              method: str | None = None) -> BrowserForm:
    """GET `url` and return its form that posts to `action` (a path, matched at the end of the
    form's action; "" for the page itself) and/or has a field named `having`."""
    resp = client.get(url)
    assert resp.status_code == 200, f"GET {url}: {resp.status_code}"
    path = urlsplit(url).path
    for form in forms_on(resp.get_data(as_text=True), url):
        target = urlsplit(urljoin(url, form.action or url)).path
        if action is not None and target != (action or path):
            continue
        if having is not None and having not in form.names():
            continue
        if method is not None and form.method != method:
            continue
        if form.attrs.get("role") == "search" and action is None:
            continue
        return form
    raise AssertionError(f"no form (action={action!r}, having={having!r}) on {url}")


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


# ---- localstripe for the tests ----------------------------------------------------------

# localstripe imports aiohttp and its whole API before it listens: 20 s (the default wait) was
# not enough on a loaded two-core CI machine, and the session fixture's failure then errored
# every test that pays. A slow start is not a failure; a process that exits is.
LOCALSTRIPE_START_TIMEOUT = 120.0


def start_test_localstripe():
    """(port, process) of a localstripe on a free port, as market.localstripe_proc starts it but
    with a longer wait, and stopped again if the start fails or is interrupted (CI's SIGTERM
    arrives as KeyboardInterrupt: see conftest) so nothing is left running. The port is chosen
    before the child binds it, so another process may take it in between: then the child
    exits and we try another port."""
    import subprocess
    import sys
    import time

    from market.localstripe_proc import port_open, stop

    for attempt in range(3):
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "market.localstripe_server", "--port", str(port),
                                 "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + LOCALSTRIPE_START_TIMEOUT
            while proc.poll() is None and not port_open(port):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"localstripe did not start on port {port} within {LOCALSTRIPE_START_TIMEOUT}s")
                time.sleep(0.1)
        except BaseException:
            stop(proc)
            raise
        if proc.poll() is None:
            return port, proc
        if attempt == 2:
            raise RuntimeError(f"localstripe exited with code {proc.returncode}")
    raise AssertionError("unreachable")


# ---- a payments API that hangs ----------------------------------------------------------

class HungLocalstripe:
    """A private localstripe that can be frozen with SIGSTOP: the kernel still accepts
    connections on its port, nothing ever answers (a hung API, not a down one); SIGCONT
    resumes it."""

    def __init__(self):
        self.port, self.proc = start_test_localstripe()
        self.url = f"http://127.0.0.1:{self.port}"

    def hang(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGSTOP)

    def waiting(self) -> tuple[int, int]:
        """(connections, bytes) that reached the frozen server and wait there unread, from the
        kernel's socket table: any call to the API while it hangs changes it, however slow or fast
        the machine is (a timing check cannot tell a slow page from one that called the API)."""
        from pathlib import Path

        connections = unread = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] != "0A":  # not LISTEN
                    connections += 1
                    unread += int(fields[4].split(":")[1], 16)  # rx_queue
        return connections, unread

    def resume(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        from market.localstripe_proc import stop

        self.resume()
        stop(self.proc)


# bench.servers waits 30 s for gunicorn's first answer; two servers booting at once on a loaded
# two-core machine can take longer, and a slow boot is not what any test checks.
GUNICORN_START_TIMEOUT = 120.0


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


# ---- the help desk at a fixed moment -------------------------------------------------------

DESK_T0 = datetime(2026, 11, 2, 2, 0)  # 10:00 in Beijing, a Monday


def reload(obj):
    """The row as the database has it now (after other sessions changed it)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def case_data(**changes):
    from market.mentoring import services

    values = dict(business_name="阿芳海鲜干货", industry="seafood", stage="startup", district="象山县",
                  difficulties=["e_commerce", "live_streaming"], description="想开网店直播。", consent_to_share=True)
    values.update(changes)
    return services.CaseData(**values)


def intro_of(case, mentor):
    """The case's introduction to `mentor`, freshly read."""
    return next(i for i in reload(case).introductions if i.mentor_id == mentor.id)


# ---- production's caches and the SQL a request runs -------------------------------------

@contextmanager
def production_caches(app, *, page_cache_seconds: int):
    """The app with production's caches: a shared cache (SimpleCache standing in for Redis),
    the per-process copy, cached headers and cards; `page_cache_seconds` 0 turns off the
    visitors' page cache and the signed-in shells."""
    app.config.update(CATALOG_CACHE_SECONDS=60, CARD_CACHE_SECONDS=300, LOCAL_CACHE_SECONDS=5,
                      PAGE_CACHE_SECONDS=page_cache_seconds, READER_CACHE_SECONDS=120)
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60})
    try:
        yield app
    finally:
        cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})


@contextmanager
def statements():
    """The SQL statements run inside the block, as their texts."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def redis_or_skip(url: str):
    """A client of the Redis at `url` (TEST_REDIS_URL): the test is skipped when it is unset
    or unreachable, and fails instead when CI asks for the real services (REQUIRE_POSTGRES)."""
    import pytest
    import redis

    if not url:
        pytest.skip("needs TEST_REDIS_URL (Redis)")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_PG:
            pytest.fail(f"Redis at {url} is unreachable: {exc}")
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    return client
