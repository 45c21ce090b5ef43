"""The product form carries the stock it was loaded with and a save applies the difference:
an artisan who opened the form before a sale and saves it afterwards never writes the old
stock back (no oversell), and a change that cannot apply is refused with a clear message."""
from __future__ import annotations

import re

from market.artisans.services import ProductData, save_product
from market.extensions import db
from market.models import Order, OrderLine, Product
from tests.support import ADDRESS, place, race_in_threads, stock_of


def _form_as_loaded(client, product_id: int) -> dict:
    """The edit form as the browser holds it: every field as rendered, hidden ones included."""
    page = client.get(f"/shop/products/{product_id}/edit").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    fields.update({"title": re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1),
                   "description": "", "category": "embroidery", "brand_id": "0", "status": "published",
                   "price": re.search(r'name="price"[^>]*value="([^"]*)"', page).group(1)})
    return fields


def test_stale_form_saved_after_a_sale_does_not_oversell(client, login_as, make_user, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, title="最后一件蓝印花布包", stock=1)
    login_as(artisan.user)
    form = _form_as_loaded(client, product.id)
    assert form["stock"] == "1" and form["loaded_stock"] == "1"

    place(make_user(), {product: 1})  # sold while the form is open
    assert stock_of(product) == 0
    form["title"] = "最后一件蓝印花布包（已售）"  # she edits the title, stock field unchanged
    assert client.post(f"/shop/products/{product.id}/edit", data=form).status_code == 302
    assert stock_of(product) == 0  # not 1: the sale stays a sale
    assert db.session.get(Product, product.id).title.endswith("（已售）")
    # A second buyer cannot buy it.
    from market.orders.errors import OutOfStock

    try:
        place(make_user(), {product: 1})
        raise AssertionError("oversold")
    except OutOfStock:
        pass


def test_restock_on_a_stale_form_adds_to_what_is_left(client, login_as, make_user, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, stock=5)
    login_as(artisan.user)
    form = _form_as_loaded(client, product.id)
    place(make_user(), {product: 2})
    form["stock"] = "15"  # she adds ten
    assert client.post(f"/shop/products/{product.id}/edit", data=form).status_code == 302
    assert stock_of(product) == 13


def test_lowering_below_what_was_sold_is_refused_with_a_message(client, login_as, make_user, make_artisan,
                                                                make_product):
    artisan = make_artisan()
    product = make_product(artisan, stock=3)
    login_as(artisan.user)
    form = _form_as_loaded(client, product.id)
    place(make_user(), {product: 3})
    form["stock"] = "0"  # from 3 to 0: minus three, but only 0 are left
    form["title"] = "改了标题"
    resp = client.post(f"/shop/products/{product.id}/edit", data=form)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "3" in page and 'name="loaded_stock"' in page
    db.session.expire_all()
    assert stock_of(product) == 0 and db.session.get(Product, product.id).title != "改了标题"  # nothing saved


def test_stock_edits_racing_checkouts_keep_stock_exact(app, make_user, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, stock=6)
    buyers = [make_user() for _ in range(6)]
    pid, uid = product.id, artisan.user.id

    def restock():  # +4 on a form loaded at 6
        from market.models import User

        user = db.session.get(User, uid)
        p = db.session.get(Product, pid)
        data = ProductData(title=p.title, description="", category=p.category, price_fen=p.price_fen, stock=10,
                           status="published", loaded_stock=6)
        save_product(user, data, product=p)
        return "restocked"

    def buy(buyer_id):
        from market.models import User
        from market.orders import operations

        return operations.place_order(db.session.get(User, buyer_id), {pid: 1}, ADDRESS, f"race-{buyer_id}")

    jobs = [restock, restock] + [lambda b=b.id: buy(b) for b in buyers]
    results = race_in_threads(app, jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    sold = db.session.scalar(db.select(db.func.sum(OrderLine.quantity)).join(Order)
                             .where(OrderLine.product_id == pid)) or 0
    assert sold == 6
    assert stock_of(product) == 6 + 4 + 4 - 6  # every restock and every sale counted once
