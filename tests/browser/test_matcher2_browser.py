"""In headless Chromium: a woman ticks one difficulty and describes another in her own words;
the case page asks "we understood you also need: 直播带货 — right?", she confirms, and the
suggested mentors change to the one who covers both."""
import pytest

from tests.support import login_in_browser as _login

pytestmark = pytest.mark.browser


def test_free_text_yields_a_confirmed_need_and_the_suggestions_change(live_server, new_browser_page,
                                                                      make_user, make_mentor):
    base = live_server.url
    make_mentor("网店王", industries=("seafood",), skills=("e_commerce",), district="象山县")
    make_mentor("主播李", industries=("seafood",), skills=("e_commerce", "live_streaming"), district="宁海县")
    entrepreneur = make_user(("entrepreneur",), name="阿芳")

    page = new_browser_page()
    _login(page, base, entrepreneur.email)
    page.goto(f"{base}/mentoring/requests/new")
    page.fill("input[name=business_name]", "阿芳海鲜干货")
    page.select_option("select[name=industry]", "seafood")
    page.select_option("select[name=district]", "象山县")
    page.check("input[name=difficulties][value=e_commerce]")
    page.fill("textarea[name=description]", "网店开了半年没什么单子。每天开播两小时，在线的就三五个人。")
    page.check("input[name=consent_to_share]")
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#understood")
    assert page.locator("#difficulties .difficulty[data-code=live_streaming]").count() == 0

    need = page.locator("#understood .understood-need[data-need=live_streaming]")
    assert "直播带货" in need.inner_text()
    # The page already shows the filing's success flash: wait for the confirmation's own page.
    with page.expect_navigation():
        need.locator(".confirm-need").click()
    page.wait_for_selector(".flash-success")
    assert page.locator("#understood").count() == 0
    assert page.locator("#difficulties .difficulty[data-code=live_streaming]").count() == 1
    first = page.locator("#suggestions .suggestion").first
    assert first.locator(".mentor-name").inner_text() == "主播李"
    assert "直播带货" in first.locator(".reasons").inner_text()
    # A second woman who ticks the same and writes nothing more gets the nearby shop mentor first.
    other = new_browser_page()
    _login(other, base, make_user(("entrepreneur",)).email)
    other.goto(f"{base}/mentoring/requests/new")
    other.fill("input[name=business_name]", "小林海鲜")
    other.select_option("select[name=industry]", "seafood")
    other.select_option("select[name=district]", "象山县")
    other.check("input[name=difficulties][value=e_commerce]")
    other.fill("textarea[name=description]", "网店开了半年没什么单子。")
    other.check("input[name=consent_to_share]")
    other.click("#request-form button[type=submit]")
    other.wait_for_selector("#suggestions .suggestion")
    assert other.locator("#understood").count() == 0
    assert other.locator("#suggestions .suggestion .mentor-name").first.inner_text() == "网店王"
