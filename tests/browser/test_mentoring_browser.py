"""End to end in headless Chromium: an entrepreneur files a request in Chinese and sees
suggestions with reasons, asks a mentor; the mentor accepts and logs a visit; the
entrepreneur resolves and rates it; staff see the counts change on the dashboard."""
import pytest

from market import clock
from tests.support import login_in_browser as _login

pytestmark = pytest.mark.browser


def _stat(page, css_id: str) -> int:
    return int(page.inner_text(f"#{css_id}"))


def test_request_to_resolution_in_the_browser(app, live_server, new_browser_page, make_user, make_mentor):
    clock.set(app, clock.now())  # "resolved this year" must not straddle New Year's midnight in Beijing
    base = live_server.url
    mentor = make_mentor("陈海燕", industries=("seafood",), skills=("e_commerce", "live_streaming"),
                         district="象山县", bio="在象山做海鲜电商十年，擅长直播带货和网店运营。")
    make_mentor("王茶师", group="scientist", industries=("tea",), skills=("technology", "quality"),
                district="余姚市", bio="茶叶种植与加工技术。")
    entrepreneur = make_user(("entrepreneur",), name="阿芳")
    staff = make_user(("staff",), name="妇联小周")

    staff_page = new_browser_page()
    _login(staff_page, base, staff.email)
    staff_page.goto(f"{base}/staff/mentoring/")
    assert _stat(staff_page, "stat-total") == 0 and _stat(staff_page, "stat-resolved-year") == 0

    page = new_browser_page()
    _login(page, base, entrepreneur.email)
    page.click("text=创业互助")
    page.click("#ask-for-help")
    page.fill("input[name=business_name]", "阿芳海鲜干货")
    page.select_option("select[name=industry]", "seafood")
    page.select_option("select[name=district]", "象山县")
    page.check("input[name=difficulties][value=e_commerce]")
    page.check("input[name=difficulties][value=live_streaming]")
    page.fill("textarea[name=description]", "我在象山做海鲜干货，想开网店直播带货，但不会拍视频，也不懂平台规则。")
    page.check("input[name=consent_to_share]")
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#suggestions .suggestion")

    first = page.locator("#suggestions .suggestion").first
    assert first.locator(".mentor-name").inner_text() == "陈海燕"
    reasons = first.locator(".reasons").inner_text()
    assert "电商运营" in reasons and "同在象山县" in reasons and "水产海鲜" in reasons
    first.locator(".ask-button").click()
    page.wait_for_selector("#asked-note")
    request_url = page.url

    mentor_page = new_browser_page()
    _login(mentor_page, base, mentor.user.email)
    mentor_page.goto(f"{base}/mentoring/")
    assert "不会拍视频" in mentor_page.inner_text(".ask")  # she agreed to share it
    mentor_page.click(".ask .accept-button")
    mentor_page.wait_for_selector("#case-status:has-text('已结对')")
    mentor_page.select_option("#log-form select[name=kind]", "visit")
    mentor_page.fill("#log-form textarea[name=body]", "上门查看了仓库，教她用手机拍短视频，制定了每周三次直播的计划。")
    mentor_page.click("#log-form button[type=submit]")
    mentor_page.wait_for_selector("#case-status:has-text('帮扶中')")
    assert "教她用手机拍短视频" in mentor_page.inner_text("#case-log")

    page.goto(request_url)
    assert "陈海燕" in page.inner_text("#matched-mentor")
    page.check("#resolve-form input[name=rating][value='5']")
    page.fill("#resolve-form textarea[name=outcome]", "网店开起来了，第一个月直播卖出三百单。")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_selector("#case-status:has-text('已解决')")

    staff_page.reload()
    assert _stat(staff_page, "stat-total") == 1 and _stat(staff_page, "stat-resolved-year") == 1
    resolved_bar = staff_page.locator("#chart-status .bar[data-label='已解决']")
    assert resolved_bar.get_attribute("data-value") == "1"
    assert "0/3" in staff_page.inner_text("#mentor-load")  # her place is free again
