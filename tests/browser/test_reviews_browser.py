"""In headless Chromium: the product page's gallery (thumbnails, tap to zoom on a 390 px
phone, no CSP violation), a buyer reviewing a delivered product with a photo, and the
artisan answering her review."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Product, Review
from tests.support import (
    BROWSER_TIMEOUT_MS,
    delivered_line,
    image_loads,
    image_upload,
    login_in_browser,
    watch_csp_violations,
)

pytestmark = pytest.mark.browser


def _eventually(check, seconds: float = BROWSER_TIMEOUT_MS / 1000) -> bool:
    """Poll `check` (page functions are run without eval: the page's CSP forbids it)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_gallery_thumbnails_and_tap_to_zoom_on_a_phone(live_server, chromium, make_artisan, make_product):
    artisan = make_artisan(name="秀英绣坊")
    product = make_product(artisan, title="荷花刺绣团扇", uploads=[
        image_upload(colour=(214, 51, 108))[0], image_upload(colour=(30, 110, 170))[0],
        image_upload(colour=(46, 125, 50))[0]])
    names = [i.filename for i in product.images]

    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, has_touch=True,
                                   is_mobile=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        violations = watch_csp_violations(page)
        page.goto(f"{live_server.url}/products/{product.id}")
        main = page.locator("#gallery-main")
        assert names[0] in main.get_attribute("src")
        assert page.locator(".gallery-thumb").count() == 3
        page.locator(".gallery-thumb").nth(2).tap()
        assert _eventually(lambda: names[2] in main.get_attribute("src"))
        assert page.locator(".gallery-thumb").nth(2).get_attribute("aria-current") == "true"
        assert image_loads(page, "#gallery-main")

        width_before = main.bounding_box()["width"]
        main.tap()
        page.wait_for_selector(".gallery-main.zoomed")
        # Zoomed in (after its short transition) to twice the size or more.
        assert _eventually(lambda: page.eval_on_selector(
            "#gallery-main", "img => new DOMMatrix(getComputedStyle(img).transform).a") > 2)
        # The zoomed photo stays inside its frame: the page does not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert abs(page.locator(".gallery-main").bounding_box()["width"] - width_before) < 2
        main.tap()
        page.wait_for_selector(".gallery-main:not(.zoomed)")
        assert violations == []
    finally:
        context.close()


def test_buyer_reviews_a_delivered_product_and_the_artisan_answers(live_server, browser_page, new_browser_page,
                                                                   make_user, make_artisan, make_product, tmp_path):
    from PIL import Image

    artisan = make_artisan(name="海燕渔家干货")
    product = make_product(artisan, title="东海黄鱼鲞", category="seafood", uploads=[image_upload()[0]])
    buyer = make_user(name="林小雨")
    delivered_line(buyer, product)
    photo = tmp_path / "收到了.png"
    Image.new("RGB", (640, 480), (30, 110, 170)).save(photo)

    page = browser_page
    violations = watch_csp_violations(page)
    login_in_browser(page, live_server.url, buyer.email)
    page.goto(f"{live_server.url}/products/{product.id}")
    page.click("a.write-review")
    page.check("input[name=stars][value='4']")
    page.fill("textarea[name=body]", "鱼鲞很香，蒸一下就很好吃。")
    page.set_input_files("input[name=photos]", str(photo))
    page.click("main form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert "评价已发布" in page.inner_text(".flash-success")
    review = page.locator(".review").first
    assert "鱼鲞很香" in review.inner_text() and "★★★★☆" in review.inner_text()
    assert image_loads(page, ".review-photos img")
    assert "4.0" in page.inner_text(".rating-summary")
    assert page.locator("a.write-review").count() == 0  # one review per line
    assert violations == []

    seller = new_browser_page()
    login_in_browser(seller, live_server.url, artisan.user.email)
    seller.goto(f"{live_server.url}/products/{product.id}")
    seller.fill(".reply-form textarea[name=reply]", "谢谢您！下次给您多放一条。")
    seller.click(".reply-form button[type=submit]")
    seller.wait_for_selector(".flash-success")
    assert "谢谢您！下次给您多放一条" in seller.inner_text(".review-reply")
    assert seller.locator(".reply-form").count() == 0  # she answers once

    page.reload()
    assert "谢谢您！下次给您多放一条" in page.inner_text(".review-reply")
    db.session.expire_all()
    stored = db.session.scalar(select(Review))
    assert (stored.stars, len(stored.photo_names), stored.reply is not None) == (4, 1, True)
    assert (db.session.get(Product, product.id).rating_count, db.session.get(Product, product.id).rating_sum) == (1, 4)
