"""The payments webhook: a valid signature is applied once; forged, replayed-stale, unsigned
and malformed events are refused with 400 and change nothing; and even a correctly signed
event changes only what the payments API confirms (the body says what to look at)."""
from __future__ import annotations

import contextlib
import json
import time
import uuid

import pytest

from market.extensions import db
from market.models import Order, Product, Refund, WebhookEvent
from market.orders import operations
from market.payments import webhooks
from tests.support import (
    DECLINED,
    pay_card,
    place,
    refund_totals_consistent,
    refunds_at_api,
    stock_of,
    succeed_at_api,
    use_localstripe,
    use_unreachable_api,
)

SECRET = "whsec_test_secret"


@pytest.fixture
def shop(app, make_user, make_artisan, make_product, localstripe_url):
    use_localstripe(app, localstripe_url)
    app.config["STRIPE_WEBHOOK_SECRET"] = SECRET
    buyer = make_user(("buyer",))
    artisan = make_artisan(name="秀英绣坊")
    product = make_product(artisan, title="手工刺绣围巾", price_fen=12800, stock=5)
    return buyer, product


def _pending_order_with_pi(buyer, product, qty=2) -> Order:
    """A pending order with a real (unpaid) PaymentIntent on localstripe."""
    from market.payments.services import ensure_payment_intent

    order = place(buyer, {product: qty})
    ensure_payment_intent(order)
    db.session.expire_all()
    return db.session.get(Order, order.id)


def _pi_event(order: Order, event_type: str, status: str, *, error: dict | None = None) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex[:14]}", "object": "event", "type": event_type, "created": int(time.time()),
        "data": {"object": {
            "id": order.payment_intent_id, "object": "payment_intent", "amount": order.total_fen, "currency": "cny",
            "status": status, "metadata": {"order_id": str(order.id)}, "last_payment_error": error,
            "client_secret": order.payment.client_secret,
        }},
    }


def _post(client, event: dict, *, secret: str = SECRET, timestamp: int | None = None, header: str | None = None):
    body = json.dumps(event).encode()
    sig = header if header is not None else webhooks.sign(body, secret, timestamp)
    return client.post("/payments/webhook", data=body, headers={"Stripe-Signature": sig, "Content-Type": "application/json"})


def _status(order_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Order, order_id).status


def test_valid_signed_succeeded_event_marks_the_order_paid(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    succeed_at_api(order)  # paid at the API; the browser never came back
    assert _status(order.id) == "pending_payment"
    resp = _post(client, _pi_event(order, "payment_intent.succeeded", "succeeded"))
    assert resp.status_code == 200 and resp.get_json()["result"] == "processed"
    assert _status(order.id) == "paid"
    assert stock_of(product) == 3


def test_forged_signature_is_refused_and_changes_nothing(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    event = _pi_event(order, "payment_intent.succeeded", "succeeded")
    assert _post(client, event, secret="whsec_attacker").status_code == 400
    assert _post(client, event, header="").status_code == 400
    assert _post(client, event, header="t=abc,v1=00").status_code == 400
    # A valid signature of a different body (tampered amount or status) is refused too.
    body = json.dumps(event).encode()
    sig = webhooks.sign(body, SECRET)
    tampered = json.dumps({**event, "type": "payment_intent.payment_failed"}).encode()
    resp = client.post("/payments/webhook", data=tampered, headers={"Stripe-Signature": sig})
    assert resp.status_code == 400
    assert _status(order.id) == "pending_payment"
    assert db.session.query(WebhookEvent).count() == 0


def test_stale_event_outside_the_tolerance_window_is_refused(app, client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    event = _pi_event(order, "payment_intent.succeeded", "succeeded")
    old = int(time.time()) - app.config["STRIPE_WEBHOOK_TOLERANCE"] - 5
    assert _post(client, event, timestamp=old).status_code == 400
    future = int(time.time()) + app.config["STRIPE_WEBHOOK_TOLERANCE"] + 5
    assert _post(client, event, timestamp=future).status_code == 400
    assert _status(order.id) == "pending_payment"


def _decline_at_api(order):
    from market.payments.stripe_client import StripeError

    with contextlib.suppress(StripeError):
        succeed_at_api(order, DECLINED)


def test_replayed_event_is_applied_once(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    _decline_at_api(order)
    event = _pi_event(order, "payment_intent.payment_failed", "requires_payment_method",
                      error={"code": "card_declined", "message": "Your card was declined."})
    body = json.dumps(event).encode()
    sig = webhooks.sign(body, SECRET)
    first = client.post("/payments/webhook", data=body, headers={"Stripe-Signature": sig})
    again = client.post("/payments/webhook", data=body, headers={"Stripe-Signature": sig})  # replayed verbatim
    resigned = _post(client, event)  # re-sent later by the sender, freshly signed
    assert first.get_json()["result"] == "processed"
    assert again.get_json()["result"] == resigned.get_json()["result"] == "duplicate"
    assert _status(order.id) == "cancelled"
    assert stock_of(product) == 5  # released once, not three times


def test_payment_failed_webhook_releases_stock(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product, qty=3)
    assert stock_of(product) == 2
    _decline_at_api(order)
    _post(client, _pi_event(order, "payment_intent.payment_failed", "requires_payment_method",
                            error={"code": "card_declined"}))
    assert _status(order.id) == "cancelled"
    assert stock_of(product) == 5


def test_signed_success_for_a_payment_the_api_has_not_taken_changes_nothing(app, client, shop):
    """The development secret is public: an event signed with it claims success for a
    PaymentIntent that still requires a payment method at the API. Nothing changes."""
    from market.config import DEV_STRIPE_WEBHOOK_SECRET

    app.config["STRIPE_WEBHOOK_SECRET"] = DEV_STRIPE_WEBHOOK_SECRET  # a development app
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    for tweak in ({}, {"amount": 1}, {"metadata": {"order_id": "999"}}):
        event = _pi_event(order, "payment_intent.succeeded", "succeeded")
        event["data"]["object"].update(tweak)
        assert _post(client, event, secret=DEV_STRIPE_WEBHOOK_SECRET).status_code == 200
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "pending_payment" and order.paid_fen == 0
    assert order.payment.status == "requires_payment_method"
    assert stock_of(product) == 3


@pytest.mark.parametrize("obj", [
    "pi_just_a_string", None, [], {"id": 12}, {"id": "pi_x", "amount": "abc"}, {"id": "pi_x", "status": 3},
    {"id": "pi_x", "metadata": "order 1"}, {"id": "not-a-pi"},
])
def test_malformed_but_signed_events_are_refused_with_400(client, shop, obj):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    event = _pi_event(order, "payment_intent.succeeded", "succeeded")
    event["data"]["object"] = obj
    resp = _post(client, event)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == 400
    for bad in ({"data": "x"}, {"data": {"object": {"id": "re_x", "amount": [1]}}, "type": "refund.created"},
                {"type": "charge.refunded", "data": {"object": {"payment_intent": 5}}}):
        assert _post(client, {**event, "id": f"evt_{uuid.uuid4().hex[:8]}", **bad}).status_code == 400
    assert _post(client, {**event, "type": ["payment_intent.succeeded"]}).status_code == 400
    assert _status(order.id) == "pending_payment"
    assert db.session.query(WebhookEvent).count() == 0


def test_event_while_the_api_is_down_is_not_applied_and_retried_later(app, client, shop, localstripe_url):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    succeed_at_api(order)
    event = _pi_event(order, "payment_intent.succeeded", "succeeded")
    use_unreachable_api(app)
    assert _post(client, event).status_code == 503
    assert _status(order.id) == "pending_payment" and db.session.query(WebhookEvent).count() == 0
    use_localstripe_keep_data(app, localstripe_url)
    assert _post(client, event).get_json()["result"] == "processed"  # the sender's retry
    assert _status(order.id) == "paid"


def use_localstripe_keep_data(app, url):
    app.config.update(STRIPE_API_BASE=url)


def test_unknown_event_types_are_acknowledged_and_ignored(client, shop):
    resp = _post(client, {"id": "evt_x1", "type": "customer.created", "created": int(time.time()), "data": {"object": {}}})
    assert resp.status_code == 200 and resp.get_json()["result"] == "ignored"


def test_refund_reported_by_webhook_updates_the_order_once(client, shop):
    buyer, product = shop
    order = place(buyer, {product: 2})
    assert pay_card(order).status == "paid"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    # A refund made in the payments service's dashboard, not through this app.
    from market.payments.services import client as api

    made = api().create_refund(payment_intent=order.payment_intent_id, amount=5000, metadata={},
                               idempotency_key="dashboard-1")
    # The event body lies about the amount: only the API's answer counts.
    charge = {"id": "ch_1", "object": "charge", "payment_intent": order.payment_intent_id,
              "amount": order.total_fen, "amount_refunded": 99999,
              "refunds": {"data": [{"id": made["id"], "amount": 99999, "status": "succeeded"}]}}
    event = {"id": "evt_refund_1", "type": "charge.refunded", "created": int(time.time()), "data": {"object": charge}}
    assert _post(client, event).status_code == 200
    # The same refund reported again by another event type is not counted twice.
    event2 = {"id": "evt_refund_2", "type": "refund.created", "created": int(time.time()),
              "data": {"object": {"id": made["id"], "amount": 5000, "status": "succeeded",
                                  "payment_intent": order.payment_intent_id}}}
    assert _post(client, event2).status_code == 200
    # A refund the API does not know (a forged event): acknowledged, nothing recorded.
    event3 = {"id": "evt_refund_3", "type": "refund.created", "created": int(time.time()),
              "data": {"object": {"id": "re_forged_1", "amount": 5000, "status": "succeeded",
                                  "payment_intent": order.payment_intent_id}}}
    assert _post(client, event3).status_code == 200
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "paid" and order.refunded_fen == 5000
    assert db.session.query(Refund).filter_by(stripe_refund_id=made["id"]).count() == 1
    assert refund_totals_consistent(order.id)


def test_success_after_the_order_was_cancelled_is_refunded_automatically(client, shop, localstripe_url):
    """The bank said yes just as the reservation expired: the money goes back, recorded."""
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product, qty=2)
    assert operations.cancel_unpaid(order.id, "expired")
    assert stock_of(product) == 5
    succeed_at_api(order)
    _post(client, _pi_event(order, "payment_intent.succeeded", "succeeded"))
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "cancelled" and order.cancel_reason == "expired"
    assert order.paid_fen == order.total_fen and order.refunded_fen == order.total_fen
    [refund] = order.refunds
    assert refund.origin == "late_payment" and refund.status == "succeeded"
    assert [r["amount"] for r in refunds_at_api(localstripe_url, order.payment_intent_id)] == [order.total_fen]
    assert refund_totals_consistent(order.id)
    assert stock_of(product) == 5  # the stock stays with whoever has it now
    # Told again (another event, the reconcile job): nothing more is refunded.
    _post(client, _pi_event(order, "payment_intent.succeeded", "succeeded"))
    assert len(refunds_at_api(localstripe_url, order.payment_intent_id)) == 1


def test_signature_helpers_agree_with_stripe_format():
    body = b'{"id": "evt_1", "type": "x"}'
    header = webhooks.sign(body, SECRET, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert webhooks.verify(body, header, SECRET, now=1_700_000_100)["id"] == "evt_1"
    # Several v1 signatures (secret rotation): any match is enough.
    rotated = header.replace("v1=", "v1=" + "0" * 64 + ",v1=")
    assert webhooks.verify(body, rotated, SECRET, now=1_700_000_000)["id"] == "evt_1"
    with pytest.raises(webhooks.SignatureError):
        webhooks.verify(body, header, SECRET, now=1_700_000_301)
    with pytest.raises(webhooks.SignatureError):
        webhooks.verify(body, header, "whsec_other", now=1_700_000_000)


def test_localstripe_delivers_signed_webhooks_that_we_accept(app, shop, localstripe_url, live_server):
    """The real thing: localstripe signs and posts payment_intent.succeeded to our endpoint."""
    import requests

    requests.post(f"{localstripe_url}/_config/webhooks/market", timeout=5,
                  data={"url": f"{live_server.url}/payments/webhook", "secret": SECRET})
    buyer, product = shop
    order = place(buyer, {product: 1})
    try:
        assert pay_card(order).status == "paid"
        db.session.expire_all()
        pi_id = db.session.get(Order, order.id).payment_intent_id
        event_id = _succeeded_event_id(localstripe_url, pi_id)
        # localstripe posts it from its own event loop, later: poll (a loaded CI machine took >10 s)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and db.session.get(WebhookEvent, event_id) is None:
            db.session.rollback()
            time.sleep(0.2)
        # localstripe delivered it, signed; we verified and recorded it exactly once.
        assert db.session.get(WebhookEvent, event_id) is not None
    finally:
        # Later tests must not post to this (stopped) server.
        requests.post(f"{localstripe_url}/_config/webhooks/market", timeout=5,
                      data={"url": "http://127.0.0.1:9/", "secret": SECRET, "events[0]": "none.none"})


def _succeeded_event_id(url: str, pi_id: str) -> str:
    import requests

    events = requests.get(f"{url}/v1/events", auth=("sk_test_x", ""), params={"limit": 100}, timeout=5).json()["data"]
    ids = [e["id"] for e in events
           if e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == pi_id]
    assert len(ids) == 1, ids
    return ids[0]


def test_webhook_is_not_subject_to_csrf(app, shop):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    succeed_at_api(order)
    assert _post(client, _pi_event(order, "payment_intent.succeeded", "succeeded")).status_code == 200
    assert _status(order.id) == "paid"
    assert db.session.get(Product, product.id) is not None


def test_a_production_app_with_the_development_webhook_secret_refuses_to_start(tmp_path):
    from market import create_app
    from market.config import DEV_STRIPE_WEBHOOK_SECRET, ConfigError

    settings = {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "STRIPE_SECRET_KEY": "sk_live_x",
                "STRIPE_PUBLISHABLE_KEY": "pk_live_x", "STRIPE_API_BASE": "https://api.stripe.com",
                "STRIPE_WEBHOOK_SECRET": DEV_STRIPE_WEBHOOK_SECRET,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", "UPLOAD_FOLDER": tmp_path}
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        create_app(settings)


def test_the_same_event_delivered_many_times_at_once_is_applied_once(app, shop):
    from tests.support import race_in_threads

    buyer, product = shop
    order = _pending_order_with_pi(buyer, product, qty=3)
    _decline_at_api(order)
    event = _pi_event(order, "payment_intent.payment_failed", "requires_payment_method",
                      error={"code": "card_declined"})
    body = json.dumps(event).encode()
    sig = webhooks.sign(body, SECRET)
    results = race_in_threads(app, [lambda: app.test_client().post(
        "/payments/webhook", data=body, headers={"Stripe-Signature": sig})] * 4)
    assert [r.status_code for r in results] == [200] * 4, results
    assert _status(order.id) == "cancelled"
    assert stock_of(product) == 5  # released once
    assert db.session.query(WebhookEvent).count() == 1


def test_a_refund_that_fails_at_the_bank_later_is_released_once(client, shop, monkeypatch):
    """Stripe may report a refund it had accepted as failed later (refund.updated). localstripe
    never does, so the API's answer to the retrieve is replaced for this one call."""
    from market.payments import services as payments

    buyer, product = shop
    order = place(buyer, {product: 1})
    assert pay_card(order).status == "paid"
    refund = payments.refund(None, order.id, amount=5000)
    real_retrieve = payments.StripeClient.retrieve_refund

    def failed_later(self, refund_id):
        answer = real_retrieve(self, refund_id)
        return {**answer, "status": "failed"}

    monkeypatch.setattr(payments.StripeClient, "retrieve_refund", failed_later)
    event = {"id": "evt_refund_failed", "type": "refund.updated", "created": int(time.time()),
             "data": {"object": {"id": refund.stripe_refund_id, "object": "refund", "status": "failed"}}}
    assert _post(client, event).status_code == 200
    assert _post(client, {**event, "id": "evt_refund_failed_again"}).status_code == 200
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.refunded_fen == 0 and db.session.get(Refund, refund.id).status == "failed"
    assert refund_totals_consistent(order.id)
