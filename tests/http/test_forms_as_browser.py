"""Every form of the app, submitted as Chromium submits it: the page is fetched, every field
is sent with the value the page filled in (the hidden CSRF token included, since these tests
run with CSRF on), a file input left empty is an empty file part, and only what the test
names is changed. Accounts forms (register, login, password) are covered in test_accounts.py.

Inventory (grep FlaskForm / methods= / .post( in market/): artisans: shop setup, product
create and edit, product status, image removal; staff: artisan review, brand create and edit,
brand members; mentoring: mentor profile, pause, request, ask, accept, decline, log entry,
resolve (rating), close, staff mentor review, staff assignment (the rest of the help desk's
forms: test_case_forms_as_browser.py); cart: add, update, remove;
orders: checkout address, cancel, ship, delivered, received, staff refund;
core: the language switch (a link). The payments webhook is not a form (test_webhooks)."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest

from market.extensions import db
from market.models import Artisan, Brand, Case, CaseEntry, Introduction, MentorProfile, Order, Product
from tests.support import DEFAULT_PASSWORD, image_upload, page_form, use_localstripe


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


@pytest.fixture
def sign_in(client):
    def do(user):
        client.post("/account/logout", data={"csrf_token": _token(client)})
        form = page_form(client, "/account/login", having="password")
        resp = form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        return client

    return do


def _token(client) -> str:
    return page_form(client, "/account/login", having="password").value("csrf_token")


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _errors(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(part.split("</small>")[0] for part in html.split('class="error">')[1:])


# ---- artisans ---------------------------------------------------------------------------

def test_edit_product_with_images_unchanged_keeps_everything(app, client, sign_in, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, title="竹编果篮", description="象山竹编", price_fen=12800, stock=3,
                           uploads=[image_upload()[0], image_upload(colour=(0, 90, 0))[0]])
    before = [(i.filename, i.thumb_filename) for i in product.images]
    sign_in(artisan.user)

    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    assert form.enctype == "multipart/form-data" and form.value("price") == "128.00"
    resp = form.submit(client)  # nothing changed, the file input left empty
    assert resp.status_code == 302, _errors(resp)
    fresh = _fresh(Product, product.id)
    assert (fresh.title, fresh.description, fresh.price_fen, fresh.stock, fresh.status) == \
        ("竹编果篮", "象山竹编", 12800, 3, "published")
    assert [(i.filename, i.thumb_filename) for i in fresh.images] == before
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert all((folder / name).exists() for pair in before for name in pair)


def test_edit_product_price_and_stock_keeps_images(client, sign_in, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, price_fen=12800, stock=3, uploads=[image_upload()[0]])
    sign_in(artisan.user)
    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    assert form.submit(client, {"price": "99.5", "stock": "12"}).status_code == 302
    fresh = _fresh(Product, product.id)
    assert (fresh.price_fen, fresh.stock, len(fresh.images)) == (9950, 12, 1)


def test_edit_product_adds_an_image_after_the_existing_ones(client, sign_in, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, uploads=[image_upload()[0]])
    first = product.images[0].filename
    sign_in(artisan.user)
    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    assert form.submit(client, files={"images": [image_upload(name="新.jpg", fmt="JPEG")]}).status_code == 302
    fresh = _fresh(Product, product.id)
    assert [i.filename for i in fresh.images][0] == first and len(fresh.images) == 2
    assert [i.position for i in fresh.images] == [0, 1]


def test_new_product_without_and_with_an_image(client, sign_in, make_artisan):
    artisan = make_artisan()
    sign_in(artisan.user)
    changes = {"title": "手工刺绣团扇", "price": "88", "stock": "5", "category": "embroidery", "status": "published"}
    form = page_form(client, "/shop/products/new", having="title")
    assert form.submit(client, changes).status_code == 302
    form = page_form(client, "/shop/products/new", having="title")
    assert form.submit(client, dict(changes, title="荷花团扇"), files={"images": [image_upload()]}).status_code == 302
    products = {p.title: p for p in db.session.query(Product).all()}
    assert len(products["手工刺绣团扇"].images) == 0 and len(products["荷花团扇"].images) == 1


def test_new_product_with_a_blank_title_gets_a_form_error(client, sign_in, make_artisan):
    sign_in(make_artisan().user)
    resp = page_form(client, "/shop/products/new", having="title").submit(client, {"price": "88", "stock": "1"})
    assert resp.status_code == 200 and _errors(resp)
    assert db.session.query(Product).count() == 0


def test_shop_setup_first_time_then_unchanged_edit_keeps_the_photo(app, client, sign_in, make_user, make_artisan):
    newcomer = make_user(("buyer",))
    sign_in(newcomer)
    form = page_form(client, "/shop/setup", having="display_name")
    assert "photo" not in form.names(), "photos wait for the approval"
    resp = form.submit(client, {"display_name": "阿芳的小店", "district": "象山县", "kind": "craftswoman"})
    assert resp.status_code == 302, _errors(resp)
    shop = db.session.query(Artisan).one()
    assert shop.status == "pending" and shop.display_name == "阿芳的小店"

    artisan = make_artisan(name="秀英绣坊")
    sign_in(artisan.user)
    form = page_form(client, "/shop/setup", having="display_name")
    assert form.submit(client, files={"photo": [image_upload()]}).status_code == 302
    photo = _fresh(Artisan, artisan.id).photo
    assert photo and (Path(app.config["UPLOAD_FOLDER"]) / photo).exists()
    form = page_form(client, "/shop/setup", having="display_name")
    assert form.value("display_name") == "秀英绣坊"
    assert form.submit(client, {"story": "新的故事"}).status_code == 302  # photo input left empty
    fresh = _fresh(Artisan, artisan.id)
    assert (fresh.photo, fresh.story, fresh.display_name) == (photo, "新的故事", "秀英绣坊")


def test_pending_artisan_drafts_without_photos_and_cannot_publish(app, client, sign_in, make_artisan):
    artisan = make_artisan(approved=False)
    sign_in(artisan.user)
    form = page_form(client, "/shop/products/new", having="title")
    assert "images" not in form.names()
    draft = {"title": "待审核的竹篮", "price": "50", "stock": "2", "status": "draft"}
    assert form.submit(client, draft).status_code == 302
    product = db.session.query(Product).one()

    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    resp = form.submit(client, {"status": "published"})
    assert resp.status_code == 200 and "审核" in _errors(resp)
    # Hand-made: the photo field is not on her page, but a request may still carry one.
    payload = form.payload()
    payload.add("images", image_upload())
    resp = client.post(f"/shop/products/{product.id}/edit", data=payload, content_type="multipart/form-data")
    assert resp.status_code == 200 and "审核" in _errors(resp)
    fresh = _fresh(Product, product.id)
    assert fresh.status == "draft" and fresh.images == []
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == []


def test_dashboard_status_buttons_and_image_removal(app, client, sign_in, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, status="draft", uploads=[image_upload()[0]])
    [image] = product.images
    image_id, filename = image.id, image.filename
    sign_in(artisan.user)
    form = page_form(client, "/shop/", action=f"/shop/products/{product.id}/status")
    assert form.submit(client, button=("status", "published")).status_code == 302
    assert _fresh(Product, product.id).status == "published"
    form = page_form(client, "/shop/", action=f"/shop/products/{product.id}/status")
    assert form.submit(client, button=("status", "archived")).status_code == 302
    assert _fresh(Product, product.id).status == "archived"

    form = page_form(client, f"/shop/products/{product.id}/edit",
                     action=f"/shop/products/{product.id}/images/{image_id}/delete")
    assert form.submit(client).status_code == 302
    assert _fresh(Product, product.id).images == []
    assert not (Path(app.config["UPLOAD_FOLDER"]) / filename).exists()


def test_a_post_without_the_csrf_token_is_refused(client, sign_in, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, price_fen=12800)
    sign_in(artisan.user)
    form = page_form(client, f"/shop/products/{product.id}/edit", having="title")
    payload = form.payload({"price": "1"})
    payload.pop("csrf_token")
    assert client.post(f"/shop/products/{product.id}/edit", data=payload,
                       content_type="multipart/form-data").status_code == 400
    assert _fresh(Product, product.id).price_fen == 12800


# ---- staff --------------------------------------------------------------------------------

def test_staff_review_and_brand_forms(client, sign_in, make_user, make_artisan):
    staff = make_user(("staff",))
    pending = make_artisan(approved=False, name="等待审核")
    member = make_artisan(name="吉象绣坊")
    sign_in(staff)

    form = page_form(client, "/staff/artisans?status=pending", action=f"/staff/artisans/{pending.id}/review")
    assert form.submit(client, button=("decision", "approved")).status_code == 302
    assert _fresh(Artisan, pending.id).status == "approved"

    form = page_form(client, "/staff/brands/new", having="slug")
    resp = form.submit(client, {"name": "吉象·芳华", "slug": "jixiang", "district": "象山县", "featured": "y"})
    assert resp.status_code == 302, _errors(resp)
    brand = db.session.query(Brand).one()
    form = page_form(client, f"/staff/brands/{brand.id}", having="slug")
    assert form.value("name") == "吉象·芳华"
    assert form.submit(client).status_code == 302  # unchanged
    fresh = _fresh(Brand, brand.id)
    assert (fresh.name, fresh.slug, fresh.district, fresh.featured) == ("吉象·芳华", "jixiang", "象山县", True)
    form = page_form(client, f"/staff/brands/{brand.id}", having="featured")
    assert form.submit(client, {"featured": []}).status_code == 302  # unticked: the box is not sent
    assert _fresh(Brand, brand.id).featured is False

    form = page_form(client, f"/staff/brands/{brand.id}", action=f"/staff/brands/{brand.id}/members")
    assert form.value("artisan_id") in (str(member.id), str(pending.id))
    assert form.submit(client, button=("member", "1")).status_code == 302
    assert _fresh(Brand, brand.id).members


# ---- mentoring ----------------------------------------------------------------------------
# The rest of the help desk's forms (the closed loop, staff actions, on-behalf filing, consent,
# profiles, the team page) are in test_case_forms_as_browser.py.

def test_mentor_enrols_edits_unchanged_and_pauses(client, sign_in, make_user):
    from market.mentoring.services import review_mentor

    user = make_user(("buyer",), name="陈海燕")
    sign_in(user)
    form = page_form(client, "/mentoring/mentor/profile", having="display_name")
    assert form.value("display_name") == "陈海燕"
    resp = form.submit(client, {"group": "entrepreneur", "industries": ["seafood"], "skills": ["e_commerce"],
                                "district": "象山县", "capacity": "2", "availability": "周六上午",
                                "bio": "海鲜电商十年"})
    assert resp.status_code == 302, _errors(resp)
    profile = db.session.query(MentorProfile).one()
    assert profile.status == "pending"
    form = page_form(client, "/mentoring/mentor/profile", having="display_name")
    assert form.value("industries") == "seafood" and form.value("capacity") == "2"
    assert form.value("group") == "entrepreneur" and form.value("district") == "象山县"
    assert form.submit(client).status_code == 302  # nothing changed
    fresh = _fresh(MentorProfile, profile.id)
    assert (fresh.display_name, fresh.group, fresh.industries, fresh.skills, fresh.district, fresh.capacity,
            fresh.availability, fresh.bio, fresh.status) == \
        ("陈海燕", "entrepreneur", ["seafood"], ["e_commerce"], "象山县", 2, "周六上午", "海鲜电商十年", "pending")

    review_mentor(make_user(("staff",)), profile.id, "approved")
    form = page_form(client, "/mentoring/", action="/mentoring/mentor/pause")
    assert form.value("paused") == "1"
    assert form.submit(client).status_code == 302
    assert _fresh(MentorProfile, profile.id).paused is True
    form = page_form(client, "/mentoring/", action="/mentoring/mentor/pause")
    assert form.value("paused") == "0"  # the same button now resumes
    assert form.submit(client).status_code == 302
    assert _fresh(MentorProfile, profile.id).paused is False
    form = page_form(client, "/mentoring/mentor/profile", having="display_name")
    assert form.submit(client).status_code == 302  # an approved mentor's unchanged edit: still approved
    assert _fresh(MentorProfile, profile.id).status == "approved"


def test_request_ask_accept_log_and_rate_as_a_browser(client, sign_in, make_user, make_mentor):
    mentor = make_mentor("陈海燕")
    author = make_user(("entrepreneur",))
    sign_in(author)
    form = page_form(client, "/mentoring/requests/new", having="business_name")
    assert form.value("business_size") == "solo" and form.value("stage")  # the first stage, as rendered
    resp = form.submit(client, {"business_name": "阿芳海鲜干货", "industry": "seafood", "district": "象山县",
                                "difficulties": ["e_commerce"], "description": "想在网上卖海鲜干货。",
                                "consent_to_share": "y"})
    assert resp.status_code == 302, _errors(resp)
    case = db.session.query(Case).one()
    assert (case.status, case.consent_to_share, case.consent_contact) == ("open", True, False)
    assert [d.code for d in case.difficulty_items] == ["e_commerce"]
    intro = db.session.query(Introduction).filter_by(case_id=case.id, mentor_id=mentor.id).one()
    page = f"/mentoring/cases/{case.id}"
    assert resp.headers["Location"].endswith(page)
    assert page_form(client, page, action=f"{page}/ask/{intro.id}").submit(client).status_code == 302
    assert _fresh(Introduction, intro.id).status == "asked"

    sign_in(mentor.user)
    assert page_form(client, "/mentoring/", action=f"/mentoring/asks/{intro.id}/accept").submit(client).status_code == 302
    assert _fresh(Case, case.id).status == "matched"
    form = page_form(client, page, action=f"{page}/log")
    today = form.value("happened_on")
    assert today and form.value("next_follow_up_on") == ""  # today filled in by the page; no follow-up yet
    assert set(form.choices["kind"]) >= {"visit", "call", "note"}
    next_week = (date.fromisoformat(today) + timedelta(days=7)).isoformat()
    resp = form.submit(client, {"kind": "visit", "body": "上门查看仓库", "next_follow_up_on": next_week})
    assert resp.status_code == 302
    fresh = _fresh(Case, case.id)
    assert (fresh.status, fresh.next_follow_up_on.isoformat()) == ("in_progress", next_week)
    visit = db.session.query(CaseEntry).filter_by(case_id=case.id, kind="visit").one()
    assert (visit.body, visit.happened_on.isoformat(), visit.next_follow_up_on.isoformat()) == \
        ("上门查看仓库", today, next_week)

    sign_in(author)
    form = page_form(client, page, action=f"{page}/log")
    assert form.choices["kind"] == ["note"] and "next_follow_up_on" not in form.names()  # she adds notes
    assert form.submit(client, {"body": "仓库照片发给老师了"}).status_code == 302
    assert db.session.query(CaseEntry).filter_by(case_id=case.id, kind="note", body="仓库照片发给老师了").count() == 1
    form = page_form(client, page, action=f"{page}/resolve")
    assert form.submit(client, {"rating": "5", "outcome": "开通了网店"}).status_code == 302
    fresh = _fresh(Case, case.id)
    assert (fresh.status, fresh.rating, fresh.outcome) == ("resolved", 5, "开通了网店")
    assert _fresh(MentorProfile, mentor.id).current_load == 0


def test_decline_with_a_reason_and_close_as_a_browser(client, sign_in, make_user, make_mentor, make_help_request):
    mentor = make_mentor("陈海燕")
    author = make_user(("entrepreneur",))
    case = make_help_request(author)
    intro = db.session.query(Introduction).filter_by(case_id=case.id, mentor_id=mentor.id).one()
    sign_in(author)
    page = f"/mentoring/cases/{case.id}"
    assert page_form(client, page, action=f"{page}/ask/{intro.id}").submit(client).status_code == 302
    sign_in(mentor.user)
    form = page_form(client, "/mentoring/", action=f"/mentoring/asks/{intro.id}/decline")
    assert form.value("code") == "busy" and form.value("reason") == ""  # the first reason, as rendered
    assert form.submit(client, {"code": "not_my_field", "reason": "我不懂直播"}).status_code == 302
    fresh = _fresh(Introduction, intro.id)
    assert (fresh.status, fresh.decline_code, fresh.decline_reason) == ("declined", "not_my_field", "我不懂直播")
    sign_in(author)
    form = page_form(client, page, action=f"{page}/close")
    resp = form.submit(client, {"reason": ""})
    assert resp.status_code == 302 and _fresh(Case, case.id).status == "open", "a reason is needed"
    form = page_form(client, page, action=f"{page}/close")
    assert form.submit(client, {"reason": "自己解决了"}).status_code == 302
    assert _fresh(Case, case.id).status == "closed_unresolved"


def test_staff_review_mentor_and_assignment_as_a_browser(client, sign_in, make_user, make_mentor, make_help_request):
    staff = make_user(("staff",))
    waiting = make_mentor("待审核老师", approved=False)
    sign_in(staff)
    form = page_form(client, "/staff/mentoring/mentors?status=pending",
                     action=f"/staff/mentoring/mentors/{waiting.id}/review")
    assert form.value("back") == "pending"
    resp = form.submit(client, button=("decision", "approved"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("status=pending")
    assert _fresh(MentorProfile, waiting.id).status == "approved"

    case = make_help_request(make_user(("entrepreneur",)))
    form = page_form(client, "/staff/mentoring/assign", having=f"mentor_for_{case.id}")
    assert form.value(f"mentor_for_{case.id}") == str(waiting.id)  # the proposal, unchanged
    assert form.submit(client).status_code == 302
    asked = db.session.query(Introduction).filter_by(case_id=case.id, status="asked").one()
    assert asked.mentor_id == waiting.id


# ---- cart, checkout, orders -----------------------------------------------------------------

def test_cart_add_update_remove_and_checkout_as_a_browser(app, client, sign_in, localstripe_url, make_user,
                                                         make_artisan, make_product):
    use_localstripe(app, localstripe_url)
    artisan = make_artisan()
    scarf = make_product(artisan, title="刺绣围巾", stock=5)
    fan = make_product(artisan, title="团扇", stock=5)
    buyer = make_user(("buyer",))
    sign_in(buyer)
    for product in (scarf, fan):
        form = page_form(client, f"/products/{product.id}", action="/cart/add")
        assert form.value("quantity") == "1"
        assert form.submit(client).status_code == 302
    form = page_form(client, "/cart/", action="/cart/update", having="quantity")
    assert form.submit(client, {"quantity": "3"}).status_code == 302
    form = page_form(client, "/cart/", action="/cart/remove")
    assert form.submit(client).status_code == 302
    cart = client.get("/cart/").get_data(as_text=True)
    assert cart.count('action="/cart/remove"') == 1

    form = page_form(client, "/checkout", having="ship_address")
    assert form.value("checkout_token") and form.value("ship_name") == buyer.name
    resp = form.submit(client, {"ship_phone": "138 0013 8000", "ship_address": "浙江省宁波市象山县丹西街道 88 号"})
    assert resp.status_code == 302, _errors(resp)
    order = db.session.query(Order).one()
    assert order.status == "pending_payment" and sum(line.quantity for line in order.lines) in (3, 1)
    form = page_form(client, f"/orders/{order.id}/pay", action=f"/orders/{order.id}/cancel")
    assert form.submit(client).status_code == 302
    assert _fresh(Order, order.id).status == "cancelled"


def test_checkout_with_a_blank_address_keeps_the_cart(client, sign_in, make_user, make_artisan, make_product):
    product = make_product(make_artisan(), stock=5)
    sign_in(make_user(("buyer",)))
    page_form(client, f"/products/{product.id}", action="/cart/add").submit(client)
    resp = page_form(client, "/checkout", having="ship_address").submit(client, {"ship_address": ""})
    assert resp.status_code == 200 and _errors(resp)
    assert db.session.query(Order).count() == 0
    assert 'action="/cart/remove"' in client.get("/cart/").get_data(as_text=True)


# ---- core -----------------------------------------------------------------------------------

def test_language_switch_link_returns_to_the_page(client):
    home = client.get("/products").get_data(as_text=True)
    assert 'href="/lang/en"' in home
    resp = client.get("/lang/en", headers={"Referer": "http://localhost/products?q=x"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/products?q=x")
    assert 'lang="en"' in client.get("/products").get_data(as_text=True)


def test_empty_file_part_alone_is_no_upload(client, sign_in, make_artisan):
    """A hand-made request with only an empty file part and no other image: not an error."""
    sign_in(make_artisan().user)
    form = page_form(client, "/shop/products/new", having="title")
    payload = form.payload({"title": "空文件", "price": "1", "stock": "1"})
    payload.setlist("images", [(io.BytesIO(b""), ""), (io.BytesIO(b""), "")])
    resp = client.post("/shop/products/new", data=payload, content_type="multipart/form-data")
    assert resp.status_code == 302, _errors(resp)
    assert db.session.query(Product).one().images == []


def test_ship_delivered_received_and_staff_refund_as_a_browser(app, client, sign_in, localstripe_url, make_user,
                                                               make_artisan, make_product):
    from market.models import SubOrder
    from tests.support import pay_card, place

    use_localstripe(app, localstripe_url)
    artisan = make_artisan()
    product = make_product(artisan, price_fen=5000, stock=5)
    buyer = make_user(("buyer",))
    order = place(buyer, {product: 2})
    pay_card(order)
    sub_id = order.sub_orders[0].id

    sign_in(artisan.user)
    form = page_form(client, "/shop/orders", action=f"/shop/orders/{sub_id}/ship")
    resp = form.submit(client, {"carrier": "顺丰", "tracking_number": "SF1234567890"})
    assert resp.status_code == 302
    assert _fresh(SubOrder, sub_id).status == "shipped"

    sign_in(buyer)
    form = page_form(client, f"/orders/{order.id}", action=f"/orders/parcels/{sub_id}/received")
    assert form.submit(client).status_code == 302
    assert _fresh(SubOrder, sub_id).status == "delivered"

    sign_in(make_user(("staff",)))
    form = page_form(client, f"/staff/orders/{order.id}", having="amount")
    resp = form.submit(client, {"amount": "20", "reason": "少发一件"})  # target left as rendered
    assert resp.status_code == 302, _errors(resp)
    fresh = _fresh(Order, order.id)
    assert (fresh.status, fresh.refunded_fen) == ("completed", 2000)


def test_artisan_marks_a_parcel_delivered_as_a_browser(app, client, sign_in, localstripe_url, make_user,
                                                        make_artisan, make_product):
    from market.models import SubOrder
    from market.orders.operations import ship as mark_shipped
    from tests.support import pay_card, place

    use_localstripe(app, localstripe_url)
    artisan = make_artisan()
    order = place(make_user(("buyer",)), {make_product(artisan, stock=5): 1})
    pay_card(order)
    sub_id = order.sub_orders[0].id
    mark_shipped(artisan.user, sub_id, "中通", "ZT9876543210")
    sign_in(artisan.user)
    assert page_form(client, "/shop/orders", action=f"/shop/orders/{sub_id}/delivered").submit(client).status_code == 302
    assert _fresh(SubOrder, sub_id).status == "delivered"
