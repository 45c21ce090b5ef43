"""The order page offers “ask for a refund or a return” only while something on the order can
still be asked for: a parcel delivered more than REFUND_REQUEST_DAYS ago is not offered (every
request for it would be refused), and the form lists only what is still open."""
from __future__ import annotations

from tests.support import mark_paid, page_form, place, ship_and_deliver


def test_no_refund_offer_on_an_order_delivered_long_ago(client, login_as, make_user, make_artisan, make_product):
    buyer, staff = make_user(), make_user(("staff",))
    order = place(buyer, {make_product(make_artisan(), title="刺绣围巾"): 1})
    mark_paid(order)
    ship_and_deliver(staff, order.sub_orders[0].id, days_ago=40)
    login_as(buyer)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'id="ask-refund"' not in page
    resp = client.get(f"/orders/{order.id}/request")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/orders/{order.id}"


def test_the_form_lists_only_parcels_still_open(client, login_as, make_user, make_artisan, make_product):
    buyer, staff = make_user(), make_user(("staff",))
    old = make_product(make_artisan(name="阿梅刺绣"), title="刺绣围巾")
    new = make_product(make_artisan(name="阿珍海鲜"), title="海鲜礼盒", category="seafood")
    order = place(buyer, {old: 1, new: 1})
    mark_paid(order)
    subs = {s.artisan_name: s.id for s in order.sub_orders}
    ship_and_deliver(staff, subs["阿梅刺绣"], days_ago=40)
    ship_and_deliver(staff, subs["阿珍海鲜"], days_ago=2)
    login_as(buyer)
    assert 'id="ask-refund"' in client.get(f"/orders/{order.id}").get_data(as_text=True)
    form = page_form(client, f"/orders/{order.id}/request", having="target")
    assert all(key.split("-")[0] in ("sub", "line") for key in form.choices["target"])
    open_keys = set(form.choices["target"])
    assert f"sub-{subs['阿珍海鲜']}" in open_keys and f"sub-{subs['阿梅刺绣']}" not in open_keys
    # Sent unchanged (the first choice, as a browser would), with a reason: it is accepted.
    resp = form.submit(client, {"reason": "damaged"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
