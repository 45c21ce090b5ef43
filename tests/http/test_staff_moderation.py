"""The staff moderation list (/staff/moderation): hidden products and hidden reviews with their
reasons, each restored with the list's own form as a browser submits it (CSRF on), audited, and
refused to anyone but staff."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market.catalog import moderation
from market.extensions import db
from market.models import AuditEntry, Product, Review
from market.reviews import services as reviews
from tests.support import DEFAULT_PASSWORD, delivered_line, page_form


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


def _sign_in(client, user):
    form = page_form(client, "/account/login", having="password")
    assert form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302


def test_staff_see_hidden_products_and_reviews_with_reasons_and_restore_them(app, client, make_user, make_artisan,
                                                                             make_product):
    artisan = make_artisan(name="秀英绣坊")
    fan, scarf = make_product(artisan, title="荷花刺绣团扇"), make_product(artisan, title="真丝围巾")
    staff, buyer = make_user(("staff",)), make_user(name="林小雨")
    reviews.write_review(buyer, delivered_line(buyer, scarf).id, stars=1, body="加我微信买更便宜")
    review_id = db.session.scalar(select(Review.id))
    moderation.hide_product(staff, fan.id, "图片涉嫌侵权")
    reviews.hide(staff, review_id, "含广告内容")

    _sign_in(client, buyer)  # not for buyers
    assert client.get("/staff/moderation").status_code in (302, 403)

    staff_client = app.test_client()
    _sign_in(staff_client, staff)
    page = staff_client.get("/staff/moderation").get_data(as_text=True)
    products = page.split('id="hidden-products"')[1].split("</table>")[0]
    hidden_reviews = page.split('id="hidden-reviews"')[1].split("</table>")[0]
    assert "荷花刺绣团扇" in products and "图片涉嫌侵权" in products and "真丝围巾" not in products
    assert "加我微信买更便宜" in hidden_reviews and "含广告内容" in hidden_reviews
    assert 'href="/staff/moderation"' in staff_client.get("/staff/").get_data(as_text=True)

    form = page_form(staff_client, "/staff/moderation", action=f"/staff/products/{fan.id}/restore")
    resp = form.submit(staff_client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/moderation")
    db.session.expire_all()
    assert db.session.get(Product, fan.id).hidden_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.restore"))
    assert (entry.actor_id, entry.object_id) == (staff.id, fan.id)

    form = page_form(staff_client, "/staff/moderation", action=f"/staff/reviews/{review_id}/restore")
    resp = form.submit(staff_client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/moderation")
    db.session.expire_all()
    assert db.session.get(Review, review_id).hidden_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "review.restore"))
    assert (entry.actor_id, entry.object_id) == (staff.id, review_id)

    page = staff_client.get("/staff/moderation").get_data(as_text=True)
    assert "图片涉嫌侵权" not in page and "含广告内容" not in page
    # the public sees both again
    public = app.test_client()
    assert "加我微信买更便宜" in public.get(f"/products/{scarf.id}").get_data(as_text=True)
    assert public.get(f"/products/{fan.id}").status_code == 200
    # restoring twice (an old tab): a message, not an error page
    resp = form.submit(staff_client)
    assert resp.status_code == 302
