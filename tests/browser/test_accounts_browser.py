"""End to end in headless Chromium: a guest fills her cart, goes to checkout, follows its "log in"
link, signs up from the login page and lands back at checkout with her cart; her account page asks her to confirm her
address, and the mailed link confirms it. Then she forgets her password and sets a new one."""
import pytest

from market.extensions import db
from market.models import User
from tests.support import link_in, mails_to

pytestmark = pytest.mark.browser


def test_guest_signs_up_at_checkout_keeps_her_cart_and_verifies_her_email(live_server, browser_page, make_artisan,
                                                                          make_product):
    base = live_server.url
    product = make_product(make_artisan(name="秀英绣坊"), title="蓝印花布手提包", stock=4)
    page = browser_page

    page.goto(f"{base}/products/{product.id}")
    page.fill(".buy-form input[name=quantity]", "2")
    page.click(".buy-form button[type=submit]")
    page.wait_for_url(f"{base}/cart/")
    page.click("#checkout-link")
    page.wait_for_url(f"{base}/checkout")  # the guest checkout, which offers to log in
    page.click("#checkout-login")
    page.wait_for_url(f"{base}/account/login?next=/checkout")

    page.click("#register-link")
    page.wait_for_url(f"{base}/account/register?next=/checkout")
    page.fill("input[name=name]", "林小雨")
    page.fill("input[name=email]", "xiaoyu@example.cn")
    page.fill("input[name=password]", "12345678")  # refused: among the commonest
    page.fill("input[name=confirm]", "12345678")
    page.click("main form button[type=submit]")
    page.wait_for_selector("main small.error")
    assert "这个密码太常见" in page.inner_text("main")

    page.fill("input[name=password]", "jade-mountain-tea-5")
    page.fill("input[name=confirm]", "jade-mountain-tea-5")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/checkout")
    assert "蓝印花布手提包" in page.inner_text("main")

    page.goto(f"{base}/account/")
    assert page.is_visible("#verify-email-notice")
    [message] = mails_to("xiaoyu@example.cn")
    page.goto(base + link_in(message, "/account/verify/"))
    page.wait_for_url(f"{base}/account/")
    assert page.is_visible("#email-verified") and not page.is_visible("#verify-email-notice")


def test_forgotten_password_is_reset_from_the_mailed_link(live_server, browser_page, make_user):
    base = live_server.url
    user = make_user(email="meihua@example.cn")
    page = browser_page
    page.goto(f"{base}/account/login")
    page.click("text=忘记密码？")
    page.wait_for_url("**/account/password/forgot")  # the login page has an email field too
    page.fill("input[name=email]", user.email)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#reset-requested")

    page.goto(base + link_in(mails_to(user.email)[0], "/account/password/reset/"))
    page.fill("input[name=password]", "lotus-pond-morning-7")
    page.fill("input[name=confirm]", "lotus-pond-morning-7")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/account/")
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("lotus-pond-morning-7")
