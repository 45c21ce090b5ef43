"""In headless Chromium against a real localstripe: a guest buys without an account, later
creates one from the thank-you page, verifies her email and finds the order in her account;
and on a 390 px phone the cart and checkout keep everything on screen (element boxes inside
the viewport, no horizontal scrolling), with screenshots kept under tests/artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest

from market.extensions import db
from market.models import Order, User
from tests.support import BROWSER_TIMEOUT_MS, link_in, mails_to, use_localstripe, watch_csp_violations

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}
GUEST = "guest.buyer@example.cn"


def _fill_card(page, number: str) -> None:
    page.wait_for_selector("#card-element input[placeholder=number]")
    page.fill("#card-element input[placeholder=number]", number)
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "315700")


def test_guest_buys_then_registers_verifies_and_sees_the_order(app, live_server, localstripe_url, new_browser_page,
                                                               make_artisan, make_product):
    use_localstripe(app, localstripe_url)
    base = live_server.url
    scarf = make_product(make_artisan(name="秀英绣坊"), title="手工刺绣围巾", price_fen=12800, stock=5)

    page = new_browser_page()
    csp = watch_csp_violations(page)
    page.goto(f"{base}/products/{scarf.id}")
    page.click(".buy-form button[type=submit]")
    page.wait_for_url(f"{base}/cart/")
    page.click("#checkout-link")
    page.wait_for_url(f"{base}/checkout")  # no login page: the guest checkout
    page.fill("input[name=email]", GUEST)
    page.fill("input[name=ship_name]", "林小雨")
    page.fill("input[name=ship_phone]", "138 0013 8000")
    page.fill("textarea[name=ship_address]", "浙江省宁波市象山县丹西街道靖南大街 88 号")
    page.click("#place-order")
    page.wait_for_url("**/pay")
    _fill_card(page, "4242424242424242")
    page.click("#pay-button")
    page.wait_for_url("**/thanks")
    assert "感谢您的订单" in page.inner_text("main") and "已付款" in page.inner_text("#order-status")
    db.session.expire_all()
    order = db.session.scalars(db.select(Order)).one()
    assert order.buyer_id is None and order.status == "paid"
    assert any(order.number in m["Subject"] for m in mails_to(GUEST))

    # The account offered after paying: she creates it (her address is filled in).
    assert page.input_value("#account-offer input[name=email]") == GUEST
    page.fill("#account-offer input[name=password]", "Ningbo-Xiangshan-2026")
    page.fill("#account-offer input[name=confirm]", "Ningbo-Xiangshan-2026")
    with page.expect_navigation():  # the account exists before the next page is opened
        page.click("#create-account")
    page.goto(f"{base}/orders/")
    assert order.number not in page.inner_text("main"), "an unverified account takes no guest order"

    verify = link_in([m for m in mails_to(GUEST) if "/account/verify/" in m.get_content()][-1], "/account/verify/")
    page.goto(f"{base}{verify}")
    page.goto(f"{base}/orders/")
    assert order.number in page.inner_text("main")
    page.click(f"text={order.number}")
    page.wait_for_url(f"{base}/orders/{order.id}")
    assert "手工刺绣围巾" in page.inner_text("main")
    db.session.expire_all()
    user = db.session.scalar(db.select(User).where(User.email == GUEST))
    assert db.session.get(Order, order.id).buyer_id == user.id
    assert csp == []


def _inside(box, width: int) -> bool:
    return box is not None and box["x"] >= -0.5 and box["x"] + box["width"] <= width + 0.5


def test_cart_and_checkout_fit_a_390px_phone(app, live_server, chromium, make_user, make_artisan, make_product):
    from tests.support import login_in_browser

    base = live_server.url
    buyer = make_user(name="林小雨")
    artisan = make_artisan(name="象山石浦阿梅海鲜干货铺")
    products = [make_product(artisan, title="象山石浦手工淡晒东海野生大黄鱼鲞礼盒装（五条）", price_fen=26800, stock=5),
                make_product(artisan, title="宁海十里红妆手工刺绣真丝围巾", price_fen=12800, stock=5)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = chromium.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True,
                               has_touch=True)
    ctx.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = ctx.new_page()
    try:
        login_in_browser(page, base, buyer.email)
        for p in products:
            page.goto(f"{base}/products/{p.id}")
            page.click(".buy-form button[type=submit]")
            page.wait_for_url(f"{base}/cart/")
        shot = ARTIFACTS / "cart-390.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "horizontal scrolling"
        lines = page.locator(".cart-line")
        assert lines.count() == 2
        for i in range(2):
            line = lines.nth(i)
            title = line.locator(".cart-title").bounding_box()
            # The name is not squeezed into a column one character wide.
            assert title["width"] >= 150, title
            for sel in (".cart-title", ".cart-subtotal", ".cart-remove", ".cart-qty", ".c-price"):
                box = line.locator(sel).bounding_box()
                assert _inside(box, PHONE["width"]), (sel, box)
                assert line.locator(sel).is_visible()
        assert _inside(page.locator("#checkout-link").bounding_box(), PHONE["width"])

        page.click("#checkout-link")
        page.wait_for_url(f"{base}/checkout")
        shot = ARTIFACTS / "checkout-390.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for sel in ("input[name=ship_name]", "input[name=ship_phone]", "textarea[name=ship_address]", "#place-order",
                    ".order-summary .price"):
            assert _inside(page.locator(sel).bounding_box(), PHONE["width"]), sel
    finally:
        ctx.close()
