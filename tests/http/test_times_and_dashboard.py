"""Times are shown in Beijing time (the TIMEZONE setting) wherever orders show them, and the
artisan's dashboard shows the right figures on known data: parcels to ship, low stock under
her threshold, sold out (not "published"), this month against last month net of refunds,
refunds of her parcels on her order list, and her ledger once she has payouts."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from market.extensions import db
from market.models import Order, Payout, PayoutBatch, SubOrder
from market.orders import operations
from market.timefmt import local_now, localtime, month_start_utc
from tests.support import login, mark_paid, page_form, place

KNOWN_UTC = datetime(2026, 3, 1, 17, 30)  # 2026-03-02 01:30 in Beijing: another day


def _set(order_id: int, **values) -> None:
    db.session.execute(db.update(Order).where(Order.id == order_id).values(**values))
    db.session.commit()
    db.session.expire_all()


def test_order_times_are_shown_in_beijing_time(client, app, make_user, make_artisan, make_product):
    buyer = make_user()
    artisan = make_artisan()
    order = place(buyer, {make_product(artisan, stock=5): 1})
    _set(order.id, created_at=KNOWN_UTC, expires_at=KNOWN_UTC + timedelta(minutes=30))
    login(client, buyer)

    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "2026-03-02 01:30" in page and "2026-03-01 17:30" not in page and "UTC" not in page
    assert "2026-03-02" in client.get("/orders/").get_data(as_text=True)
    pay = client.get(f"/orders/{order.id}/pay").get_data(as_text=True)
    assert "北京时间 2026-03-02 02:00" in pay and "UTC" not in pay

    mark_paid(order)
    _set(order.id, paid_at=KNOWN_UTC)
    seller = app.test_client()
    login(seller, artisan.user)
    shop = seller.get("/shop/orders").get_data(as_text=True)
    assert "2026-03-02" in shop and "2026-03-01" not in shop

    # The setting decides: the same stored time in UTC when TIMEZONE says so.
    app.config["TIMEZONE"] = "UTC"
    try:
        assert "2026-03-01 17:30" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    finally:
        app.config["TIMEZONE"] = "Asia/Shanghai"


def test_the_localtime_filter(app):
    with app.app_context():
        assert localtime(KNOWN_UTC) == "2026-03-02 01:30"
        assert localtime(KNOWN_UTC, "date") == "2026-03-02"
        assert localtime(KNOWN_UTC, "month") == "2026-03"
        assert localtime(None) == ""
        assert localtime(KNOWN_UTC.date(), "date") == "2026-03-01"  # a date has no zone
        # Beijing months start at 16:00 UTC the day before.
        assert month_start_utc(2026, 3) == datetime(2026, 2, 28, 16, 0)
        assert month_start_utc(2026, 0) == datetime(2025, 11, 30, 16, 0)


def _figure(page: str, fid: str) -> str:
    match = re.search(rf'id="{fid}"[^>]*>\s*<strong>([^<]+)</strong>', page)
    assert match, f"no figure {fid}"
    return match.group(1).strip()


def test_artisan_dashboard_figures_on_known_data(client, app, make_user, make_artisan, make_product, monkeypatch):
    from market.artisans import dashboard

    artisan = make_artisan(name="秀英绣坊")
    other = make_artisan(name="阿梅海鲜")
    buyer = make_user()
    scarf = make_product(artisan, title="手工刺绣围巾", price_fen=10000, stock=20)
    purse = make_product(artisan, title="刺绣零钱包", price_fen=5000, stock=2)  # low (threshold 3)
    fan = make_product(artisan, title="刺绣团扇", price_fen=8000, stock=1)
    make_product(artisan, title="草稿香囊", stock=0, status="draft")  # a draft is neither low nor sold out
    fish = make_product(other, title="淡晒虾干", price_fen=6000, stock=10)

    # The dashboard's "now" is pinned mid-month: on the wall clock, "5 minutes ago" falls in last
    # month during the first minutes of a Beijing month (16:00 UTC on the last day).
    now = datetime(2026, 6, 15, 12, 0, tzinfo=local_now().tzinfo)
    monkeypatch.setattr(dashboard, "local_now", lambda: now)
    this_month = now.astimezone(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    last_month = month_start_utc(now.year, now.month) - timedelta(days=3)

    # This month: two parcels of hers (one shipped), one with another artisan's parcel too.
    first = place(buyer, {scarf: 2, fish: 1})  # her parcel 20000
    second = place(buyer, {purse: 1})  # 5000
    third = place(buyer, {fan: 1})  # last month: 8000 -> the fan is now sold out
    for order, paid_at in ((first, this_month), (second, this_month), (third, last_month)):
        mark_paid(order)
        _set(order.id, paid_at=paid_at)
    own_sub = lambda o: db.session.scalar(db.select(SubOrder).where(SubOrder.order_id == o.id,  # noqa: E731
                                                                     SubOrder.artisan_id == artisan.id))
    operations.ship(artisan.user, own_sub(second).id, "顺丰", "SF1234567890")
    # A staff refund of one of her parcels (part of it), settled.
    staff = make_user(("staff",))
    refund, _new = operations.reserve_refund(staff, first.id, amount=3000, sub_order_id=own_sub(first).id,
                                             reason="包装破损")
    operations.settle_refund(refund.id, "re_test_1")

    login(client, artisan.user)
    page = client.get("/shop/").get_data(as_text=True)
    assert _figure(page, "figure-to-ship") == "2"  # the first and third orders (the second shipped)
    assert _figure(page, "figure-low-stock") == "1"  # the purse: 1 left after the sale, under 3
    assert _figure(page, "figure-sold-out") == "1"  # the fan
    assert _figure(page, "figure-this-month") == "¥220.00"  # 200 + 50 - 30 refunded
    assert _figure(page, "figure-last-month") == "¥80.00"
    assert "+175%" in page  # (220 - 80) / 80
    # The sold-out product says so in her list, not "published".
    row = re.search(r"刺绣团扇.*?</tr>", page, re.S).group(0)
    assert "已售罄" in row and "已上架" not in row
    assert 'id="ledger-link"' not in page  # no payouts yet

    # The refund of her parcel is on her order list.
    orders_page = client.get("/shop/orders").get_data(as_text=True)
    assert "¥30.00" in orders_page and "包装破损" in orders_page and 'class="sub-refund refund-succeeded"' in orders_page

    # Her threshold, set with the form as a browser submits it.
    form = page_form(client, "/shop/", action="/shop/low-stock")
    assert form.value("threshold") == "3"
    form.submit(client, {"threshold": "0"})
    page = client.get("/shop/").get_data(as_text=True)
    assert _figure(page, "figure-low-stock") == "0" and _figure(page, "figure-sold-out") == "1"
    for bad in ("-1", "abc", "1000", ""):
        resp = form.submit(client, {"threshold": bad}, follow_redirects=True)
        assert resp.status_code == 200 and "0 到 999" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(artisan), artisan.id).low_stock_threshold == 0

    # Once she has a payout, her ledger is linked.
    batch = PayoutBatch(as_of=datetime.utcnow(), minimum_fen=100)
    db.session.add(batch)
    db.session.flush()
    db.session.add(Payout(batch_id=batch.id, artisan_id=artisan.id, amount_fen=1000, status="paid"))
    db.session.commit()
    assert 'id="ledger-link"' in client.get("/shop/").get_data(as_text=True)


def test_a_whole_order_refund_shows_on_each_of_its_parcels(client, make_user, make_artisan, make_product):
    artisan = make_artisan()
    buyer = make_user()
    order = place(buyer, {make_product(artisan, price_fen=9900, stock=3): 1})
    mark_paid(order)
    refund, _new = operations.reserve_refund(make_user(("staff",)), order.id, amount=9900, reason="整单退款")
    operations.settle_refund(refund.id, "re_test_2")
    login(client, artisan.user)
    page = client.get("/shop/orders").get_data(as_text=True)
    assert "¥99.00" in page and "整单退款" in page and "整个订单" in page
