"""One checkout token per version of the cart (two tabs make one order), and the hoarding
limits: unpaid orders per buyer, units of one product per buyer in unpaid orders, and the
checkout rate, all configurable; the limits hold when one buyer's checkouts race."""
from __future__ import annotations

import uuid

import pytest

from market.extensions import db
from market.models import Order
from market.orders import operations
from market.orders.errors import LimitReached
from tests.support import ADDRESS, checkout_data, login, place, race_in_threads, stock_of


def _orders() -> list[Order]:
    db.session.expire_all()
    return db.session.scalars(db.select(Order)).all()


def test_two_tabs_of_one_cart_make_one_order(app, make_user, make_artisan, make_product):
    buyer = make_user()
    product = make_product(make_artisan(), stock=5)
    tab1, tab2 = app.test_client(), app.test_client()
    for tab in (tab1, tab2):
        login(tab, buyer)
    tab1.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    form1, form2 = checkout_data(tab1), checkout_data(tab2)  # both tabs show the checkout page
    assert form1["checkout_token"] == form2["checkout_token"]
    results = race_in_threads(app, [lambda: tab1.post("/checkout", data=form1),
                                    lambda: tab2.post("/checkout", data=form2)])
    assert [r.status_code for r in results] == [302, 302], results
    assert results[0].headers["Location"] == results[1].headers["Location"]
    assert len(_orders()) == 1 and stock_of(product) == 3

    # The next cart (even with the same contents) is a new version: a new order.
    tab1.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    form3 = checkout_data(tab1)
    assert form3["checkout_token"] != form1["checkout_token"]
    assert tab1.post("/checkout", data=form3).status_code == 302
    assert len(_orders()) == 2


@pytest.mark.parametrize("winner_lands_before", ["cart_read", "token_computed"])
def test_the_losing_tab_is_sent_to_the_winners_order(app, monkeypatch, make_user, make_artisan, make_product,
                                                     winner_lands_before):
    """The race the threaded test above only sometimes hits, made certain: the second tab
    looked for an order with its token before the first tab's order existed, and the first
    tab then placed it (emptying the cart, moving the token on) before the second read the
    cart or computed its token. The second tab goes to that order, not to an error."""
    from market.cart import services as cart
    from market.orders import services

    buyer = make_user()
    product = make_product(make_artisan(), stock=5)
    tab1, tab2 = app.test_client(), app.test_client()
    for tab in (tab1, tab2):
        login(tab, buyer)
    tab1.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    form1, form2 = checkout_data(tab1), checkout_data(tab2)
    target = (cart, "view_cart") if winner_lands_before == "cart_read" else (services, "checkout_token")
    real = getattr(*target)
    winner = []

    def first_tab_lands_first(*args, **kwargs):
        if not winner:  # tab 2's call: tab 1 places the whole order now, in its own thread
            winner.append(None)
            winner[:] = race_in_threads(app, [lambda: tab1.post("/checkout", data=form1)])
        return real(*args, **kwargs)

    monkeypatch.setattr(*target, first_tab_lands_first)
    loser = tab2.post("/checkout", data=form2)
    assert winner[0].status_code == 302, winner
    assert loser.status_code == 302 and loser.headers["Location"] == winner[0].headers["Location"]
    assert len(_orders()) == 1 and stock_of(product) == 3


def test_a_tab_whose_cart_changed_meanwhile_places_nothing(app, client, login_as, make_user, make_artisan,
                                                          make_product):
    buyer = make_user()
    product = make_product(make_artisan(), stock=5)
    login_as(buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    stale = checkout_data(client)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})  # another tab adds one
    resp = client.post("/checkout", data=stale)
    assert resp.status_code == 200 and "购物车有变化" in resp.get_data(as_text=True)
    assert _orders() == [] and stock_of(product) == 5
    assert client.post("/checkout", data=checkout_data(client)).status_code == 302  # the fresh page works
    assert [o.total_fen for o in _orders()] == [2 * product.price_fen]


def test_unpaid_orders_per_buyer_are_limited(app, client, login_as, make_user, make_artisan, make_product):
    app.config["MAX_UNPAID_ORDERS_PER_BUYER"] = 2
    buyer = make_user()
    a, b, c = (make_product(make_artisan(), stock=5) for _ in range(3))
    place(buyer, {a: 1})
    place(buyer, {b: 1})
    login_as(buyer)
    client.post("/cart/add", data={"product_id": c.id, "quantity": 1})
    resp = client.post("/checkout", data=checkout_data(client), follow_redirects=True)
    assert "2 个未付款订单" in resp.get_data(as_text=True)
    assert len(_orders()) == 2 and stock_of(c) == 5
    # Paying (or cancelling) one frees a place.
    assert operations.cancel_unpaid(_orders()[0].id, "cancelled_by_buyer")
    assert client.post("/checkout", data=checkout_data(client)).status_code == 302
    assert stock_of(c) == 4


def test_units_of_one_product_in_unpaid_orders_are_limited(app, make_user, make_artisan, make_product):
    app.config["MAX_UNPAID_UNITS_PER_PRODUCT"] = 3
    buyer = make_user()
    product = make_product(make_artisan(), title="限量蓝印花布包", stock=50)
    place(buyer, {product: 2})
    try:
        place(buyer, {product: 2})
        raise AssertionError("a fresh account reserved more than the limit")
    except LimitReached as e:
        assert "限量蓝印花布包" in str(e)
    assert stock_of(product) == 48
    place(make_user(), {product: 3})  # another buyer has her own allowance


def test_limits_hold_when_one_buyers_checkouts_race(app, make_user, make_artisan, make_product):
    app.config.update(MAX_UNPAID_ORDERS_PER_BUYER=2, MAX_UNPAID_UNITS_PER_PRODUCT=0)
    buyer_id = make_user().id
    product = make_product(make_artisan(), stock=20)
    pid = product.id

    def checkout():
        from market.models import User

        return operations.place_order(db.session.get(User, buyer_id), {pid: 1}, ADDRESS, uuid.uuid4().hex)

    results = race_in_threads(app, [checkout] * 6)
    placed = [r for r in results if isinstance(r, Order)]
    assert len(placed) == 2, results
    assert all(isinstance(r, (Order, LimitReached)) for r in results), results
    assert stock_of(product) == 18


def test_checkout_rate_is_limited_per_buyer(app, client, login_as, make_user, make_artisan, make_product):
    app.config.update(CHECKOUT_RATE_LIMIT="2 per minute", MAX_UNPAID_ORDERS_PER_BUYER=0)
    buyer = make_user()
    product = make_product(make_artisan(), stock=50)
    login_as(buyer)
    codes = []
    for _ in range(3):
        client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
        codes.append(client.post("/checkout", data=checkout_data(client)).status_code)
    assert codes == [302, 302, 429]
    assert len(_orders()) == 2
