"""Checkout and address-book forms submitted as a browser does: mainland China mobile numbers
(+86, spaces and dashes normalised; anything else a message by the field and nothing saved),
the address book (add, edit, default, delete; someone else's entries are not there), picking
a saved address at checkout, and gateway errors in the reader's language."""
from __future__ import annotations

import pytest

from market.extensions import db
from market.models import Order, SavedAddress
from market.orders.services import normalise_phone
from market.payments import gateway_errors
from tests.support import login, page_form, use_localstripe

PHONE_ERROR = "请填写中国大陆手机号码"


@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"), ("+8613800138000", "13800138000"), ("0086 19912345678", "19912345678"),
    ("abc", None), ("12345678901", None), ("1380013800", None), ("138001380001", None), ("+1 2025550123", None),
    ("0574-87654321", None), ("", None), ("１３８００１３８０００", "13800138000"), ("（１３８）００１３－８０００", "13800138000"),
    ("١٣٨٠٠١٣٨٠٠٠", None),
])
def test_mobile_numbers(raw, expected):
    assert normalise_phone(raw) == expected


def _addresses(user_id: int) -> list[SavedAddress]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(SavedAddress).where(SavedAddress.user_id == user_id)
                                   .order_by(SavedAddress.id)))


def test_checkout_refuses_a_phone_that_is_not_a_mobile_number(client, make_user, make_artisan, make_product):
    buyer = make_user()
    product = make_product(make_artisan(), stock=3)
    login(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    form = page_form(client, "/checkout", action="")
    for bad in ("abc", "12345", "0574-87654321"):
        resp = form.submit(client, {"ship_name": "林小雨", "ship_phone": bad, "ship_address": "浙江省宁波市海曙区中山西路 1 号"})
        assert resp.status_code == 200 and PHONE_ERROR in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0
    resp = form.submit(client, {"ship_name": "林小雨", "ship_phone": "+86 139-1234-5678",
                                "ship_address": "浙江省宁波市海曙区中山西路 1 号", "save_address": "y"})
    assert resp.status_code == 302
    order = db.session.scalars(db.select(Order)).one()
    assert order.ship_phone == "13912345678" and order.buyer_id == buyer.id
    # Ticked "save this address": it is in her book, as her default.
    saved = _addresses(buyer.id)
    assert [(a.phone, a.is_default) for a in saved] == [("13912345678", True)]


def test_address_book_forms_as_a_browser_submits_them(client, app, make_user):
    buyer = make_user()
    login(client, buyer)
    form = page_form(client, "/addresses/", action="")
    # No valid mobile number: a message, nothing saved.
    resp = form.submit(client, {"name": "林小雨", "phone": "abc", "address": "浙江省宁波市鄞州区天童南路 100 号"})
    assert resp.status_code == 400 and PHONE_ERROR in resp.get_data(as_text=True)
    assert _addresses(buyer.id) == []
    resp = form.submit(client, {"name": "", "phone": "13800138000", "address": "浙江省宁波市鄞州区天童南路 100 号"})
    assert resp.status_code == 400 and _addresses(buyer.id) == []

    form.submit(client, {"name": "林小雨", "phone": "138 0013 8000", "address": "浙江省宁波市鄞州区天童南路 100 号"})
    form = page_form(client, "/addresses/", action="")
    form.submit(client, {"name": "林妈妈", "phone": "+86 139 0000 1111", "address": "浙江省宁波市象山县丹西街道 8 号"})
    home, mother = _addresses(buyer.id)
    assert (home.phone, home.is_default, mother.phone, mother.is_default) == ("13800138000", True, "13900001111", False)

    # Edit: the form comes filled in; a bad phone changes nothing; a good one is saved.
    edit = page_form(client, f"/addresses/{mother.id}/edit", action="")
    assert edit.value("phone") == "13900001111" and edit.value("name") == "林妈妈"
    resp = edit.submit(client, {"phone": "12345"})
    assert resp.status_code == 400 and _addresses(buyer.id)[1].phone == "13900001111"
    assert edit.submit(client, {"address": "浙江省宁波市象山县丹东街道 18 号"}).status_code == 302
    assert _addresses(buyer.id)[1].address == "浙江省宁波市象山县丹东街道 18 号"

    # Make default: one default only.
    page_form(client, "/addresses/", action=f"/addresses/{mother.id}/default").submit(client)
    assert [a.is_default for a in _addresses(buyer.id)] == [False, True]

    # Checkout starts with her default address, and can take another one of hers.
    other_product_page = client.get("/checkout")  # empty cart: back to the cart
    assert other_product_page.status_code == 302

    # Someone else's entry does not exist for her, for reading or changing.
    stranger = make_user()
    other = app.test_client()
    login(other, stranger)
    assert other.get(f"/addresses/{mother.id}/edit").status_code == 404
    assert other.post(f"/addresses/{mother.id}/delete").status_code == 404
    assert other.post(f"/addresses/{mother.id}/default").status_code == 404
    assert len(_addresses(buyer.id)) == 2

    # Delete the default: the other becomes the default.
    page_form(client, "/addresses/", action=f"/addresses/{mother.id}/delete").submit(client)
    left = _addresses(buyer.id)
    assert [(a.id, a.is_default) for a in left] == [(home.id, True)]
    # Guests have no address book.
    assert app.test_client().get("/addresses/").status_code == 302


def test_checkout_starts_with_the_default_address_and_picks_a_saved_one(client, make_user, make_artisan,
                                                                       make_product):
    from market.orders import addresses
    from market.orders.services import Address

    buyer = make_user()
    home = addresses.add(buyer, Address("林小雨", "13800138000", "浙江省宁波市鄞州区天童南路 100 号"))
    mother = addresses.add(buyer, Address("林妈妈", "13900001111", "浙江省宁波市象山县丹西街道 8 号"), default=True)
    product = make_product(make_artisan(), stock=3)
    login(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    form = page_form(client, "/checkout", action="")
    assert (form.value("ship_name"), form.value("ship_phone")) == ("林妈妈", "13900001111")
    page = client.get("/checkout").get_data(as_text=True)
    assert f"/checkout?address={home.id}" in page and f"/checkout?address={mother.id}" in page
    form = page_form(client, f"/checkout?address={home.id}", action="")
    assert (form.value("ship_name"), form.value("ship_address")) == ("林小雨", "浙江省宁波市鄞州区天童南路 100 号")
    assert form.submit(client).status_code == 302
    assert db.session.scalars(db.select(Order)).one().ship_name == "林小雨"


def test_gateway_errors_are_shown_in_the_readers_language(client, app, localstripe_url, make_user, make_artisan,
                                                          make_product):
    use_localstripe(app, localstripe_url)
    buyer = make_user()
    product = make_product(make_artisan(), stock=3)
    login(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    page_form(client, "/checkout", action="").submit(client, {"ship_phone": "13800138000",
                                                              "ship_address": "浙江省宁波市海曙区中山西路 1 号"})
    order = db.session.scalars(db.select(Order)).one()
    # A token the payments API does not know: it answers 4xx in English; she reads Chinese.
    resp = client.post(f"/orders/{order.id}/pay", json={"token": "tok_doesnotexist", "card": ""})
    body = resp.get_json()
    assert resp.status_code == 400 and body["status"] == "error"
    assert "Bad request" not in body["message"] and "No such" not in body["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    # The same in English for an English reader.
    # The pay page carries the browser-side messages (Stripe.js errors) in her language.
    page = client.get(f"/orders/{order.id}/pay").get_data(as_text=True)
    assert "卡号不正确" in page


def test_every_mapped_gateway_code_has_a_translated_message(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh"):
        for code in gateway_errors.MESSAGES:
            text = str(gateway_errors.message_for(code))
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (code, text)
        assert str(gateway_errors.message_for("card_declined", "insufficient_funds")).startswith("银行卡余额不足")
        assert str(gateway_errors.message_for("something_new")) == str(gateway_errors.GENERIC)
