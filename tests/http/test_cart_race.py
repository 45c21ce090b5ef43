"""A signed-in buyer double-clicks “add to cart” (or adds from two tabs): every click counts,
none answers 500, on SQLite and on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from market.extensions import db
from market.models import CartItem
from tests.support import login, race_in_threads


def _clients(app, buyer, n: int) -> list:
    clients = []
    for _ in range(n):
        c = app.test_client()
        assert login(c, buyer).status_code == 302
        clients.append(c)
    return clients


def _quantity(buyer_id: int, product_id: int) -> int | None:
    db.session.expire_all()
    return db.session.scalar(select(CartItem.quantity).where(CartItem.user_id == buyer_id,
                                                             CartItem.product_id == product_id))


def test_adds_at_once_to_a_new_line_all_count(app, make_user, make_artisan, make_product):
    product = make_product(make_artisan(), stock=20)
    buyer = make_user()
    clients = _clients(app, buyer, 4)
    results = race_in_threads(app, [lambda c=c: c.post("/cart/add", data={"product_id": product.id, "quantity": 1})
                                     for c in clients])
    assert [getattr(r, "status_code", r) for r in results] == [302] * 4
    assert _quantity(buyer.id, product.id) == 4


def test_adds_at_once_never_pass_the_stock(app, make_user, make_artisan, make_product):
    product = make_product(make_artisan(), stock=3)
    buyer = make_user()
    clients = _clients(app, buyer, 4)
    results = race_in_threads(app, [lambda c=c: c.post("/cart/add", data={"product_id": product.id, "quantity": 1})
                                     for c in clients])
    assert [getattr(r, "status_code", r) for r in results] == [302] * 4
    assert _quantity(buyer.id, product.id) == 3
    # Three went in; the fourth was told why not, on the page it was sent to.
    pages = [c.get("/cart/").get_data(as_text=True) for c in clients]
    assert sum(f"“{product.title}”仅剩 3 件。" in p for p in pages) == 1


def test_setting_a_quantity_of_a_line_another_tab_just_made(app, make_user, make_artisan, make_product):
    from market.cart.services import StoredCart

    product = make_product(make_artisan(), stock=20)
    buyer = make_user()
    results = race_in_threads(app, [lambda q=q: StoredCart(buyer.id).set(product.id, q) for q in (2, 5, 7)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert _quantity(buyer.id, product.id) in (2, 5, 7)
