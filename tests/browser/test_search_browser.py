"""End to end in headless Chromium: suggestions appear while a buyer types (static/js/search.js,
no inline script) and lead to the product; a synonym search finds it."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_suggestions_while_typing_lead_to_the_product(live_server, browser_page, make_artisan, make_product):
    make_product(make_artisan(), title="手工刺绣真丝团扇", description="荷花图案")
    page = browser_page
    page.goto(live_server.url)
    page.fill("input[name=q]", "")
    page.type("input[name=q]", "刺绣", delay=30)
    link = page.locator("#search-suggestions a.suggestion-title", has_text="手工刺绣真丝团扇")
    link.wait_for()
    assert page.locator("#search-suggestions").is_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#search-suggestions")).to_be_hidden()

    page.fill("input[name=q]", "")
    page.type("input[name=q]", "绣花", delay=30)  # nobody wrote 绣花: synonyms fill in
    page.locator("#search-suggestions a.suggestion-title", has_text="手工刺绣真丝团扇").click()
    # The home page has h3 cards too: wait for the search the suggestion leads to.
    page.wait_for_url(re.compile(r"/products\?q="))
    assert "手工刺绣真丝团扇" in page.inner_text("main")

    page.fill("input[name=q]", "绣花")
    page.click(".search-bar button[type=submit]")
    page.wait_for_selector("#result-count")
    assert page.locator("h3", has_text="手工刺绣真丝团扇").count() == 1
