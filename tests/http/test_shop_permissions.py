"""Who may create, edit and archive products; staff approval of artisans."""
import pytest

from market.artisans import services as shop
from market.extensions import db
from market.models import Product


def _edit_form(**overrides):
    data = {"title": "改过的标题", "description": "", "category": "embroidery", "brand_id": "0",
            "price": "12.50", "stock": "3", "status": "published"}
    data.update(overrides)
    return data


def test_artisan_cannot_edit_or_archive_another_artisans_product(client, login_as, make_artisan, make_product):
    owner, other = make_artisan(), make_artisan()
    product = make_product(owner, title="原来的标题", price_fen=9900)
    login_as(other.user)
    assert client.get(f"/shop/products/{product.id}/edit").status_code == 403
    assert client.post(f"/shop/products/{product.id}/edit", data=_edit_form()).status_code == 403
    assert client.post(f"/shop/products/{product.id}/status", data={"status": "archived"}).status_code == 403
    db.session.expire_all()
    unchanged = db.session.get(Product, product.id)
    assert (unchanged.title, unchanged.price_fen, unchanged.status) == ("原来的标题", 9900, "published")
    assert client.get("/shop/products/999999/edit").status_code == 404


def test_service_refuses_foreign_edit_without_http(app, make_artisan, make_product):
    owner, other = make_artisan(), make_artisan()
    product = make_product(owner)
    with pytest.raises(shop.Forbidden):
        shop.product_for_edit(other.user, product.id)
    with pytest.raises(shop.Forbidden):
        shop.save_product(other.user, shop.ProductData("x", "", "embroidery", 100, 1), product=product)
    with pytest.raises(shop.NotFound):
        shop.product_for_edit(other.user, 424242)


def test_owner_edits_price_in_yuan_stored_as_fen(client, login_as, make_artisan, make_product):
    owner = make_artisan()
    product = make_product(owner)
    login_as(owner.user)
    resp = client.post(f"/shop/products/{product.id}/edit", data=_edit_form(price="12.50"))
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).price_fen == 1250
    assert client.post(f"/shop/products/{product.id}/status", data={"status": "archived"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == "archived"


def test_bad_product_form_input_gets_form_errors_not_500(client, login_as, make_artisan):
    owner = make_artisan()
    login_as(owner.user)
    for bad in ({"price": "-1"}, {"price": "abc"}, {"stock": "-5"}, {"title": ""}, {"category": "weapons"},
                {"brand_id": "77"}):
        resp = client.post("/shop/products/new", data=_edit_form(**bad))
        assert resp.status_code == 200, bad
        assert 'class="error"' in resp.get_data(as_text=True), bad
    assert db.session.query(Product).count() == 0


def test_staff_may_edit_any_product_buyers_and_anonymous_may_not(client, login_as, make_user, make_artisan, make_product):
    product = make_product(make_artisan())
    assert client.get(f"/shop/products/{product.id}/edit").status_code == 302  # to login
    buyer = make_user(("buyer",))
    login_as(buyer)
    assert client.get(f"/shop/products/{product.id}/edit").status_code == 403
    client.post("/account/logout")
    login_as(make_user(("staff",)))
    assert client.post(f"/shop/products/{product.id}/edit", data=_edit_form(title="员工修改")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).title == "员工修改"


def test_new_artisan_listings_become_public_only_after_staff_approval(client, login_as, make_user, make_artisan, make_product):
    # A pending artisan drafts her products; publishing (and photos) wait for the approval.
    artisan = make_artisan(approved=False)
    product = make_product(artisan, title="等待审核的竹篮", status="draft")
    assert client.get(f"/products/{product.id}").status_code == 404
    staff = make_user(("staff",))
    login_as(artisan.user)
    client.post(f"/shop/products/{product.id}/status", data={"status": "published"})
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == "draft"
    assert client.post(f"/staff/artisans/{artisan.id}/review", data={"decision": "approved"}).status_code == 403
    client.post("/account/logout")
    login_as(staff)
    assert "等待" not in client.get("/staff/artisans?status=approved").get_data(as_text=True)
    assert client.post(f"/staff/artisans/{artisan.id}/review", data={"decision": "approved"}).status_code == 302
    assert client.get(f"/products/{product.id}").status_code == 404
    client.post("/account/logout")
    login_as(artisan.user)
    assert client.post(f"/shop/products/{product.id}/status", data={"status": "published"}).status_code == 302
    assert client.get(f"/products/{product.id}").status_code == 200
