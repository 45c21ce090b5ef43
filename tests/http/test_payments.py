"""Paying for orders against a real localstripe: success, decline, 3-D Secure, refunds,
double submit (one PaymentIntent, one charge), and the payments API being unreachable.
Every test that moves money checks the refund invariant (refunded_fen = its refunds)."""
from __future__ import annotations

import pytest
import requests

from market.extensions import db
from market.mail import outbox
from market.models import Order, Payment, Refund
from market.orders import services as orders
from market.payments import services as payments
from market.payments.stripe_client import PaymentsUnavailable
from tests.support import (
    DECLINED,
    THREE_D_SECURE,
    checkout_data,
    pay_card,
    payment_intents,
    place,
    refund_totals_consistent,
    stock_of,
    succeed_at_api,
    use_localstripe,
    use_unreachable_api,
)


@pytest.fixture
def stripe_url(app, localstripe_url):
    use_localstripe(app, localstripe_url)
    return localstripe_url


@pytest.fixture
def shop(make_user, make_artisan, make_product):
    """A buyer and two artisans with one product each."""
    buyer = make_user(("buyer",))
    a1, a2 = make_artisan(name="秀英绣坊"), make_artisan(name="阿梅海鲜")
    scarf = make_product(a1, title="手工刺绣围巾", price_fen=12800, stock=5)
    fish = make_product(a2, title="象山海鲜礼盒", price_fen=26800, stock=3, category="seafood")
    return buyer, a1, a2, scarf, fish


# ---- paying -----------------------------------------------------------------------------

def test_pay_successfully_marks_the_order_paid_and_notifies(stripe_url, shop):
    buyer, a1, a2, scarf, fish = shop
    order = place(buyer, {scarf: 2, fish: 1})
    assert order.total_fen == 2 * 12800 + 26800
    assert stock_of(scarf) == 3 and stock_of(fish) == 2

    outcome = pay_card(order)

    assert outcome.status == "paid"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "paid" and order.paid_at is not None and order.paid_fen == order.total_fen
    assert order.payment.status == "succeeded"
    pi = requests.get(f"{stripe_url}/v1/payment_intents/{order.payment_intent_id}", auth=("sk_test_x", ""), timeout=5).json()
    assert pi["status"] == "succeeded" and pi["amount"] == order.total_fen and pi["currency"] == "cny"
    assert pi["metadata"]["order_id"] == str(order.id)
    assert stock_of(scarf) == 3  # sold, not released
    recipients = sorted(m["To"] for m in outbox())
    assert recipients == sorted([buyer.email, a1.user.email, a2.user.email])


def test_declined_card_gives_a_clear_message_releases_stock_and_refills_the_cart(stripe_url, shop, client, login_as):
    buyer, _, _, scarf, fish = shop
    order = place(buyer, {scarf: 2, fish: 1})
    outcome = pay_card(order, DECLINED)

    assert outcome.status == "declined"
    assert outcome.code == "card_declined"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "cancelled" and order.cancel_reason == "card_declined"
    assert order.payment.last_error_code == "card_declined"
    assert stock_of(scarf) == 5 and stock_of(fish) == 3
    pi = requests.get(f"{stripe_url}/v1/payment_intents/{order.payment_intent_id}", auth=("sk_test_x", ""), timeout=5).json()
    assert pi["status"] == "canceled"  # it can never succeed later
    login_as(buyer)
    page = client.get("/cart/").get_data(as_text=True)
    assert "手工刺绣围巾" in page and "象山海鲜礼盒" in page


def test_three_d_secure_waits_for_authentication_then_pays(stripe_url, shop, client, login_as):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 1})
    outcome = pay_card(order, THREE_D_SECURE)
    assert outcome.status == "requires_action" and outcome.client_secret.startswith(order.payment_intent_id)
    assert db.session.get(Order, order.id).status == "pending_payment"

    # What Stripe.js does in the browser after the buyer completes the bank's check:
    requests.post(f"{stripe_url}/v1/payment_intents/{order.payment_intent_id}/_authenticate",
                  json={"client_secret": outcome.client_secret, "key": "pk_test_x"}, params={"success": "true"}, timeout=5)
    login_as(buyer)
    assert client.get(f"/orders/{order.id}").status_code == 200  # a GET never asks the API
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending_payment"
    resp = client.post(f"/orders/{order.id}/refresh")  # what checkout.js posts after 3-D Secure
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"


def test_failed_three_d_secure_cancels_and_releases_stock(stripe_url, shop, client, login_as):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 2})
    outcome = pay_card(order, THREE_D_SECURE)
    requests.post(f"{stripe_url}/v1/payment_intents/{order.payment_intent_id}/_authenticate",
                  json={"client_secret": outcome.client_secret, "key": "pk_test_x"}, params={"success": "false"}, timeout=5)
    login_as(buyer)
    client.post(f"/orders/{order.id}/refresh")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "cancelled"
    assert stock_of(scarf) == 5


def test_double_submit_makes_one_order_one_payment_intent_and_one_charge(stripe_url, shop, client, login_as):
    buyer, _, _, scarf, fish = shop
    login_as(buyer)
    client.post("/cart/add", data={"product_id": scarf.id, "quantity": 1})
    client.post("/cart/add", data={"product_id": fish.id, "quantity": 1})
    form = checkout_data(client)
    first = client.post("/checkout", data=form)
    second = client.post("/checkout", data=form)  # the double click (cart already emptied)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] or "/cart" in second.headers["Location"]
    assert db.session.query(Order).count() == 1
    order = db.session.query(Order).one()
    assert stock_of(scarf) == 4 and stock_of(fish) == 2

    # The same order again through the service: still the same order.
    assert place(buyer, {scarf: 1}, token=form["checkout_token"]).id == order.id
    # Pay twice (double-clicked pay button): charged once.
    assert pay_card(order).status == "paid"
    assert pay_card(order).status == "paid"
    pis = payment_intents(stripe_url, order.id)
    assert [pi["id"] for pi in pis] == [order.payment_intent_id]
    charges = requests.get(f"{stripe_url}/v1/charges", auth=("sk_test_x", ""), timeout=5).json()["data"]
    assert len([c for c in charges if c["payment_intent"] == order.payment_intent_id]) == 1


def test_ensure_payment_intent_reuses_the_stored_one(stripe_url, shop):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 1})
    first = payments.ensure_payment_intent(order).stripe_payment_intent_id
    assert payments.ensure_payment_intent(order).stripe_payment_intent_id == first
    assert payments.ensure_payment_intent(db.session.get(Order, order.id)).stripe_payment_intent_id == first
    assert len(payment_intents(stripe_url, order.id)) == 1
    assert db.session.query(Payment).count() == 1


def test_payments_api_unreachable_keeps_the_order_then_expiry_releases_stock(app, shop, client, login_as, runner,
                                                                            localstripe_url):
    buyer, _, _, scarf, _ = shop
    use_unreachable_api(app)
    login_as(buyer)
    client.post("/cart/add", data={"product_id": scarf.id, "quantity": 2})
    resp = client.post("/checkout", data=checkout_data(client), follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="payment-form"' in page  # checkout never waited on the API
    order = db.session.query(Order).one()
    assert order.status == "pending_payment" and order.payment_intent_id is None
    assert stock_of(scarf) == 3  # still held for the buyer
    # Paying now: the API is down, she is told so and may retry.
    resp = client.post(f"/orders/{order.id}/pay", json={"token": "tok_123", "card": "card_123"})
    assert resp.status_code == 503 and resp.get_json()["status"] == "unavailable"

    # The API comes back: the buyer retries and pays; nothing was lost.
    use_localstripe(app, localstripe_url)
    assert 'id="payment-form"' in client.get(f"/orders/{order.id}/pay").get_data(as_text=True)
    db.session.expire_all()
    assert pay_card(db.session.get(Order, order.id)).status == "paid"
    assert len(payment_intents(localstripe_url, order.id)) == 1

    # Another order placed while the API is down, never paid: the reservation expires.
    use_unreachable_api(app)
    other = place(buyer, {scarf: 1})
    with pytest.raises(PaymentsUnavailable):
        payments.ensure_payment_intent(other)
    db.session.execute(db.update(Order).where(Order.id == other.id).values(expires_at=orders.utcnow()))
    db.session.commit()
    use_localstripe(app, localstripe_url)
    result = runner.invoke(args=["reconcile-payments"])
    assert "released 1" in result.output, result.output
    db.session.expire_all()
    assert db.session.get(Order, other.id).status == "cancelled"
    assert stock_of(scarf) == 3


def test_pay_endpoint_reports_unreachable_api_as_json(app, stripe_url, shop, client, login_as):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 1})
    payments.ensure_payment_intent(order)
    login_as(buyer)
    use_unreachable_api(app)
    resp = client.post(f"/orders/{order.id}/pay", json={"token": "tok_123", "card": "card_123"})
    assert resp.status_code == 503
    assert resp.get_json()["status"] == "unavailable" and resp.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending_payment"


def test_overdue_order_with_a_payment_intent_is_cancelled_at_the_api_before_stock_is_released(stripe_url, shop):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 2})
    payments.ensure_payment_intent(order)
    db.session.execute(db.update(Order).where(Order.id == order.id).values(expires_at=orders.utcnow()))
    db.session.commit()
    assert payments.expire_reservations() == 1
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "cancelled" and order.cancel_reason == "expired"
    pi = requests.get(f"{stripe_url}/v1/payment_intents/{order.payment_intent_id}", auth=("sk_test_x", ""), timeout=5).json()
    assert pi["status"] == "canceled"
    assert stock_of(scarf) == 5
    assert payments.expire_reservations() == 0  # released exactly once


def test_overdue_order_that_was_in_fact_paid_is_marked_paid_not_released(stripe_url, shop):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 2})
    payments.ensure_payment_intent(order)
    # The payment succeeds at the API but the webhook and the browser's return are lost.
    succeed_at_api(order)
    db.session.execute(db.update(Order).where(Order.id == order.id).values(expires_at=orders.utcnow()))
    db.session.commit()
    assert payments.expire_reservations() == 0
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
    assert stock_of(scarf) == 3


# ---- refunds ----------------------------------------------------------------------------

def test_staff_refunds_a_line_then_a_sub_order_then_the_rest(stripe_url, shop, make_user, client, login_as):
    buyer, a1, a2, scarf, fish = shop
    order = place(buyer, {scarf: 2, fish: 1})
    assert pay_card(order).status == "paid"
    staff = make_user(("staff",))
    login_as(staff)
    order = orders.get_order(order.id)
    scarf_line = next(ln for ln in order.lines if ln.product_id == scarf.id)
    fish_sub = next(s for s in order.sub_orders if s.artisan_id == a2.id)

    resp = client.post(f"/staff/orders/{order.id}", data={"target": f"line-{scarf_line.id}", "amount": "50.00",
                                                          "reason": "一条围巾有瑕疵"})
    assert resp.status_code == 302
    db.session.expire_all()
    order = orders.get_order(order.id)
    assert order.status == "paid" and order.refunded_fen == 5000 and order.refundable_fen == order.total_fen - 5000
    assert next(ln for ln in order.lines if ln.id == scarf_line.id).refunded_fen == 5000

    client.post(f"/staff/orders/{order.id}", data={"target": f"sub-{fish_sub.id}", "reason": "海鲜缺货"})
    db.session.expire_all()
    order = orders.get_order(order.id)
    assert order.refunded_fen == 5000 + 26800
    fish_sub = next(s for s in order.sub_orders if s.id == fish_sub.id)
    assert fish_sub.status == "cancelled"  # fully refunded before shipping: nothing to ship

    # Too much is refused with a clear message and changes nothing.
    resp = client.post(f"/staff/orders/{order.id}", data={"target": "order", "amount": "9999"}, follow_redirects=True)
    assert "error" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert orders.get_order(order.id).refunded_fen == 5000 + 26800

    client.post(f"/staff/orders/{order.id}", data={"target": "order"})
    db.session.expire_all()
    order = orders.get_order(order.id)
    # Everything refunded before anything shipped: the order is cancelled, reason "refunded".
    assert order.status == "cancelled" and order.cancel_reason == "refunded"
    assert order.refunded_fen == order.paid_fen == order.total_fen
    assert {s.status for s in order.sub_orders} == {"cancelled"}
    refunds = db.session.query(Refund).filter_by(order_id=order.id).all()
    assert len(refunds) == 3 and all(r.stripe_refund_id.startswith("re_") and r.status == "succeeded" for r in refunds)
    assert refund_totals_consistent(order.id)
    charge = requests.get(f"{stripe_url}/v1/charges", auth=("sk_test_x", ""), timeout=5).json()["data"][0]
    assert charge["amount_refunded"] == order.total_fen


def test_refund_of_an_unpaid_order_is_refused(stripe_url, shop, make_user):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 1})
    with pytest.raises(orders.OrderError):
        payments.refund(make_user(("staff",)), order.id)
    assert db.session.query(Refund).count() == 0


def test_refund_when_api_unreachable_records_nothing(app, stripe_url, shop, make_user):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 1})
    pay_card(order)
    use_unreachable_api(app)
    with pytest.raises(PaymentsUnavailable):
        payments.refund(make_user(("staff",)), order.id)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "paid" and order.refunded_fen == 0
    # Nothing can have reached the API (connection refused): the reservation was released.
    assert [r.status for r in db.session.query(Refund).all()] == ["failed"]
    assert refund_totals_consistent(order.id)


def test_refund_form_with_a_target_that_names_nothing_is_404_and_refunds_nothing(stripe_url, shop, make_user,
                                                                                 client, login_as):
    buyer, _, _, scarf, _ = shop
    order = place(buyer, {scarf: 1})
    assert pay_card(order).status == "paid"
    login_as(make_user(("staff",)))
    for target in ("line-99999999999999999999", "sub-abc", "line-", "bogus-1", "line-999999"):
        resp = client.post(f"/staff/orders/{order.id}", data={"target": target, "amount": "1.00"})
        assert resp.status_code == 404, target
    db.session.expire_all()
    assert db.session.get(Order, order.id).refunded_fen == 0 and db.session.query(Refund).count() == 0
