"""The hostile inputs the fuzz test found or the hardening issue named, pinned one by one."""
from __future__ import annotations

import pytest

from market.ids import MAX_ID, parse_id, parse_int, parse_page


@pytest.mark.parametrize("value, expected", [
    ("1", 1), (" 42 ", 42), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("99999999999999999999", None),
    ("0", None), ("-1", None), ("", None), (None, None), ("1.5", None), ("NaN", None), ("１２３", None),
    ("abc", None), (True, None), (7, 7),
])
def test_parse_id(value, expected):
    assert parse_id(value) == expected


def test_parse_page_and_bounds():
    assert parse_page("3") == 3 and parse_page("0") == 1 and parse_page("10001") == 1 and parse_page(None) == 1
    assert parse_int("0", low=0) == 0


@pytest.mark.parametrize("path", ["/products/99999999999999999999", f"/products/{MAX_ID + 1}", "/products/-1",
                                  f"/artisans/{MAX_ID + 1}", f"/orders/{MAX_ID + 1}"])
def test_ids_beyond_the_integer_range_are_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("price", ["NaN", "sNaN", "-Infinity", "Infinity", "1e309", "abc"])
def test_price_filters_that_are_not_numbers_are_ignored_with_a_message(client, price, make_artisan, make_product):
    make_product(make_artisan(), title="竹编果篮", price_fen=5000)
    resp = client.get("/products", query_string={"min_price": price, "max_price": price})
    assert resp.status_code == 200
    assert "竹编果篮" in resp.get_data(as_text=True)  # the bad filter is dropped, the list still shows


@pytest.mark.parametrize("body", [[1, 2], "token", 7, {"token": ["tok_x"]}])
def test_json_bodies_that_are_not_objects_of_fields_are_400(client, login_as, make_user, body):
    login_as(make_user(("buyer",)))
    resp = client.post("/orders/1/pay", json=body)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == 400


def test_nul_characters_are_refused_before_any_view(client, make_user):
    assert client.get("/brands/a%00b").status_code == 400
    assert client.get("/products", query_string={"q": "绣\x00"}).status_code == 400
    assert client.get("/products?q=a&q=b%00").status_code == 400  # a second value is checked too
    resp = client.post("/account/login", data={"email": "a\x00@example.cn", "password": "x"})
    assert resp.status_code == 400
    assert "不允许" in resp.get_data(as_text=True)


def test_malformed_form_encoding_is_not_a_500(client):
    resp = client.post("/account/login", data=b"email=%ff%fe&password=\xff\xfe",
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code < 500
