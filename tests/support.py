"""Helpers the tests share: import them from here (`from tests.support import login`),
never from another test module. Plain `pytest` from the repository root finds this module
through `pythonpath` in pyproject.toml."""
from __future__ import annotations

import os
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import MultiDict

from market import mail
from market.config import TestConfig, normalise_database_url
from market.extensions import db
from market.localstripe_proc import free_port
from market.models import Order, Product
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



# ---- forms as a browser sends them ------------------------------------------------------

class _Forms(HTMLParser):
    """The forms of a page with what a browser would submit: hidden fields (the CSRF token),
    text values, checked boxes, selected options, textareas, an empty part per file input;
    password inputs start empty; buttons are not sent."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "fields": MultiDict()})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.add(name, a.get("value", "on"))
            elif kind == "file":
                fields.add(name, (b"", ""))  # what a browser sends when no file is chosen
            else:
                fields.add(name, "" if kind == "password" else a.get("value", ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                fields.add(self._select, value)
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.forms[-1]["fields"].add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.forms[-1]["fields"].add(self._textarea, "".join(self._text).removeprefix("\n"))
            self._textarea = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def submit_form(client, url: str, fields: dict | None = None, *, action: str | None = None, **kwargs):
    """Open `url`, fill its POST form as a browser does, change `fields` (a name -> value or list
    of values; None leaves the field out, as an unticked box) and submit it to the form's action
    (the page's own URL, query string included, when the form names none). `action` picks the
    form by its action path; by default the first POST form that posts to the page itself."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    forms = [f for f in page_forms(page.get_data(as_text=True)) if f["method"] == "post"]
    if action is None:
        form = next(f for f in forms if not f["action"])
    else:
        form = next(f for f in forms if urlsplit(urljoin(url, f["action"])).path == action)
    data = MultiDict(form["fields"])
    for name, value in (fields or {}).items():
        data.poplist(name)
        if value is not None:
            data.setlist(name, value if isinstance(value, list) else [value])
    return client.post(urljoin(url, form["action"]) if form["action"] else url, data=data, **kwargs)


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
    return orders.place_order(buyer, {p.id: q for p, q in items.items()}, ADDRESS, token or uuid.uuid4().hex)


def pay_card(order: Order, number: str = VISA):
    return payments.pay_with_card(order, number=number, exp_month=12, exp_year=2034, cvc="123")


def stock_of(product) -> int:
    db.session.expire_all()
    return db.session.get(Product, product.id).stock


def payment_intents(url: str, order_id: int) -> list[dict]:
    data = requests.get(f"{url}/v1/payment_intents", auth=("sk_test_x", ""), params={"limit": 100}, timeout=5).json()
    return [pi for pi in data["data"] if pi["metadata"].get("order_id") == str(order_id)]
