"""End to end in headless Chromium: an artisan lists a product with a photo, a buyer finds
it by a Chinese search word and opens it."""

import pytest
from PIL import Image

from tests.support import DEFAULT_PASSWORD, image_loads

pytestmark = pytest.mark.browser


def test_artisan_lists_a_product_and_a_buyer_finds_it_by_chinese_search(
    live_server, browser_page, new_browser_page, make_artisan, tmp_path
):
    artisan = make_artisan(name="秀英绣坊")
    photo = tmp_path / "团扇.png"
    Image.new("RGB", (900, 700), (214, 51, 108)).save(photo)

    page = browser_page
    page.goto(f"{live_server.url}/account/login")
    page.fill("input[name=email]", artisan.user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/shop/products/new")
    page.fill("input[name=title]", "手工刺绣真丝团扇")
    page.fill("textarea[name=description]", "慈溪绣娘一针一线绣出的荷花团扇，送礼佳品。")
    page.select_option("select[name=category]", "embroidery")
    page.fill("input[name=price]", "88.00")
    page.fill("input[name=stock]", "5")
    page.set_input_files("input[name=images]", str(photo))
    page.select_option("select[name=status]", "published")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert "商品已保存" in page.inner_text(".flash-success")

    buyer = new_browser_page()
    buyer.goto(live_server.url)
    buyer.fill("input[name=q]", "团扇")
    buyer.press("input[name=q]", "Enter")
    buyer.wait_for_selector(".product-card")
    assert "共 1 件商品" in buyer.inner_text("#result-count")
    buyer.click("text=手工刺绣真丝团扇")
    buyer.wait_for_selector("h1:has-text('手工刺绣真丝团扇')")
    assert "¥88.00" in buyer.inner_text(".price")
    assert "秀英绣坊" in buyer.inner_text(".product-page")
    assert image_loads(buyer, ".gallery img"), "the product photo did not load"


def test_artisan_edits_an_existing_product_with_a_photo_and_keeps_the_photo(
    live_server, browser_page, make_artisan, make_product
):
    from market.extensions import db
    from market.models import Product
    from tests.support import image_upload, login_in_browser, watch_csp_violations

    artisan = make_artisan(name="象山竹编")
    product = make_product(artisan, title="竹编果篮", price_fen=12800, stock=3, uploads=[image_upload()[0]])
    [image] = product.images

    page = browser_page
    violations = watch_csp_violations(page)
    login_in_browser(page, live_server.url, artisan.user.email)
    page.goto(f"{live_server.url}/shop/")
    page.click("text=竹编果篮")
    page.wait_for_selector(f".thumb-row img[src*='{image.thumb_filename}']")
    assert page.input_value("input[name=price]") == "128.00"
    page.fill("input[name=price]", "99.50")
    page.fill("input[name=stock]", "12")
    page.click("main form details summary")  # the English fields are folded away until wanted
    page.fill("input[name=title_en]", "Bamboo fruit basket")
    page.click("main form[enctype] button[type=submit]")  # the file input is left empty
    page.wait_for_selector(".flash-success")
    assert "商品已保存" in page.inner_text(".flash-success")
    assert page.input_value("input[name=price]") == "99.50"
    assert image_loads(page, ".thumb-row img")

    db.session.expire_all()
    fresh = db.session.get(Product, product.id)
    assert (fresh.price_fen, fresh.stock, fresh.title, fresh.title_en) == (9950, 12, "竹编果篮", "Bamboo fruit basket")
    assert [i.filename for i in fresh.images] == [image.filename]
    assert violations == []
