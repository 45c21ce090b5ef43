"""Every money or stock mutation of an order raced against itself and its rivals, each in its
own thread with its own session and connection (as concurrent requests, webhooks and the
reconcile job are), on SQLite and PostgreSQL: each change happens once, stock is released
once, and money taken is either an order paid or refunded in full."""
from __future__ import annotations

import pytest

from market.extensions import db
from market.mail import outbox
from market.models import Order
from market.orders import operations
from market.payments import services as payments
from tests.support import (
    get_pi,
    pay_card,
    place,
    race_in_threads,
    refund_totals_consistent,
    refunds_at_api,
    stock_of,
    succeed_at_api,
    use_localstripe,
)


@pytest.fixture
def shop(app, localstripe_url, make_user, make_artisan, make_product):
    use_localstripe(app, localstripe_url)
    buyer = make_user(("buyer",))
    scarf = make_product(make_artisan(name="秀英绣坊"), title="手工刺绣围巾", price_fen=12800, stock=5)
    return buyer, scarf


def _order(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


def _overdue(order_id: int) -> None:
    db.session.execute(db.update(Order).where(Order.id == order_id).values(expires_at=operations.utcnow()))
    db.session.commit()


def test_paid_reported_by_many_at_once_is_applied_once(app, shop):
    buyer, scarf = shop
    order = place(buyer, {scarf: 2})
    results = race_in_threads(app, [lambda: operations.mark_paid(order.id, order.total_fen)] * 6)
    assert sorted(results) == ["already"] * 5 + ["paid"], results
    assert _order(order.id).status == "paid" and _order(order.id).paid_fen == 25600
    assert [m["To"] for m in outbox()].count(buyer.email) == 1  # one receipt
    assert stock_of(scarf) == 3


def test_cancelled_by_many_at_once_releases_stock_once(app, shop):
    buyer, scarf = shop
    order = place(buyer, {scarf: 3})
    jobs = [lambda: operations.cancel_unpaid(order.id, "cancelled_by_buyer")] * 3 + [
        lambda: operations.expire(order.id)] * 3
    _overdue(order.id)
    results = race_in_threads(app, jobs)
    assert results.count(True) == 1, results
    assert stock_of(scarf) == 5  # back once, not six times
    assert _order(order.id).status == "cancelled"


def test_expiry_and_buyer_cancel_race_with_a_payment_intent(app, shop, localstripe_url):
    buyer, scarf = shop
    order = place(buyer, {scarf: 2})
    payments.ensure_payment_intent(order)
    _overdue(order.id)
    jobs = [lambda: payments.expire_order(_order(order.id))] * 3 + [
        lambda: payments.cancel_order(_order(order.id), "cancelled_by_buyer", restore_cart=True)] * 2
    results = race_in_threads(app, jobs)
    assert results.count(True) == 1, results
    assert stock_of(scarf) == 5
    order = _order(order.id)
    assert order.status == "cancelled" and get_pi(localstripe_url, order.payment_intent_id)["status"] == "canceled"


def test_expiry_racing_a_payment_that_succeeded_keeps_the_sale(app, shop):
    buyer, scarf = shop
    order = place(buyer, {scarf: 2})
    succeed_at_api(order)  # paid at the API; neither browser nor webhook told us yet
    _overdue(order.id)
    jobs = [lambda: payments.expire_order(_order(order.id))] * 3 + [lambda: payments.refresh(_order(order.id))] * 2
    race_in_threads(app, jobs)
    order = _order(order.id)
    assert order.status == "paid" and order.paid_fen == order.total_fen and order.refunded_fen == 0
    assert stock_of(scarf) == 3  # sold, never released


def test_pay_racing_cancel_never_keeps_money_for_a_cancelled_order(app, shop, localstripe_url):
    for _ in range(3):  # a few rounds: the interleaving differs from run to run
        buyer, scarf = shop
        before = stock_of(scarf)
        order = place(buyer, {scarf: 1})
        payments.ensure_payment_intent(order)
        oid = order.id
        results = race_in_threads(app, [lambda oid=oid: pay_card(_order(oid)),
                                        lambda oid=oid: payments.cancel_order(_order(oid), "cancelled_by_buyer")])
        assert not any(isinstance(r, Exception) and not isinstance(r, payments.PaymentError) for r in results), results
        order = _order(order.id)
        pi = get_pi(localstripe_url, order.payment_intent_id)
        if order.status == "paid":
            assert pi["status"] == "succeeded" and stock_of(scarf) == before - 1
        else:
            assert order.status == "cancelled" and stock_of(scarf) == before
            if pi["status"] == "succeeded":  # paid as it was cancelled: given back in full
                assert order.refunded_fen == order.paid_fen == order.total_fen
                assert sum(r["amount"] for r in refunds_at_api(localstripe_url, pi["id"])) == order.total_fen
        assert refund_totals_consistent(order.id)


def test_concurrent_pay_requests_create_one_payment_intent_and_charge_once(app, shop, localstripe_url):
    from tests.support import payment_intents

    buyer, scarf = shop
    order = place(buyer, {scarf: 1})
    results = race_in_threads(app, [lambda: pay_card(_order(order.id))] * 4)
    assert any(getattr(r, "status", None) == "paid" for r in results), results
    # The losers of the PaymentIntent claim were told to retry (busy), never charged twice.
    assert all(getattr(r, "status", None) == "paid" or isinstance(r, payments.PaymentsUnavailable)
               for r in results), results
    assert len(payment_intents(localstripe_url, order.id)) == 1
    assert _order(order.id).status == "paid"
