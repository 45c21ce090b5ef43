"""The refund request pages as a browser uses them (CSRF on, every field the page filled in,
an empty file part for a file input left empty): the buyer's request form with and without
photos, the artisan's answer, staff's decision, the buyer taking an offer; what the artisan's
order list and sales summary show afterwards; hostile input answered with 4xx or a message."""
from __future__ import annotations

from pathlib import Path

import pytest

from market.extensions import db
from market.models import Order, Refund, RefundRequest
from market.orders import operations as orders_ops
from tests.support import DEFAULT_PASSWORD, image_upload, mails_to, page_form, pay_card, place, use_localstripe


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


@pytest.fixture
def sign_in(client):
    def do(user):
        token = page_form(client, "/account/login", having="password").value("csrf_token")
        client.post("/account/logout", data={"csrf_token": token})
        form = page_form(client, "/account/login", having="password")
        resp = form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        return client

    return do


@pytest.fixture
def paid(app, localstripe_url, make_user, make_artisan, make_product):
    use_localstripe(app, localstripe_url)
    buyer = make_user(("buyer",), email="buyer@example.cn")
    amei = make_artisan(name="阿梅刺绣", email="amei@example.cn")
    scarf = make_product(amei, title="刺绣围巾", price_fen=9900, stock=5)
    staff = make_user(("staff",), email="staff@example.cn")
    order = place(buyer, {scarf: 2})
    assert pay_card(order).status == "paid"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    return {"buyer": buyer, "amei": amei, "staff": staff, "order": order, "sub": order.sub_orders[0],
            "line": order.lines[0]}


def _errors(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(part.split("</small>")[0] for part in html.split('class="error">')[1:])


def _request_form(client, order_id):
    return page_form(client, f"/orders/{order_id}/request", having="reason")


def test_buyer_asks_with_a_photo_artisan_accepts_and_everyone_sees_it(app, client, sign_in, paid):
    p = paid
    sign_in(p["buyer"])
    page = client.get(f"/orders/{p['order'].id}").get_data(as_text=True)
    assert 'id="ask-refund"' in page
    form = _request_form(client, p["order"].id)
    assert form.enctype == "multipart/form-data"
    resp = form.submit(client, {"target": f"sub-{p['sub'].id}", "reason": "damaged", "amount": "99.00",
                                "note": "一条围巾破了"}, files={"photos": [image_upload()]})
    assert resp.status_code == 302, _errors(resp)
    record = db.session.query(RefundRequest).one()
    assert (record.amount_fen, record.kind, record.reason, len(record.photo_names)) == (9900, "refund", "damaged", 1)
    assert (Path(app.config["UPLOAD_FOLDER"]) / record.photo_names[0]).exists()
    assert record.number in mails_to("amei@example.cn")[-1]["Subject"]
    order_page = client.get(f"/orders/{p['order'].id}").get_data(as_text=True)
    assert record.number in order_page and "等待店家回复" in order_page

    sign_in(p["amei"].user)
    listing = client.get("/shop/orders").get_data(as_text=True)
    assert record.number in listing
    decision = page_form(client, f"/shop/requests/{record.id}", having="decision")
    resp = decision.submit(client, {"decision": "accept"})  # amount and note left as the page has them
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).status == "refunded"
    listing = client.get("/shop/orders").get_data(as_text=True)
    assert "已退款" in listing and "¥99.00" in listing
    sales = client.get("/shop/sales").get_data(as_text=True)
    assert 'id="sales-refunded">¥99.00' in sales and 'id="sales-revenue">¥99.00' in sales

    sign_in(p["buyer"])
    order_page = client.get(f"/orders/{p['order'].id}").get_data(as_text=True)
    assert "已退款" in order_page and 'id="order-refunded"' in order_page


def test_request_form_left_empty_and_hostile_values_get_messages(client, sign_in, paid):
    p = paid
    sign_in(p["buyer"])
    form = _request_form(client, p["order"].id)
    resp = form.submit(client)  # as the page is: file input empty, amount empty = all
    assert resp.status_code == 302, _errors(resp)
    assert db.session.query(RefundRequest).one().amount_fen == 19800
    for changes in ({"target": "sub-99999999999"}, {"target": "<script>"}, {"amount": "-5"},
                    {"amount": "1e9"}, {"reason": "x" * 500}, {"kind": "both"}, {"target": f"sub-{p['sub'].id}"}):
        resp = _request_form(client, p["order"].id).submit(client, changes)
        assert resp.status_code == 200 and _errors(resp), changes
    assert db.session.query(RefundRequest).count() == 1
    too_many = [image_upload() for _ in range(4)]
    record = db.session.query(RefundRequest).one()
    client.post(f"/orders/requests/{record.id}/withdraw",
                data={"csrf_token": _request_form(client, p["order"].id).value("csrf_token")})
    resp = _request_form(client, p["order"].id).submit(client, files={"photos": too_many})
    assert resp.status_code == 200 and "3" in _errors(resp)
    resp = _request_form(client, p["order"].id).submit(client, files={"photos": [(image_upload()[0], "x.png")]})
    assert resp.status_code == 302
    assert client.get("/orders/999999/request").status_code == 404
    assert client.get(f"/shop/requests/{record.id}").status_code == 403  # a buyer is no artisan
    assert client.get(f"/staff/refund-requests/{record.id}").status_code == 403


def test_offer_taken_by_the_buyer_and_staff_decide_an_escalated_one(client, sign_in, paid):
    p = paid
    sign_in(p["buyer"])
    _request_form(client, p["order"].id).submit(client, {"target": f"line-{p['line'].id}", "reason": "not_as_described"})
    record = db.session.query(RefundRequest).one()

    sign_in(p["amei"].user)
    decision = page_form(client, f"/shop/requests/{record.id}", having="decision")
    resp = decision.submit(client, {"decision": "decline"})  # no reason given: refused with a message
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).status == "open"
    decision = page_form(client, f"/shop/requests/{record.id}", having="decision")
    decision.submit(client, {"decision": "offer", "amount": "50", "note": "颜色略有差异"})
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).offered_fen == 5000

    sign_in(p["buyer"])
    refuse = page_form(client, f"/orders/{p['order'].id}", action=f"/orders/requests/{record.id}/refuse-offer")
    assert refuse.submit(client).status_code == 302
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).status == "escalated"

    sign_in(p["staff"])
    assert record.number in client.get("/staff/refund-requests").get_data(as_text=True)
    decide = page_form(client, f"/staff/refund-requests/{record.id}", having="decision")
    resp = decide.submit(client, {"decision": "refund", "amount": "80", "note": "部分退款"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(RefundRequest, record.id).status == "refunded"
    refunds = db.session.query(Refund).all()
    assert [(r.amount_fen, r.origin, r.created_by_id) for r in refunds] == [(8000, "request", p["staff"].id)]
    # Answering again (a second tab) changes nothing and says why.
    resp = decide.submit(client, {"decision": "refund"}, follow_redirects=True)
    assert "刚刚已被处理" in resp.get_data(as_text=True)
    assert db.session.query(Refund).count() == 1


def test_a_fully_refunded_parcel_stays_on_the_artisans_list_and_in_her_sales(client, sign_in, paid):
    p = paid
    from market.payments import services as payments

    payments.refund(p["staff"], p["order"].id, sub_order_id=p["sub"].id)  # all of it, before shipping
    db.session.expire_all()
    order = db.session.get(Order, p["order"].id)
    assert order.status == "cancelled" and order.cancel_reason == "refunded"
    sign_in(p["amei"].user)
    listing = client.get("/shop/orders").get_data(as_text=True)
    assert p["sub"].number in listing and "¥198.00" in listing and "ship-form" not in listing
    sales = client.get("/shop/sales").get_data(as_text=True)
    assert 'id="sales-gross">¥198.00' in sales and 'id="sales-refunded">¥198.00' in sales
    assert 'id="sales-revenue">¥0.00' in sales
    # Staff cannot ship what was refunded: the parcel is cancelled.
    assert orders_ops  # (the operations module owns that rule; see test_orders)
