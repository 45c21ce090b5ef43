"""What the refund-request pages promise happens: staff's decision page says “both sides are
told”, so the shop hears of it too (in-app and by mail), not only the buyer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Notice, RefundRequest
from market.returns import operations as returns
from tests.support import mails_to, mark_paid, place, submit_form


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
