"""What the refund-request pages promise happens: staff's decision page says “both sides are
told”, so the shop hears of it too (in-app and by mail), not only the buyer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Notice, Order, RefundRequest
from market.returns import operations as returns
from tests.support import mails_to, mark_paid, pay_card, place, race_in_threads, submit_form, use_localstripe


@pytest.fixture
def asked(app, make_user, make_artisan, make_product):
    buyer = make_user(("buyer",), email="buyer@example.cn")
    amei = make_artisan(name="阿梅刺绣", email="amei@example.cn")
    scarf = make_product(amei, title="刺绣围巾", price_fen=9900, stock=5)
    staff = make_user(("staff",), email="staff@example.cn")
    order = place(buyer, {scarf: 1})
    mark_paid(order)
    sub = order.sub_orders[0]
    record = returns.open_request(buyer, order.id, target=f"sub-{sub.id}", kind="refund", reason="damaged")
    return {"buyer": buyer, "amei": amei, "staff": staff, "record": record}


def _notices_to(user_id: int, kind: str) -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notice).where(Notice.user_id == user_id, Notice.kind == kind,
                                                         Notice.channel == "inapp")))


@pytest.mark.parametrize("decision, status", [("decline", "declined"), ("return", "awaiting_return")])
def test_staff_decision_reaches_the_shop_as_the_page_says(client, login_as, asked, decision, status):
    record = asked["record"]
    login_as(asked["staff"])
    url = f"/staff/refund-requests/{record.id}"
    resp = submit_form(client, url, {"decision": decision, "note": "照片显示包装完好"})
    assert resp.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "双方" in page or "both sides" in page  # the promise, as shown
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).status == status
    shop_user = asked["amei"].user
    [notice] = _notices_to(shop_user.id, "refund_request_decided")
    assert record.number in notice.subject
    assert any(record.number in m["Subject"] for m in mails_to("amei@example.cn"))
    # The buyer is told as before.
    assert _notices_to(asked["buyer"].id, "refund_request_update")


def test_a_withdrawn_request_reaches_the_shop(client, login_as, asked):
    """The shop was asked to answer by a date: when the buyer withdraws, the shop hears it needs
    no answer (in-app and by mail), once, and the parcel is free for a new request."""
    record = asked["record"]
    login_as(asked["buyer"])
    order_url = f"/orders/{record.order_id}"
    resp = submit_form(client, order_url, action=f"/orders/requests/{record.id}/withdraw")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).status == "withdrawn"
    [notice] = _notices_to(asked["amei"].user.id, "refund_request_decided")
    assert record.number in notice.subject and "撤回" in notice.subject + notice.body
    assert any(record.number in m["Subject"] for m in mails_to("amei@example.cn"))
    # Sent again (back button): answered meanwhile, told once.
    client.post(f"/orders/requests/{record.id}/withdraw")
    assert len(_notices_to(asked["amei"].user.id, "refund_request_decided")) == 1


@pytest.fixture
def asked_at_api(app, localstripe_url, make_user, make_artisan, make_product):
    """As `asked`, paid through localstripe, so an accepted request is really refunded."""
    use_localstripe(app, localstripe_url)
    buyer = make_user(("buyer",), email="buyer@example.cn")
    amei = make_artisan(name="阿梅刺绣", email="amei@example.cn")
    order = place(buyer, {make_product(amei, title="刺绣围巾", price_fen=9900, stock=5): 1})
    assert pay_card(order).status == "paid"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    record = returns.open_request(buyer, order.id, target=f"sub-{order.sub_orders[0].id}", kind="refund",
                                  reason="damaged")
    return {"buyer": buyer, "amei": amei, "record": record, "order_id": order.id, "url": localstripe_url}


def test_withdraw_racing_the_shops_accept_tells_only_what_happened(app, asked_at_api):
    """The buyer withdraws while the shop accepts: one wins; the shop hears of a withdrawal
    only when the withdrawal won (and nobody is refunded for a withdrawn request)."""
    from market.orders.errors import OrderError
    from market.returns.operations import RequestError

    asked = asked_at_api
    record, buyer, shop = asked["record"], asked["buyer"], asked["amei"].user
    buyer_id, shop_id = buyer.id, shop.id

    def as_user(user_id, op):
        from market.models import User

        return op(db.session.get(User, user_id), record.id)

    results = race_in_threads(app, [lambda: as_user(buyer_id, returns.withdraw),
                                    lambda: as_user(shop_id, returns.accept)])
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], (RequestError, OrderError)), lost
    db.session.expire_all()
    status = db.session.get(RefundRequest, record.id).status
    withdrawn_told = [n for n in _notices_to(shop_id, "refund_request_decided") if "撤回" in n.subject + n.body]
    refunded = db.session.get(Order, asked["order_id"]).refunded_fen
    if status == "withdrawn":
        assert len(withdrawn_told) == 1 and refunded == 0
    else:
        assert status == "refunded" and withdrawn_told == [] and refunded == 9900
