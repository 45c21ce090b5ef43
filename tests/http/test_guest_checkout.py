"""Guest checkout through HTTP against a real localstripe: an order without an account, the
signed link mailed to the guest (expired or tampered links refused with a way to ask for a new
one), the confirmation page and mail, and the guest's orders joining an account only when
that account's email is verified (never because an address was typed), once, even when two
verifications race (SQLite and PostgreSQL)."""
from __future__ import annotations

import time

import pytest

from market.accounts import services as accounts
from market.extensions import db
from market.mail import outbox
from market.models import Order, User
from market.orders import guests
from tests.support import (
    link_in,
    login,
    mails_to,
    page_form,
    pay_card,
    race_in_threads,
    use_localstripe,
)

GUEST = "xiaoyu.guest@example.cn"


@pytest.fixture
def stripe_url(app, localstripe_url):
    use_localstripe(app, localstripe_url)
    # pay_card settles the payment outside a request (as the reconcile job may): links in mails
    # are then made from the site's address.
    app.config["PUBLIC_URL"] = "http://localhost"
    return localstripe_url


@pytest.fixture
def scarf(make_artisan, make_product):
    return make_product(make_artisan(name="秀英绣坊"), title="手工刺绣围巾", price_fen=12800, stock=5)


def _guest_checkout(client, product, email=GUEST, **changes):
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    form = page_form(client, "/checkout", action="")
    assert "email" in form.names(), "a guest gets the guest checkout, not the login page"
    fields = {"email": email, "ship_name": "林小雨", "ship_phone": "+86 138-0013-8000",
              "ship_address": "浙江省宁波市象山县丹西街道靖南大街 88 号"}
    fields.update(changes)
    return form.submit(client, fields)


def _only_order() -> Order:
    db.session.expire_all()
    return db.session.scalars(db.select(Order)).one()


def test_a_guest_checks_out_pays_and_gets_the_confirmation_and_a_link(client, app, stripe_url, scarf):
    resp = _guest_checkout(client, scarf)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/pay")
    order = _only_order()
    assert order.buyer_id is None and order.guest_email == GUEST
    assert order.ship_phone == "13800138000"  # +86, spaces and dashes dropped
    assert client.get(f"/orders/{order.id}/pay").status_code == 200  # the browser that placed it may pay

    assert pay_card(order).status == "paid"
    thanks = client.get(f"/orders/{order.id}/thanks")
    page = thanks.get_data(as_text=True)
    assert thanks.status_code == 200 and "感谢您的订单" in page and GUEST in page
    assert 'id="account-offer"' in page and 'value="xiaoyu.guest@example.cn"' in page  # an account offered
    assert f'href="/products/{scarf.id}"' in page  # the order's lines link to their products

    mails = mails_to(GUEST)
    assert len(mails) == 1 and order.number in mails[0]["Subject"]
    body = mails[0].get_content()
    assert "手工刺绣围巾" in body and "¥128.00" in body
    link = link_in(mails[0], "/orders/guest/")

    # Another browser (no session): the link opens the order and proves the mailbox.
    other = app.test_client()
    assert other.get(f"/orders/{order.id}").status_code == 404
    resp = other.get(link)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/orders/{order.id}")
    page = other.get(f"/orders/{order.id}").get_data(as_text=True)
    assert order.number in page and "手工刺绣围巾" in page
    assert _only_order().guest_email_verified_at is not None
    # A stranger's browser still sees nothing.
    assert app.test_client().get(f"/orders/{order.id}").status_code == 404


def test_tampered_and_expired_links_are_refused_and_a_new_one_can_be_asked_for(client, app, scarf):
    _guest_checkout(client, scarf)
    order = _only_order()
    good = guests.make_token(order)
    fresh = app.test_client()

    # Tampered: another order id under the same signature, or a changed character.
    for bad in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), good.replace(".", "x", 1), "nonsense"):
        resp = fresh.get(f"/orders/guest/{bad}")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400 and "链接无效" in page and 'id="guest-resend"' in page
        assert fresh.get(f"/orders/{order.id}").status_code == 404
    # Expired: made longer ago than GUEST_ORDER_LINK_MAX_AGE.
    max_age = app.config["GUEST_ORDER_LINK_MAX_AGE"]
    old = guests.make_token(order, now=time.time() - max_age - 60)
    resp = fresh.get(f"/orders/guest/{old}")
    assert resp.status_code == 400 and "已过期" in resp.get_data(as_text=True)
    assert fresh.get(f"/orders/{order.id}").status_code == 404
    # The setting decides: a shorter life makes a young link expire too.
    app.config["GUEST_ORDER_LINK_MAX_AGE"] = 5
    young = guests.make_token(order, now=time.time() - 10)
    assert fresh.get(f"/orders/guest/{young}").status_code == 400
    app.config["GUEST_ORDER_LINK_MAX_AGE"] = max_age

    # Re-send, as the browser submits the form on the expired-link page.
    outbox().clear()
    form = page_form(fresh, "/orders/guest/resend", action="/orders/guest/resend")
    resp = form.submit(fresh, {"email": "Xiaoyu.Guest@example.cn", "number": order.number})
    assert resp.status_code == 302
    mails = mails_to(GUEST)
    assert len(mails) == 1
    assert fresh.get(link_in(mails[0], "/orders/guest/")).status_code == 302
    assert fresh.get(f"/orders/{order.id}").status_code == 200

    # A wrong address or number: the same answer, no mail, no hint.
    outbox().clear()
    for email, number in (("someone@example.cn", order.number), (GUEST, "SM99999999"), (GUEST, "abc")):
        resp = form.submit(app.test_client(), {"email": email, "number": number}, follow_redirects=True)
        assert resp.status_code == 200 and "新的链接已发往" in resp.get_data(as_text=True)
    assert outbox() == []
    # A bad email in the form: a form message, nothing sent.
    resp = form.submit(app.test_client(), {"email": "not-an-email", "number": order.number})
    assert resp.status_code == 400 and outbox() == []


def test_guest_orders_join_an_account_only_when_its_email_is_verified(client, app, scarf):
    _guest_checkout(client, scarf)
    order = _only_order()

    # She registers with the guest address (a typed address proves nothing).
    other = app.test_client()
    form = page_form(other, "/account/register", action="")
    resp = form.submit(other, {"name": "林小雨", "email": GUEST, "password": "Ningbo-Xiangshan-2026",
                               "confirm": "Ningbo-Xiangshan-2026"})
    assert resp.status_code == 302
    assert _only_order().buyer_id is None
    assert order.number not in other.get("/orders/").get_data(as_text=True)
    # Someone registering a different address gets nothing either.
    user = db.session.scalar(db.select(User).where(User.email == GUEST))
    # Verified by the accounts' own link: the order is hers.
    verify = link_in(mails_to(GUEST)[-1], "/account/verify/")
    assert other.get(verify).status_code == 302
    assert _only_order().buyer_id == user.id
    assert order.number in other.get("/orders/").get_data(as_text=True)
    assert other.get(f"/orders/{order.id}").status_code == 200
    # The old guest link now sends a logged-out browser to log in, not into the order.
    stranger = app.test_client()
    resp = stranger.get(f"/orders/guest/{guests.make_token(_only_order())}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert stranger.get(f"/orders/{order.id}").status_code == 404


def test_a_verified_account_takes_later_guest_orders_at_login(client, app, make_user, scarf):
    user = make_user(email="amei@example.cn")
    db.session.execute(db.update(User).where(User.id == user.id).values(email_verified_at=accounts.utcnow()))
    db.session.commit()
    _guest_checkout(client, scarf, email="AMEI@example.cn")
    assert _only_order().buyer_id is None and _only_order().guest_email == "amei@example.cn"
    login(app.test_client(), user)
    assert _only_order().buyer_id == user.id


def test_two_verifications_at_once_attach_each_guest_order_once(app, make_user, make_artisan, make_product):
    """Two accounts whose addresses differ only in case (an old account from before addresses
    were lowered) and the same account twice, racing: every order ends in exactly one account."""
    from market.orders import operations
    from tests.support import ADDRESS

    app.config["MAX_UNPAID_ORDERS_PER_BUYER"] = 0  # four orders of one guest
    product = make_product(make_artisan(), stock=50)

    for n in range(4):
        operations.place_order(None, {product.id: 1}, ADDRESS, f"guest-token-{n}", guest_email="race@example.cn")
    first = make_user(email="race@example.cn")
    second = make_user(email="other@example.cn")
    now = accounts.utcnow()
    db.session.execute(db.update(User).where(User.id == second.id).values(email="RACE@example.cn"))
    db.session.execute(db.update(User).where(User.id.in_([first.id, second.id])).values(email_verified_at=now))
    db.session.commit()
    ids = [first.id, second.id, first.id, second.id]

    def attach(uid):
        return lambda: guests.attach_guest_orders(db.session.get(User, uid))

    results = race_in_threads(app, [attach(uid) for uid in ids])
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 4
    db.session.expire_all()
    owners = [o.buyer_id for o in db.session.scalars(db.select(Order))]
    assert len(owners) == 4 and None not in owners
    assert len(set(owners)) == 1  # one order never split or moved: all went to the winner at once
    # Nothing left to take: a second round attaches nothing.
    assert race_in_threads(app, [attach(uid) for uid in ids]) == [0, 0, 0, 0]


def test_staff_see_guest_orders_with_the_guest_email(client, app, make_user, scarf):
    _guest_checkout(client, scarf)
    order = _only_order()
    staff = app.test_client()
    login(staff, make_user(("staff",)))
    listing = staff.get("/staff/orders")
    assert listing.status_code == 200 and GUEST in listing.get_data(as_text=True)
    page = staff.get(f"/staff/orders/{order.id}")
    assert page.status_code == 200 and GUEST in page.get_data(as_text=True) and "访客" in page.get_data(as_text=True)
