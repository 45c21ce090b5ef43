"""The new-product form sent twice (a double click on “save”, the back button and “save”
again, with its photo) lists the product once; a product that differs in anything, or a second
one she means to list after another, is a new listing."""
from __future__ import annotations

from sqlalchemy import func, select

from market.extensions import db
from market.models import Product, ProductImage
from tests.support import image_upload, page_form

NEW = {"title": "刺绣团扇", "price": "88", "stock": "5", "status": "published"}


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_new_product_form_sent_twice_lists_it_once(client, login_as, make_artisan):
    login_as(make_artisan().user)
    form = page_form(client, "/shop/products/new", having="title")
    first = form.submit(client, NEW, files={"images": [image_upload()]})
    again = form.submit(client, NEW, files={"images": [image_upload()]})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(Product) == 1 and _count(ProductImage) == 1


def test_a_different_product_is_listed(client, login_as, make_artisan):
    login_as(make_artisan().user)
    form = page_form(client, "/shop/products/new", having="title")
    assert form.submit(client, NEW).status_code == 302
    assert form.submit(client, {**NEW, "price": "98"}).status_code == 302
    assert form.submit(client, NEW).status_code == 302  # after another one: a new listing
    assert _count(Product) == 3
