"""End to end in headless Chromium against a real localstripe: a buyer asks for a refund of
one parcel, the artisan accepts, the buyer sees it refunded, the artisan's order list and
statement show it; finance staff make a payout batch and pay it, and the artisan sees the
payout with its reference."""
import uuid

import pytest

from market.accounts.services import grant_role
from market.extensions import db
from market.models import Order, RefundRequest
from tests.support import login_in_browser as _login
from tests.support import pay_card, place, ship_and_deliver, use_localstripe, watch_csp_violations

pytestmark = pytest.mark.browser


def test_refund_request_to_statement_to_payout(
    app, live_server, localstripe_url, new_browser_page, make_user, make_artisan, make_product
):
    use_localstripe(app, localstripe_url)
    base = live_server.url
    buyer = make_user(("buyer",), name="林小雨")
    staff = make_user(("staff",))
    finance = make_user(("staff",))
    grant_role(staff, finance, "finance")
    amei = make_artisan(name="阿梅刺绣")
    scarf = make_product(amei, title="手工刺绣围巾", price_fen=12800, stock=5)
    # An earlier sale, delivered 8 days ago: due for payout.
    earlier = place(buyer, {scarf: 1}, token=uuid.uuid4().hex)
    assert pay_card(earlier).status == "paid"
    earlier_sub = db.session.get(Order, earlier.id).sub_orders[0].id
    ship_and_deliver(staff, earlier_sub, days_ago=8)
    order = place(buyer, {scarf: 2}, token=uuid.uuid4().hex)
    assert pay_card(order).status == "paid"

    page = new_browser_page()
    csp = watch_csp_violations(page)
    _login(page, base, buyer.email)
    page.goto(f"{base}/orders/{order.id}")
    page.click("#ask-refund")
    page.select_option("select[name=reason]", "damaged")
    page.fill("textarea[name=note]", "围巾有破洞")
    page.click("#refund-request-form button[type=submit]")
    page.wait_for_url(f"{base}/orders/{order.id}")
    assert "等待店家回复" in page.inner_text("#refund-requests")
    record = db.session.scalars(db.select(RefundRequest)).one()

    shop = new_browser_page()
    _login(shop, base, amei.user.email)
    shop.goto(f"{base}/shop/orders")
    assert record.number in shop.inner_text("main")
    shop.goto(f"{base}/shop/requests/{record.id}")
    shop.select_option("select[name=decision]", "accept")
    shop.click("#decision-form button[type=submit]")
    shop.wait_for_selector(".flash-success")
    assert "已退款" in shop.inner_text(".request-status")

    page.goto(f"{base}/orders/{order.id}")
    assert "已退款" in page.inner_text("#refund-requests") and "¥256.00" in page.inner_text("#order-refunded")

    shop.goto(f"{base}/shop/orders")
    parcel = shop.locator(f"[data-sub-order='{order.sub_orders[0].id}']")
    assert "¥256.00" in parcel.inner_text() and "已退款" in parcel.inner_text()
    shop.goto(f"{base}/shop/statement")
    assert shop.inner_text("#ledger-due") == "¥128.00" and shop.inner_text("#ledger-balance") == "¥128.00"
    assert "-¥256.00" in shop.inner_text("#ledger-entries")

    money = new_browser_page()
    _login(money, base, finance.email)
    money.goto(f"{base}/staff/payouts")
    money.click("#batch-form button[type=submit]")
    money.wait_for_selector(".pay-form")
    assert "¥128.00" in money.inner_text(".payout")
    money.fill(".pay-form input[name=reference]", "ICBC-20261127-001")
    money.click(".pay-form button[type=submit]")
    money.wait_for_selector(".payout-status.status-paid")

    shop.goto(f"{base}/shop/statement")
    assert "ICBC-20261127-001" in shop.inner_text("#payouts")
    assert shop.inner_text("#ledger-balance") == "¥0.00"
    assert csp == []
