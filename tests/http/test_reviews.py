"""Reviews from verified buyers: who may review what (forms submitted as a browser does),
one review per line even when two submits race, the artisan's one answer, staff hiding a
review with a reason (audited), the rating on the card and page, and the mail asking for a
review a few days after delivery."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEntry, Notice, Product, Review
from tests.support import delivered_line, image_upload, login, page_form, race_in_threads


def _product(pid) -> Product:
    db.session.expire_all()
    return db.session.get(Product, pid)


def _reviews() -> int:
    return db.session.scalar(select(func.count()).select_from(Review))


def test_buyer_reviews_a_delivered_line_with_photos_as_a_browser_does(client, make_user, make_artisan, make_product):
    artisan = make_artisan(name="秀英绣坊")
    product = make_product(artisan, title="荷花刺绣团扇")
    buyer = make_user(name="林小雨")
    line = delivered_line(buyer, product)
    before = _product(product.id).updated_at
    login(client, buyer)

    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert f"/reviews/new/{line.id}" in page  # she is offered to review what she received
    form = page_form(client, f"/reviews/new/{line.id}", action="")
    resp = form.submit(client, {"stars": "4", "body": "绣工精细，包装用心。"},
                       files={"photos": [image_upload(), image_upload(colour=(10, 120, 200))]})
    assert resp.status_code == 302, resp.get_data(as_text=True).split("<main")[-1][:800]

    review = db.session.scalar(select(Review))
    assert (review.stars, review.body, len(review.photo_names)) == (4, "绣工精细，包装用心。", 2)
    p = _product(product.id)
    assert (p.rating_count, p.rating_sum, p.rating) == (1, 4, 4.0)
    assert p.updated_at >= before
    html = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "绣工精细" in html and "林*" in html and "已购买" in html
    assert f"/reviews/new/{line.id}" not in html  # nothing left to review
    listing = client.get("/products").get_data(as_text=True)
    assert "4.0 (1)" in listing  # the card shows average and count


def test_no_review_without_adelivered_line(client, make_user, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan)
    buyer = make_user()
    shipped = delivered_line(buyer, product, deliver=False)
    login(client, buyer)
    resp = client.get(f"/reviews/new/{shipped.id}")
    assert resp.status_code == 409
    assert "商品送达后才能评价" in resp.get_data(as_text=True)
    resp = client.post(f"/reviews/new/{shipped.id}", data={"stars": "5", "body": "好"})
    assert resp.status_code == 409 and _reviews() == 0

    # Someone else's delivered line: not found (nobody learns what others bought).
    other = make_user()
    theirs = delivered_line(other, product)
    assert client.get(f"/reviews/new/{theirs.id}").status_code == 404
    assert client.post(f"/reviews/new/{theirs.id}", data={"stars": "5"}).status_code in (400, 404)
    assert _reviews() == 0 and _product(product.id).rating_count == 0


def test_second_review_of_a_line_and_too_many_photos_change_nothing(client, make_user, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan)
    buyer = make_user()
    line = delivered_line(buyer, product)
    login(client, buyer)

    form = page_form(client, f"/reviews/new/{line.id}", action="")
    resp = form.submit(client, {"stars": "5"}, files={"photos": [image_upload() for _ in range(4)]})
    assert resp.status_code == 400
    assert "最多添加 3 张照片" in resp.get_data(as_text=True)
    assert _reviews() == 0 and _product(product.id).rating_count == 0

    form = page_form(client, f"/reviews/new/{line.id}", action="")
    resp = form.submit(client, {"stars": "9"})
    assert resp.status_code == 400 and _reviews() == 0

    assert form.submit(client, {"stars": "5", "body": "很好"}).status_code == 302
    again = form.submit(client, {"stars": "1", "body": "改主意了"})
    assert again.status_code == 409
    assert "您已经评价过这件商品了" in again.get_data(as_text=True)
    p = _product(product.id)
    assert _reviews() == 1 and (p.rating_count, p.rating_sum) == (1, 5)


def test_two_simultaneous_reviews_of_one_line_leave_one(app, make_user, make_artisan, make_product):
    from market.models import User
    from market.reviews import services

    artisan = make_artisan()
    product = make_product(artisan)
    buyer = make_user()
    line = delivered_line(buyer, product)
    buyer_id, line_id = buyer.id, line.id

    def review(stars):
        def job():
            user = db.session.get(User, buyer_id)
            return services.write_review(user, line_id, stars=stars, body="同时提交").id
        return job

    results = race_in_threads(app, [review(5), review(3), review(4)])
    written = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, services.ReviewError)]
    assert len(written) == 1 and len(refused) == 2, results
    p = _product(product.id)
    kept = db.session.scalar(select(Review))
    assert _reviews() == 1 and (p.rating_count, p.rating_sum) == (1, kept.stars)


def test_artisan_answers_once_and_only_her_own(app, client, make_user, make_artisan, make_product):
    from market.reviews import services

    artisan = make_artisan()
    product = make_product(artisan)
    buyer = make_user()
    line = delivered_line(buyer, product)
    review = services.write_review(buyer, line.id, stars=5, body="很喜欢")
    review_id = review.id

    stranger = make_artisan()
    login(client, stranger.user)
    assert client.post(f"/reviews/{review_id}/reply", data={"reply": "我不是卖家"}).status_code == 404
    client = app.test_client()

    login(client, artisan.user)
    form = page_form(client, f"/products/{product.id}", action=f"/reviews/{review_id}/reply")
    assert form.submit(client, {"reply": "谢谢您的喜欢！"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, review_id).reply == "谢谢您的喜欢！"
    client.post(f"/reviews/{review_id}/reply", data={"reply": "再说一次"})  # refused, with a message
    db.session.expire_all()
    assert db.session.get(Review, review_id).reply == "谢谢您的喜欢！"
    assert "谢谢您的喜欢" in client.get(f"/products/{product.id}").get_data(as_text=True)


def test_staff_hide_a_review_with_a_reason_audited_and_the_rating_follows(app, client, make_user, make_artisan,
                                                                          make_product):
    from market.reviews import services

    artisan = make_artisan()
    product = make_product(artisan)
    buyers = [make_user(), make_user()]
    for buyer, stars in zip(buyers, (5, 1), strict=True):
        services.write_review(buyer, delivered_line(buyer, product).id, stars=stars, body=f"{stars}星 评价内容")
    assert _product(product.id).rating == 3.0
    bad = db.session.scalar(select(Review).where(Review.stars == 1))
    bad_id = bad.id
    staff = make_user(("staff",))

    login(client, buyers[0])  # a buyer cannot hide reviews
    assert client.post(f"/staff/reviews/{bad_id}/hide", data={"reason": "x"}).status_code == 403
    client = app.test_client()

    login(client, staff)
    form = page_form(client, f"/products/{product.id}", action=f"/staff/reviews/{bad_id}/hide")
    form.submit(client, {"reason": ""})  # no reason: refused
    db.session.expire_all()
    assert db.session.get(Review, bad_id).hidden_at is None
    assert form.submit(client, {"reason": "含广告内容"}).status_code == 302
    db.session.expire_all()
    hidden = db.session.get(Review, bad_id)
    assert hidden.hidden_reason == "含广告内容"
    p = _product(product.id)
    assert (p.rating_count, p.rating) == (1, 5.0)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "review.hide",
                                                      AuditEntry.object_id == bad_id)).actor_id == staff.id
    client = app.test_client()
    assert "1星 评价内容" not in client.get(f"/products/{product.id}").get_data(as_text=True)

    login(client, staff)
    assert client.post(f"/staff/reviews/{bad_id}/restore").status_code == 302
    assert _product(product.id).rating_count == 2
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "review.restore")) is not None


def test_buyer_is_asked_once_a_few_days_after_delivery(app, make_user, make_artisan, make_product):
    from market.models import SubOrder
    from market.reviews import services

    app.config["REVIEW_ASK_DAYS"] = 5
    artisan = make_artisan()
    product = make_product(artisan, title="竹编果篮")
    buyer = make_user()
    line = delivered_line(buyer, product)
    sub = db.session.get(SubOrder, line.sub_order_id)
    delivered = sub.delivered_at

    assert services.ask_for_reviews(now=delivered + timedelta(days=2)) == 0  # too early
    assert services.ask_for_reviews(now=delivered + timedelta(days=5, hours=1)) == 1
    assert services.ask_for_reviews(now=delivered + timedelta(days=5, hours=2)) == 0  # once
    mails = list(db.session.scalars(select(Notice).where(Notice.kind == "review_request",
                                                         Notice.user_id == buyer.id)))
    assert mails and any(n.channel == "mail" for n in mails)
    assert f"/reviews/new/{line.id}" in mails[0].link and "竹编果篮" in mails[0].subject

    # Already reviewed: nobody asks again, even for a new parcel window.
    other = make_user()
    other_line = delivered_line(other, product)
    services.write_review(other, other_line.id, stars=5)
    other_sub = db.session.get(SubOrder, other_line.sub_order_id)
    assert services.ask_for_reviews(now=other_sub.delivered_at + timedelta(days=6)) == 0


def test_product_page_query_count_does_not_grow_with_reviews_or_related_products(app, client, make_user,
                                                                                 make_artisan, make_product):
    from sqlalchemy import event

    from market.reviews import services

    def statements(path: str) -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    artisan = make_artisan()
    product = make_product(artisan, title="荷花刺绣团扇")
    buyer = make_user()
    services.write_review(buyer, delivered_line(buyer, product).id, stars=5, body="好")
    make_product(artisan, title="喜鹊刺绣手帕")
    one = statements(f"/products/{product.id}")
    for i in range(4):
        someone = make_user()
        services.write_review(someone, delivered_line(someone, product).id, stars=4, body=f"第{i}条")
        make_product(artisan, title=f"刺绣香囊{i}号")
    assert statements(f"/products/{product.id}") == one
