"""Refunds that cannot run twice: staff tabs (threads) and separate processes asking for
refunds of one order at the same moment get exactly the refundable amount refunded, at the
payments API and in the database, never more. localstripe ignores idempotency keys and
refunds whatever it is asked, so this is the database reservation's doing alone."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from market.extensions import db
from market.models import Order, Refund
from market.orders import operations
from market.orders.errors import OrderError
from market.payments import services as payments
from market.payments.stripe_client import PaymentsUnavailable
from tests.support import (
    pay_card,
    place,
    race_in_threads,
    refund_in_processes,
    refund_totals_consistent,
    refunds_at_api,
    use_localstripe,
)


@pytest.fixture
def paid_order(app, localstripe_url, make_user, make_artisan, make_product):
    use_localstripe(app, localstripe_url)
    buyer = make_user(("buyer",))
    fish = make_product(make_artisan(name="阿梅海鲜"), title="象山海鲜礼盒", price_fen=26900, stock=5)
    order = place(buyer, {fish: 1})
    assert pay_card(order).status == "paid"
    db.session.expire_all()
    return db.session.get(Order, order.id)


def _settled(order_id: int, url: str) -> tuple[Order, list[dict], list[Refund]]:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    at_api = refunds_at_api(url, order.payment_intent_id)
    ours = db.session.query(Refund).filter_by(order_id=order_id).all()
    return order, at_api, ours


def test_concurrent_full_refunds_in_threads_refund_once(app, paid_order, localstripe_url, make_user):
    staff_id = make_user(("staff",)).id
    order_id = paid_order.id

    def full_refund():
        from market.models import User

        return payments.refund(db.session.get(User, staff_id), order_id)

    results = race_in_threads(app, [full_refund] * 6)
    refunded = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, OrderError)]
    assert len(refunded) == 1 and len(refused) == 5, results
    order, at_api, ours = _settled(order_id, localstripe_url)
    assert [r["amount"] for r in at_api] == [26900]  # one refund reached the payments API
    assert order.refunded_fen == order.paid_fen == 26900
    assert [(r.status, r.amount_fen) for r in ours] == [("succeeded", 26900)]
    assert refund_totals_consistent(order_id)


def test_concurrent_partial_refunds_in_threads_never_exceed_what_was_paid(app, paid_order, localstripe_url):
    order_id = paid_order.id
    # 8 staff ask ¥100 each of a ¥269 order: two fit (¥200), the rest is refused.
    results = race_in_threads(app, [lambda: payments.refund(None, order_id, amount=10000)] * 8)
    assert sum(isinstance(r, Refund) for r in results) == 2, results
    assert all(isinstance(r, (Refund, OrderError)) for r in results), results
    order, at_api, ours = _settled(order_id, localstripe_url)
    assert sorted(r["amount"] for r in at_api) == [10000, 10000]
    assert order.refunded_fen == 20000 and refund_totals_consistent(order_id)
    # What is left is refundable, once.
    results = race_in_threads(app, [lambda: payments.refund(None, order_id)] * 4)
    assert sum(isinstance(r, Refund) for r in results) == 1, results
    order, at_api, _ = _settled(order_id, localstripe_url)
    assert sum(r["amount"] for r in at_api) == order.paid_fen == order.refunded_fen == 26900


def test_concurrent_refunds_in_separate_processes_refund_exactly_what_was_paid(app, paid_order, localstripe_url,
                                                                             tmp_path):
    order_id = paid_order.id
    outputs = refund_in_processes(app, order_id, ["all", "all", "all", 10000, 10000, 5000], tmp_path / "uploads")
    assert all(line.startswith(("refunded", "refused")) for line in outputs), outputs
    order, at_api, ours = _settled(order_id, localstripe_url)
    assert sum(r["amount"] for r in at_api) == order.refunded_fen == sum(
        r.amount_fen for r in ours if r.status == "succeeded")
    assert order.refunded_fen <= order.paid_fen
    assert refund_totals_consistent(order_id)
    # Each process that says it refunded made exactly one refund at the API; no other did.
    assert len(at_api) == sum(line.startswith("refunded") for line in outputs) >= 1


def test_the_same_refund_form_submitted_twice_refunds_once(app, paid_order, localstripe_url, make_user, client,
                                                          login_as):
    staff = make_user(("staff",))
    login_as(staff)
    page = client.get(f"/staff/orders/{paid_order.id}").get_data(as_text=True)
    token = re.search(r'name="request_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"target": "order", "amount": "50.00", "reason": "破损", "request_token": token}
    first = client.post(f"/staff/orders/{paid_order.id}", data=form)
    again = client.post(f"/staff/orders/{paid_order.id}", data=form)  # resubmitted (back button, double click)
    assert first.status_code == again.status_code == 302
    order, at_api, ours = _settled(paid_order.id, localstripe_url)
    assert [r["amount"] for r in at_api] == [5000] and order.refunded_fen == 5000 and len(ours) == 1
    # The same token raced from two tabs at once: still one.
    token2 = uuid.uuid4().hex
    results = race_in_threads(app, [lambda: payments.refund(None, paid_order.id, amount=1000,
                                                             request_token=token2)] * 4)
    assert len({r.id for r in results if isinstance(r, Refund)}) == 1, results
    order, at_api, _ = _settled(paid_order.id, localstripe_url)
    assert sorted(r["amount"] for r in at_api) == [1000, 5000] and order.refunded_fen == 6000


def test_a_refund_whose_answer_never_came_stays_reserved_until_the_api_is_asked(app, paid_order, localstripe_url,
                                                                               monkeypatch):
    """The API took the refund but the answer was lost (a timeout after sending): the amount
    stays reserved, so no second refund can be made meanwhile; the reconcile job finds the
    refund at the API and settles it."""
    real_create = payments.StripeClient.create_refund

    def create_then_lose_the_answer(self, **kwargs):
        real_create(self, **kwargs)
        raise PaymentsUnavailable("read timeout", maybe_applied=True)

    monkeypatch.setattr(payments.StripeClient, "create_refund", create_then_lose_the_answer)
    with pytest.raises(PaymentsUnavailable):
        payments.refund(None, paid_order.id)
    monkeypatch.undo()
    order, at_api, ours = _settled(paid_order.id, localstripe_url)
    assert [r.status for r in ours] == ["pending"] and order.refunded_fen == order.paid_fen
    with pytest.raises(OrderError):  # nothing left to refund while it is reserved
        payments.refund(None, paid_order.id)
    assert len(refunds_at_api(localstripe_url, order.payment_intent_id)) == 1

    later = operations.utcnow() + timedelta(minutes=5)
    assert payments.reconcile(now=later)["refunds"] == 1
    order, at_api, ours = _settled(paid_order.id, localstripe_url)
    assert [r.status for r in ours] == ["succeeded"] and ours[0].stripe_refund_id == at_api[0]["id"]
    assert order.refunded_fen == 26900 and refund_totals_consistent(order.id)


def test_a_refused_refund_releases_its_reservation(app, paid_order, localstripe_url, monkeypatch):
    from market.payments.stripe_client import StripeError

    def refuse(self, **kwargs):
        raise StripeError("charge disputed", status=400, code="charge_disputed")

    monkeypatch.setattr(payments.StripeClient, "create_refund", refuse)
    with pytest.raises(payments.PaymentError):
        payments.refund(None, paid_order.id, amount=5000)
    monkeypatch.undo()
    order, _, ours = _settled(paid_order.id, localstripe_url)
    assert [r.status for r in ours] == ["failed"] and order.refunded_fen == 0
    assert payments.refund(None, paid_order.id).status == "succeeded"  # the whole amount is refundable again
    assert refund_totals_consistent(paid_order.id)


def test_a_late_payment_whose_automatic_refund_failed_is_retried_then_refundable_by_staff(
        app, localstripe_url, make_user, make_artisan, make_product, monkeypatch, client, login_as):
    from market.payments.stripe_client import StripeError
    from tests.support import succeed_at_api

    use_localstripe(app, localstripe_url)
    product = make_product(make_artisan(), price_fen=12800, stock=5)
    order = place(make_user(), {product: 1})
    succeed_at_api(order)
    assert operations.cancel_unpaid(order.id, "expired")  # expired as the bank said yes

    def unreachable(self, **kwargs):
        raise PaymentsUnavailable("read timeout", maybe_applied=True)

    monkeypatch.setattr(payments.StripeClient, "create_refund", unreachable)
    payments.refresh(order)  # the payment is found: the refund is reserved, its call fails
    monkeypatch.undo()
    order, at_api, ours = _settled(order.id, localstripe_url)
    assert order.status == "cancelled" and order.paid_fen == 12800
    assert [(r.origin, r.status) for r in ours] == [("late_payment", "pending")] and at_api == []
    # The reconcile job does not find it at the API and sends it again, once.
    assert payments.reconcile(now=operations.utcnow() + timedelta(minutes=5))["refunds"] == 1
    order, at_api, ours = _settled(order.id, localstripe_url)
    assert [r["amount"] for r in at_api] == [12800] and [r.status for r in ours] == ["succeeded"]
    assert order.refunded_fen == order.paid_fen and refund_totals_consistent(order.id)

    # Had the API refused it, the money would still be refundable by staff from the order page.
    order2 = place(make_user(), {product: 1})
    succeed_at_api(order2)
    assert operations.cancel_unpaid(order2.id, "expired")
    monkeypatch.setattr(payments.StripeClient, "create_refund",
                        lambda self, **kw: (_ for _ in ()).throw(StripeError("no", status=400)))
    payments.refresh(order2)
    monkeypatch.undo()
    order2, _, ours = _settled(order2.id, localstripe_url)
    assert order2.refundable_fen == 12800 and [r.status for r in ours] == ["failed"]
    login_as(make_user(("staff",)))
    assert 'id="refund-form"' in client.get(f"/staff/orders/{order2.id}").get_data(as_text=True)
    assert payments.refund(None, order2.id).status == "succeeded"
    order2, at_api, _ = _settled(order2.id, localstripe_url)
    assert order2.refunded_fen == order2.paid_fen and sum(r["amount"] for r in at_api) == 12800


def test_three_staff_tabs_posting_a_full_refund_at_once_refund_once(app, paid_order, localstripe_url, make_user):
    """The reported case, through HTTP: three staff tabs, each with its own form, at once."""
    from tests.support import login

    staff = make_user(("staff",))
    tabs = []
    for _ in range(3):
        tab = app.test_client()
        login(tab, staff)
        page = tab.get(f"/staff/orders/{paid_order.id}").get_data(as_text=True)
        token = re.search(r'name="request_token"[^>]*value="([^"]+)"', page).group(1)
        tabs.append((tab, {"target": "order", "reason": "全额退款", "request_token": token}))
    results = race_in_threads(app, [lambda t=t, f=f: t.post(f"/staff/orders/{paid_order.id}", data=f)
                                    for t, f in tabs])
    assert [r.status_code for r in results] == [302] * 3, results
    order, at_api, ours = _settled(paid_order.id, localstripe_url)
    assert [r["amount"] for r in at_api] == [26900] and order.refunded_fen == 26900
    assert [r.status for r in ours] == ["succeeded"] and refund_totals_consistent(order.id)
