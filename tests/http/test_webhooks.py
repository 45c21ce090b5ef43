"""The payments webhook: a valid signature is applied once; forged, replayed-stale and
unsigned events are refused with 400 and change nothing."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from market.extensions import db
from market.models import Order, Product, Refund, WebhookEvent
from market.payments import webhooks
from tests.support import pay_card, place, stock_of, use_localstripe

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

    return ensure_payment_intent(place(buyer, {product: qty}))


def _pi_event(order: Order, event_type: str, status: str, *, error: dict | None = None) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex[:14]}", "object": "event", "type": event_type, "created": int(time.time()),
        "data": {"object": {
            "id": order.payment_intent_id, "object": "payment_intent", "amount": order.total_fen, "currency": "cny",
            "status": status, "metadata": {"order_id": str(order.id)}, "last_payment_error": error,
            "client_secret": order.payment_client_secret,
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


def test_replayed_event_is_applied_once(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
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
    _post(client, _pi_event(order, "payment_intent.payment_failed", "requires_payment_method",
                            error={"code": "card_declined"}))
    assert _status(order.id) == "cancelled"
    assert stock_of(product) == 5


def test_event_for_another_amount_is_ignored(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product)
    event = _pi_event(order, "payment_intent.succeeded", "succeeded")
    event["data"]["object"]["amount"] = 1
    assert _post(client, event).status_code == 200
    assert _status(order.id) == "pending_payment"


def test_unknown_event_types_are_acknowledged_and_ignored(client, shop):
    resp = _post(client, {"id": "evt_x1", "type": "customer.created", "created": int(time.time()), "data": {"object": {}}})
    assert resp.status_code == 200 and resp.get_json()["result"] == "ignored"


def test_refund_reported_by_webhook_updates_the_order_once(client, shop):
    buyer, product = shop
    order = place(buyer, {product: 2})
    assert pay_card(order).status == "paid"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": order.payment_intent_id,
              "amount": order.total_fen, "amount_refunded": 5000,
              "refunds": {"data": [{"id": "re_dashboard_1", "amount": 5000, "status": "succeeded"}]}}
    event = {"id": "evt_refund_1", "type": "charge.refunded", "created": int(time.time()), "data": {"object": charge}}
    assert _post(client, event).status_code == 200
    # The same refund reported again by another event type is not counted twice.
    event2 = {"id": "evt_refund_2", "type": "refund.created", "created": int(time.time()),
              "data": {"object": {"id": "re_dashboard_1", "amount": 5000, "status": "succeeded",
                                  "payment_intent": order.payment_intent_id}}}
    assert _post(client, event2).status_code == 200
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "partially_refunded" and order.refunded_fen == 5000
    assert db.session.query(Refund).filter_by(stripe_refund_id="re_dashboard_1").count() == 1


def test_late_success_after_expiry_is_accepted_if_stock_remains(client, shop):
    buyer, product = shop
    order = _pending_order_with_pi(buyer, product, qty=2)
    from market.orders import services as orders

    orders.cancel_unpaid(order, "expired")
    assert stock_of(product) == 5
    _post(client, _pi_event(order, "payment_intent.succeeded", "succeeded"))
    assert _status(order.id) == "paid"
    assert stock_of(product) == 3


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
        deadline = time.monotonic() + 10
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
    assert _post(client, _pi_event(order, "payment_intent.succeeded", "succeeded")).status_code == 200
    assert db.session.get(Product, product.id) is not None
