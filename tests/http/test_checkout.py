"""Cart and checkout through HTTP: the guest cart merges at login, bad addresses get form
errors and write nothing, a checkout splits the order per artisan, each artisan sees and ships
only her own parcel, and invalid state changes are refused with a message."""
from __future__ import annotations

from market.extensions import db
from market.models import CartItem, Order, Product, SubOrder
from market.orders import services as orders
from tests.support import checkout_data, login, mark_paid, place, use_localstripe


def _paid_order(buyer, items):
    order = place(buyer, items)
    assert mark_paid(order) == "paid"
    return order


def test_guest_cart_is_capped_at_stock_and_merged_at_login(client, make_user, make_artisan, make_product):
    buyer = make_user()
    product = make_product(make_artisan(), stock=3)
    assert client.post("/cart/add", data={"product_id": product.id, "quantity": 2}).status_code == 302
    resp = client.post("/cart/add", data={"product_id": product.id, "quantity": 5}, follow_redirects=True)
    assert "仅剩 3 件" in resp.get_data(as_text=True)  # 2 + 5 > 3 in stock: refused, cart unchanged
    assert client.post("/cart/add", data={"product_id": 999_999}).status_code == 302
    # The buyer already had one in her stored cart from another device.
    db.session.add(CartItem(user_id=buyer.id, product_id=product.id, quantity=1))
    db.session.commit()

    login(client, buyer)
    db.session.expire_all()
    stored = db.session.scalars(db.select(CartItem).where(CartItem.user_id == buyer.id)).all()
    assert [(c.product_id, c.quantity) for c in stored] == [(product.id, 3)]
    page = client.get("/cart/").get_data(as_text=True)
    assert product.title in page and "¥297.00" in page


def test_bad_address_gets_form_errors_and_places_no_order(client, make_user, make_artisan, make_product):
    buyer = make_user()
    product = make_product(make_artisan(), stock=3)
    login(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    resp = client.post("/checkout", data=checkout_data(client, ship_phone="12345"))
    assert resp.status_code == 200
    assert "请填写中国大陆手机号码" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 3


def test_checkout_splits_per_artisan_and_snapshots_lines(app, client, localstripe_url, make_user, make_artisan,
                                                        make_product):
    use_localstripe(app, localstripe_url)
    buyer = make_user()
    a1, a2 = make_artisan(name="秀英绣坊"), make_artisan(name="阿梅海鲜")
    scarf = make_product(a1, title="手工刺绣围巾", price_fen=12800, stock=5)
    fan = make_product(a1, title="真丝团扇", price_fen=8800, stock=5)
    fish = make_product(a2, title="象山海鲜礼盒", price_fen=26800, stock=3)
    login(client, buyer)
    for p, q in ((scarf, 2), (fan, 1), (fish, 1)):
        client.post("/cart/add", data={"product_id": p.id, "quantity": q})

    form = checkout_data(client)
    first = client.post("/checkout", data=form)
    again = client.post("/checkout", data=form)  # double-submitted form: same order
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    order = db.session.scalars(db.select(Order)).one()
    # Checkout never calls the payments API: the PaymentIntent is made when she pays.
    assert order.total_fen == 2 * 12800 + 8800 + 26800 and order.payment_intent_id is None
    subs = {s.artisan_name: sorted((ln.title, ln.quantity) for ln in s.lines) for s in order.sub_orders}
    assert subs == {"秀英绣坊": sorted([("真丝团扇", 1), ("手工刺绣围巾", 2)]), "阿梅海鲜": [("象山海鲜礼盒", 1)]}

    # The line keeps the price paid even if the artisan changes it later.
    db.session.get(Product, scarf.id).price_fen = 1
    db.session.commit()
    db.session.expire_all()
    assert {ln.unit_price_fen for ln in db.session.get(Order, order.id).lines if ln.title == "手工刺绣围巾"} == {12800}
    assert db.session.scalar(db.select(db.func.count()).select_from(CartItem)) == 0


def test_each_artisan_sees_and_ships_only_her_own_parcel(app, make_user, make_artisan, make_product):
    buyer = make_user()
    a1, a2 = make_artisan(name="秀英绣坊"), make_artisan(name="阿梅海鲜")
    scarf = make_product(a1, title="手工刺绣围巾", stock=5)
    fish = make_product(a2, title="象山海鲜礼盒", stock=5)
    order = _paid_order(buyer, {scarf: 1, fish: 1})
    sub1, sub2 = sorted(order.sub_orders, key=lambda s: s.artisan_id)
    unpaid = place(buyer, {scarf: 1})

    c1 = app.test_client()
    login(c1, a1.user)
    page = c1.get("/shop/orders").get_data(as_text=True)
    assert "手工刺绣围巾" in page and "象山海鲜礼盒" not in page
    assert unpaid.sub_orders[0].number not in page  # unpaid orders are not hers to ship yet
    # Shipping the other artisan's parcel: 404, and it stays unshipped.
    resp = c1.post(f"/shop/orders/{sub2.id}/ship", data={"carrier": "顺丰", "tracking_number": "SF1234567890"})
    assert resp.status_code == 404
    resp = c1.post(f"/shop/orders/{sub1.id}/ship", data={"carrier": "顺丰", "tracking_number": "短"},
                   follow_redirects=True)
    assert "请填写快递单号" in resp.get_data(as_text=True)
    c1.post(f"/shop/orders/{sub1.id}/ship", data={"carrier": "顺丰", "tracking_number": "SF1234567890"})
    again = c1.post(f"/shop/orders/{sub1.id}/ship", data={"carrier": "中通", "tracking_number": "ZT0000000000"},
                    follow_redirects=True)
    assert "无法操作" in again.get_data(as_text=True)  # shipped cannot be shipped again
    db.session.expire_all()
    assert db.session.get(SubOrder, sub1.id).tracking_number == "SF1234567890"
    assert db.session.get(SubOrder, sub2.id).status == "awaiting_shipment"

    # The buyer sees the parcel shipped and can confirm receipt; another buyer cannot see the order.
    bc = app.test_client()
    login(bc, buyer)
    assert "SF1234567890" in bc.get(f"/orders/{order.id}").get_data(as_text=True)
    bc.post(f"/orders/parcels/{sub1.id}/received")
    db.session.expire_all()
    assert db.session.get(SubOrder, sub1.id).status == "delivered"
    stranger = app.test_client()
    login(stranger, make_user())
    assert stranger.get(f"/orders/{order.id}").status_code == 404

    months, total = orders.sales_summary(a1)
    assert total.units == 1 and total.revenue_fen == scarf.price_fen and total.orders == 1
