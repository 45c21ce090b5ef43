"""Registration as a browser does it: the password policy, rate limits per client address and
per email, the verification link (works once, expires) and its resend button, and a guest who
signs up (or logs in) at checkout keeps her cart and lands back at checkout."""
import time

import pytest

from market.accounts import services
from market.extensions import db
from market.models import CartItem, User
from tests.support import DEFAULT_PASSWORD, link_in, mails_to, page_form, race_in_threads, submit_form

PASSWORD = "jade-mountain-tea-5"


def _sign_up(client, email: str, url: str = "/account/register", **fields):
    data = {"name": "林小雨", "email": email, "password": PASSWORD, "confirm": PASSWORD, **fields}
    return submit_form(client, url, data)


def test_sign_up_with_the_browser_form_sends_a_verification_link_that_works_once(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    resp = _sign_up(client, "Lin.Xiaoyu@Example.cn")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    user = services.find_user_by_email("lin.xiaoyu@example.cn")
    assert user.role_names == {"buyer"} and not user.email_verified  # the box ticked by default

    # She can shop at once, and her account page asks her to confirm the address.
    page = client.get("/account/").get_data(as_text=True)
    assert 'id="verify-email-notice"' in page and "/account/verify/resend" in page

    [message] = mails_to(user.email)
    link = link_in(message, "/account/verify/")
    resp = client.get(link)
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/"
    db.session.expire_all()
    verified_at = db.session.get(User, user.id).email_verified_at
    assert verified_at is not None
    page = client.get("/account/").get_data(as_text=True)
    assert 'id="verify-email-notice"' not in page and 'id="email-verified"' in page

    # A second use is refused and changes nothing (also from a browser that is not signed in).
    for who in (client, app.test_client()):
        resp = who.get(link)
        assert resp.status_code == 400 and 'id="link-invalid"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at == verified_at


def test_verification_links_expire_and_cannot_be_forged(app, client, make_user):
    user = make_user()
    max_age = app.config["EMAIL_VERIFY_MAX_AGE"]
    old = services.verification_token(user, now=time.time() - max_age - 60)
    assert client.get(f"/account/verify/{old}").status_code == 400
    with pytest.raises(services.LinkInvalid) as refused:
        services.verify_email(services.verification_token(user, now=1_000_000), now=1_000_000 + max_age + 1)
    assert refused.value.reason == "expired"
    reset_token = services.password_reset_token(user)
    assert client.get(f"/account/verify/{reset_token}").status_code == 400
    assert client.get("/account/verify/not-a-token").status_code == 400
    db.session.expire_all()
    assert not db.session.get(User, user.id).email_verified


def test_resend_the_verification_link_from_the_account_page(app, client, make_user):
    app.config["VERIFY_RESEND_RATE_LIMIT"] = "2 per minute"
    user = make_user()
    assert submit_form(client, "/account/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
    resp = submit_form(client, "/account/", action="/account/verify/resend")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/"
    [message] = mails_to(user.email)
    assert client.get(link_in(message, "/account/verify/")).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified
    # Once verified the button is gone; a late click sends nothing.
    assert "/account/verify/resend" not in client.get("/account/").get_data(as_text=True)
    assert client.post("/account/verify/resend").status_code == 302
    assert len(mails_to(user.email)) == 1
    # Limited per account: the third click within the window is refused.
    assert client.post("/account/verify/resend").status_code == 429


def test_resend_needs_a_signed_in_user(client):
    resp = client.post("/account/verify/resend")
    assert resp.status_code == 302 and "/account/login" in resp.headers["Location"]


@pytest.mark.parametrize("password", ["12345678", "password", "PASSWORD", "woaini1314", "123456789", "qwertyuiop",
                                      "Xiaoyu-2026", "short1"])
def test_weak_passwords_are_refused_with_a_message(client, password):
    resp = _sign_up(client, "lin.xiaoyu@example.cn", password=password, confirm=password)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'class="error"' in html
    assert db.session.query(User).count() == 0


def test_the_policy_message_is_translated(client):
    resp = _sign_up(client, "meihua@example.cn", password="12345678", confirm="12345678")
    assert "这个密码太常见" in resp.get_data(as_text=True)
    client.get("/lang/en")
    resp = _sign_up(client, "meihua@example.cn", password="meihua-2026", confirm="meihua-2026")
    assert "must not contain the name part of your email address" in resp.get_data(as_text=True)


def test_an_email_already_registered_is_said_so(client, make_user):
    make_user(email="taken@example.cn")
    resp = _sign_up(client, "TAKEN@example.cn")
    assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True)
    assert db.session.query(User).count() == 1


def test_sign_ups_are_limited_per_client_address(app):
    app.config["REGISTER_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    codes = [_sign_up(client, f"buyer{i}@example.cn").status_code for i in range(3)]
    assert codes == [302, 302, 429]
    resp = app.test_client().post("/account/register", environ_base={"REMOTE_ADDR": "10.9.8.7"}, data={
        "name": "秀英", "email": "buyer9@example.cn", "password": PASSWORD, "confirm": PASSWORD, "roles": ["buyer"]})
    assert resp.status_code == 302


def test_sign_ups_are_limited_per_email(app):
    app.config["REGISTER_EMAIL_RATE_LIMIT"] = "2 per minute"
    data = {"name": "秀英", "email": "xiuying@example.cn", "password": "weak", "confirm": "weak", "roles": ["buyer"]}
    codes = [app.test_client().post("/account/register", data=data,
                                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def _guest_cart_then_checkout(client, product) -> str:
    """A guest puts a product in her cart from its page and goes to checkout: the guest checkout,
    whose "have an account? log in" link is followed."""
    assert submit_form(client, f"/products/{product.id}", {"quantity": "2"}, action="/cart/add").status_code == 302
    resp = client.get("/checkout")
    assert resp.status_code == 200 and 'name="email"' in resp.get_data(as_text=True)
    login_url = _link_by_id(resp.get_data(as_text=True), "checkout-login")
    assert "/account/login" in login_url
    return login_url


def test_a_guest_who_signs_up_at_checkout_keeps_her_cart_and_returns_to_checkout(app, client, make_artisan,
                                                                                 make_product):
    product = make_product(make_artisan(), title="蓝印花布手提包", stock=5)
    login_url = _guest_cart_then_checkout(client, product)
    # The login page's "sign up" link carries her way back.
    register_url = _link_by_id(client.get(login_url).get_data(as_text=True), "register-link")
    assert register_url == "/account/register?next=/checkout"

    resp = _sign_up(client, "new.buyer@example.cn", url=register_url)
    assert resp.status_code == 302 and resp.headers["Location"] == "/checkout"
    user = services.find_user_by_email("new.buyer@example.cn")
    stored = db.session.scalars(db.select(CartItem).where(CartItem.user_id == user.id)).all()
    assert [(c.product_id, c.quantity) for c in stored] == [(product.id, 2)]
    page = client.get("/checkout")
    assert page.status_code == 200 and "蓝印花布手提包" in page.get_data(as_text=True)


def test_a_guest_who_logs_in_at_checkout_keeps_her_cart_and_returns_to_checkout(app, client, make_user, make_artisan,
                                                                                make_product):
    buyer = make_user()
    product = make_product(make_artisan(), title="象山海鲜干货礼盒", stock=5)
    login_url = _guest_cart_then_checkout(client, product)
    resp = submit_form(client, login_url, {"email": buyer.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/checkout"
    assert "象山海鲜干货礼盒" in client.get("/checkout").get_data(as_text=True)


def test_next_after_sign_up_never_leaves_the_site(client):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        resp = _sign_up(client, f"n{abs(hash(target))}@example.cn", url=f"/account/register?next={target}")
        assert resp.status_code == 302 and resp.headers["Location"] == "/", target
        client.post("/account/logout")


def _link_by_id(html: str, element_id: str) -> str:
    import re

    return re.search(rf'<a href="([^"]+)" id="{element_id}"', html).group(1).replace("&amp;", "&")


def test_page_forms_reads_the_register_form_as_a_browser_would(client):
    form = page_form(client, "/account/register", action="", method="post")
    assert form.payload().getlist("roles") == ["buyer"]
    assert form.payload()["password"] == ""


def test_two_clicks_on_one_verification_link_at_once_verify_once(app, make_user):
    user = make_user()
    token = services.verification_token(user)

    def click() -> str:
        try:
            services.verify_email(token)
            return "verified"
        except services.LinkInvalid as e:
            return e.reason

    results = race_in_threads(app, [click] * 3)
    errors = [r for r in results if isinstance(r, BaseException)]
    outcomes = [r for r in results if isinstance(r, str)]
    assert not errors, errors
    assert sorted(outcomes) == ["used", "used", "verified"]
