"""Amounts in yuan are kept to the fen: a price or refund typed with more than two decimals is a
form message, never silently rounded to a different amount (QA: ¥99.995 became ¥100.00)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from market.extensions import db
from market.formfields import YuanField
from market.models import Product
from tests.support import image_upload, page_form


def _price(product_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Product, product_id).price_fen


def test_a_price_with_more_than_two_decimals_is_a_message_and_the_price_stays(app, client, login_as, make_artisan,
                                                                              make_product):
    artisan = make_artisan()
    product = make_product(artisan, price_fen=12800, stock=3, uploads=[image_upload()[0]])
    login_as(artisan.user)
    app.config["WTF_CSRF_ENABLED"] = True  # the form is sent as the page filled it, token included
    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    resp = form.submit(client, {"price": "99.995"})
    assert resp.status_code == 200
    assert "小数点后最多两位" in resp.get_data(as_text=True)
    assert _price(product.id) == 12800
    # Trailing zeros are the same amount: accepted as it is.
    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    assert form.submit(client, {"price": "99.990"}).status_code == 302
    assert _price(product.id) == 9999


@pytest.mark.parametrize(("typed", "ok"), [("12", True), ("12.3", True), ("12.34", True), ("12.340", True),
                                           ("12.345", False), ("0.001", False), ("1e-3", False)])
def test_the_yuan_field_keeps_amounts_to_the_fen(app, typed, ok):
    from flask_wtf import FlaskForm

    class AmountForm(FlaskForm):
        amount = YuanField("amount")

    with app.test_request_context(method="POST"):
        form = AmountForm(formdata=MultiDict({"amount": typed}), meta={"csrf": False})
        assert form.validate() is ok, form.errors
        if ok:
            assert form.amount.data == Decimal(typed)
