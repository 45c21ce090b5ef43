"""A payments API that hangs (accepts connections, never answers: a SIGSTOPped localstripe)
under gunicorn: checkout never waits on it, paying gives up within the configured budget and
says so (no 500, no WORKER TIMEOUT), the order and its stock stay as they were, and once the
API resumes the reconcile job settles what happened meanwhile. Times are asserted against
the budget plus a generous margin; the measured times are in `make bench` (bench/hung_api.py)."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from market.extensions import db
from market.models import Order
from market.orders import operations
from market.payments import services as payments
from tests.support import (
    GUNICORN_START_TIMEOUT,
    HungLocalstripe,
    csrf_of,
    gunicorn_env,
    http_login,
    place,
    stock_of,
    succeed_at_api,
)

BUDGET = 3.0  # STRIPE_CALL_BUDGET for this test (the default is 8 s)
MARGIN = 5.0  # generous: two cores shared with other work


@pytest.fixture
def hung():
    api = HungLocalstripe()
    yield api
    api.stop()


@pytest.fixture
def server(app, hung, tmp_path):
    from bench.servers import start_gunicorn

    app.config.update(STRIPE_API_BASE=hung.url, STRIPE_CALL_BUDGET=BUDGET, STRIPE_RETRY_BACKOFF=0.05)
    env = gunicorn_env(app, hung.url, tmp_path, STRIPE_CALL_BUDGET=BUDGET, STRIPE_RETRY_BACKOFF=0.05)
    # A slow start on a loaded machine is not what this test is about: wait as long as it takes.
    srv = start_gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log", timeout=GUNICORN_START_TIMEOUT)
    yield srv
    srv.stop()


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_hung_payments_api_never_blocks_checkout_and_nothing_is_lost(app, hung, server, make_user, make_artisan,
                                                                    make_product):
    buyer = make_user()
    scarf = make_product(make_artisan(), title="手工刺绣围巾", price_fen=12800, stock=5)
    other = make_product(make_artisan(), title="象山海鲜礼盒", price_fen=26800, stock=3)
    # An order paid at the API whose browser never came back, and one that nobody pays.
    paid_unseen = place(make_user(), {other: 1})
    succeed_at_api(paid_unseen)
    overdue = place(make_user(), {other: 1})
    payments.ensure_payment_intent(overdue)
    db.session.execute(db.update(Order).where(Order.id == overdue.id).values(expires_at=operations.utcnow()))
    db.session.commit()

    hung.hang()
    base = server.url
    s = http_login(base, buyer.email)
    product_page = s.get(f"{base}/products/{scarf.id}", timeout=30).text
    s.post(f"{base}/cart/add", data={"product_id": scarf.id, "quantity": 2, "csrf_token": csrf_of(product_page)},
           timeout=30)
    form = s.get(f"{base}/checkout", timeout=30).text
    data = {"csrf_token": csrf_of(form), "ship_name": "林小雨", "ship_phone": "13800138000",
            "ship_address": "浙江省宁波市象山县丹西街道靖南大街 88 号",
            "checkout_token": re.search(r'name="checkout_token"[^>]*value="([^"]+)"', form).group(1)}
    # Neither checkout nor the pages call the API: nothing reaches the hung server (asked of the
    # kernel, not timed: a loaded CI machine can take seconds for any page).
    untouched = hung.waiting()
    resp = s.post(f"{base}/checkout", data=data, allow_redirects=False, timeout=60)
    assert resp.status_code == 302 and "/pay" in resp.headers["Location"]
    pay_page = s.get(base + resp.headers["Location"], timeout=60)
    assert pay_page.status_code == 200 and 'id="payment-form"' in pay_page.text
    assert hung.waiting() == untouched, "checkout or the pay page called the payments API"
    order = db.session.scalars(db.select(Order).where(Order.buyer_id == buyer.id)).one()
    paid, pay_s = _timed(lambda: s.post(f"{base}/orders/{order.id}/pay", json={"token": "tok_1", "card": "card_1"},
                                         headers={"X-CSRFToken": csrf_of(pay_page.text)}, timeout=60))
    assert paid.status_code == 503 and paid.json()["status"] == "unavailable"  # told, not a 500
    assert pay_s < BUDGET + MARGIN
    after_pay = hung.waiting()
    assert after_pay != untouched  # paying did ask the API (and gave up within the budget)
    order_page = s.get(f"{base}/orders/{order.id}", timeout=60)
    assert order_page.status_code == 200 and hung.waiting() == after_pay

    # The reconcile job gives up within the budget too, and changes nothing it cannot confirm.
    _, reconcile_s = _timed(payments.reconcile)
    assert reconcile_s < 2 * (BUDGET + MARGIN)
    db.session.expire_all()
    assert {o.id: o.status for o in db.session.scalars(db.select(Order))} == {
        paid_unseen.id: "pending_payment", overdue.id: "pending_payment", order.id: "pending_payment"}
    assert stock_of(scarf) == 3 and stock_of(other) == 1  # every reservation held
    assert "WORKER TIMEOUT" not in server.log_tail(400)

    # The API resumes: the job finds the unseen payment and cancels the overdue one; the buyer pays.
    hung.resume()
    payments.reconcile(now=operations.utcnow() + timedelta(minutes=2))
    db.session.expire_all()
    assert db.session.get(Order, paid_unseen.id).status == "paid"
    overdue = db.session.get(Order, overdue.id)
    assert overdue.status == "cancelled" and overdue.cancel_reason == "expired" and stock_of(other) == 2
    from tests.support import pay_card

    assert pay_card(db.session.get(Order, order.id)).status == "paid"
    assert stock_of(scarf) == 3
