"""End to end in headless Chromium against a real localstripe: a buyer puts products of two
artisans in her cart, pays with a test card through Stripe.js, and sees the order paid; each
artisan sees only her own parcel and marks it shipped; the buyer sees both parcels shipped."""
import pytest

from market.extensions import db
from market.models import Order, Product
from tests.support import login_in_browser as _login
from tests.support import use_localstripe, watch_csp_violations

pytestmark = pytest.mark.browser


def _fill_card(page, number: str) -> None:
    # localstripe's Stripe.js renders plain inputs named by placeholder inside the element.
    page.wait_for_selector("#card-element input[placeholder=number]")
    page.fill("#card-element input[placeholder=number]", number)
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "315700")


def test_buyer_pays_for_two_artisans_and_each_ships_her_parcel(
    app, live_server, localstripe_url, new_browser_page, make_user, make_artisan, make_product
):
    use_localstripe(app, localstripe_url)
    base = live_server.url
    buyer = make_user(("buyer",), name="林小雨")
    xiuying, amei = make_artisan(name="秀英绣坊"), make_artisan(name="阿梅海鲜", district="宁海县")
    scarf = make_product(xiuying, title="手工刺绣围巾", price_fen=12800, stock=5)
    fish = make_product(amei, title="象山海鲜礼盒", price_fen=26800, stock=3, category="seafood")

    page = new_browser_page()
    csp_violations = watch_csp_violations(page)  # Stripe.js included: the pay page works under the CSP
    _login(page, base, buyer.email)
    for product in (scarf, fish):
        page.goto(f"{base}/products/{product.id}")
        page.click(".buy-form button[type=submit]")
        page.wait_for_url(f"{base}/cart/")
    assert "手工刺绣围巾" in page.inner_text("main") and "象山海鲜礼盒" in page.inner_text("main")

    page.click("text=去结算")
    page.fill("input[name=ship_name]", "林小雨")
    page.fill("input[name=ship_phone]", "13800138000")
    page.fill("textarea[name=ship_address]", "浙江省宁波市象山县丹西街道靖南大街 88 号")
    page.click("#place-order")
    page.wait_for_url("**/pay")
    assert "¥396.00" in page.inner_text("main")

    _fill_card(page, "4242424242424242")
    page.click("#pay-button")
    page.wait_for_selector("#order-status:has-text('已付款')")
    db.session.expire_all()
    order = db.session.scalars(db.select(Order)).one()
    assert order.status == "paid" and len(order.sub_orders) == 2
    assert db.session.get(Product, scarf.id).stock == 4 and db.session.get(Product, fish.id).stock == 2

    for artisan, own, other, tracking in ((xiuying, "手工刺绣围巾", "象山海鲜礼盒", "SF1234567890"),
                                          (amei, "象山海鲜礼盒", "手工刺绣围巾", "ZT9876543210")):
        shop = new_browser_page()
        _login(shop, base, artisan.user.email)
        shop.goto(f"{base}/shop/orders")
        text = shop.inner_text("main")
        assert own in text and other not in text, "an artisan must see only her own parcel"
        shop.fill(".ship-form input[name=carrier]", "顺丰")
        shop.fill(".ship-form input[name=tracking_number]", tracking)
        shop.click(".ship-form button[type=submit]")
        shop.wait_for_selector(".flash-success")
        assert "已发货" in shop.inner_text(".sub-status")

    page.goto(f"{base}/orders/{order.id}")
    statuses = page.locator(".parcel .sub-status").all_inner_texts()
    assert statuses == ["已发货", "已发货"]
    assert "SF1234567890" in page.inner_text("main") and "ZT9876543210" in page.inner_text("main")
    assert csp_violations == []


def test_declined_card_shows_a_clear_message_and_releases_the_stock(
    app, live_server, localstripe_url, new_browser_page, make_user, make_artisan, make_product
):
    use_localstripe(app, localstripe_url)
    base = live_server.url
    buyer = make_user(("buyer",))
    scarf = make_product(make_artisan(name="秀英绣坊"), title="手工刺绣围巾", price_fen=12800, stock=1)

    page = new_browser_page()
    csp_violations = watch_csp_violations(page)  # Stripe.js included: the pay page works under the CSP
    _login(page, base, buyer.email)
    page.goto(f"{base}/products/{scarf.id}")
    page.click(".buy-form button[type=submit]")
    page.wait_for_url(f"{base}/cart/")  # in the cart before checkout is opened
    page.goto(f"{base}/checkout")
    page.fill("input[name=ship_phone]", "13800138000")
    page.fill("textarea[name=ship_address]", "浙江省宁波市象山县丹西街道靖南大街 88 号")
    page.click("#place-order")
    page.wait_for_url("**/pay")
    db.session.expire_all()
    assert db.session.get(Product, scarf.id).stock == 0  # reserved while she pays

    _fill_card(page, "4000000000000341")
    page.click("#pay-button")
    page.wait_for_selector("#payment-message:not([hidden])")
    assert "银行卡被拒绝" in page.inner_text("#payment-message")
    db.session.expire_all()
    assert db.session.get(Product, scarf.id).stock == 1
    page.click("#back-to-cart a")
    page.wait_for_url(f"{base}/cart/")  # the pay page names the scarf too
    assert "手工刺绣围巾" in page.inner_text("main")  # back in the cart for another try
    assert csp_violations == []


def test_payments_api_down_the_buyer_is_told_and_pays_when_it_is_back(
    app, live_server, localstripe_url, new_browser_page, make_user, make_artisan, make_product
):
    """Stripe.js still loads (it is served apart from the API), but the payments API does not
    answer our server: checkout is not held up, pressing pay says so, and pressing it again
    once the API is back pays."""
    from market.localstripe_proc import free_port

    use_localstripe(app, localstripe_url)
    app.config.update(STRIPE_JS_URL=f"{localstripe_url}/js.stripe.com/v3/",
                      STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_CONNECT_TIMEOUT=0.5)
    base = live_server.url
    buyer = make_user(("buyer",))
    scarf = make_product(make_artisan(name="秀英绣坊"), title="手工刺绣围巾", price_fen=12800, stock=2)

    page = new_browser_page()
    _login(page, base, buyer.email)
    page.goto(f"{base}/products/{scarf.id}")
    page.click(".buy-form button[type=submit]")
    page.wait_for_url(f"{base}/cart/")  # in the cart before checkout is opened
    page.goto(f"{base}/checkout")
    page.fill("input[name=ship_phone]", "13800138000")
    page.fill("textarea[name=ship_address]", "浙江省宁波市象山县丹西街道靖南大街 88 号")
    page.click("#place-order")
    page.wait_for_url("**/pay")
    _fill_card(page, "4242424242424242")
    page.click("#pay-button")
    page.wait_for_selector("#payment-message:not([hidden])")
    assert "支付服务暂时无法连接" in page.inner_text("#payment-message")
    assert page.is_enabled("#pay-button")  # she may try again
    db.session.expire_all()
    order = db.session.scalars(db.select(Order)).one()
    assert order.status == "pending_payment" and db.session.get(Product, scarf.id).stock == 1

    app.config["STRIPE_API_BASE"] = localstripe_url  # the API is back
    _fill_card(page, "4242424242424242")
    page.click("#pay-button")
    page.wait_for_selector("#order-status:has-text('已付款')")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
