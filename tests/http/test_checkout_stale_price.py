"""The checkout page sent after the shop changed a price: the buyer is shown the new price and
places the order again; she is never put to an order at a price the page she sent did not
show. A page sent with unchanged prices places the order as before."""
from __future__ import annotations

from sqlalchemy import func, select

from market.extensions import db
from market.models import Order, Product
from tests.support import login, page_form


def _orders() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Order))


def test_a_price_changed_after_the_page_was_opened_is_shown_before_ordering(client, make_user, make_artisan,
                                                                             make_product):
    product = make_product(make_artisan(), title="刺绣围巾", price_fen=9900, stock=5)
    login(client, make_user())
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    address = {"ship_name": "林小雨", "ship_phone": "13800138000", "ship_address": "浙江省宁波市海曙区中山西路 1 号"}
    form = page_form(client, "/checkout", action="")
    assert "¥99.00" in client.get("/checkout").get_data(as_text=True)
    db.session.execute(db.update(Product).where(Product.id == product.id).values(price_fen=99900))
    db.session.commit()
    resp = form.submit(client, address)
    assert resp.status_code == 200 and _orders() == 0
    assert "¥999.00" in resp.get_data(as_text=True)
    # The page she is shown now carries the new price: sent, it places the order at it.
    resp = page_form(client, "/checkout", action="").submit(client, address)
    assert resp.status_code == 302 and _orders() == 1
    assert db.session.scalar(select(Order.total_fen)) == 99900
