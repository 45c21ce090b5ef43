"""The proposed-case flow in Chromium: a warning appears, staff open the case on her behalf,
the case shows the chart (SVG, no CSP violation), and it reads on a phone's width."""
import datetime as dt

import numpy as np
import pytest
from playwright.sync_api import expect

from market.extensions import db
from market.insights import services
from market.insights.sales import import_sales, map_shop
from market.mentoring.services.profiles import ProfileData, create_profile
from signals import SalesScanner
from tests.support import login_in_browser, watch_csp_violations

pytestmark = pytest.mark.browser
START = dt.date(2025, 6, 1)


def test_warning_to_case_with_chart(app, live_server, browser_page, make_user):
    staff = make_user(("staff",), name="妇联小周")
    profile = create_profile(staff, ProfileData(name="王阿姨", phone="13800138000", district="象山县"))
    db.session.commit()
    counts = np.random.default_rng(1).poisson(np.where(np.arange(330) < 270, 8.0, 2.0))
    map_shop(staff, "tb-889", "taobao", profile.id, "王阿姨的海鲜铺")
    rows = ["shop_id,date,orders,revenue_fen,refunded_fen"] + [
        f"tb-889,{START + dt.timedelta(days=d)},{n},{n * 5000},0" for d, n in enumerate(counts) if n]
    import_sales(staff, ("\n".join(rows) + "\n").encode())
    day = SalesScanner().scan(np.asarray([counts]), START, ["x"])[0].flagged_on
    assert services.scan(day) == 1

    page = browser_page
    violations = watch_csp_violations(page)
    base = live_server.url
    login_in_browser(page, base, staff.email)
    page.goto(f"{base}/staff/insights/warnings")
    page.click("#warnings a")
    expect(page.locator("#warning-chart svg polygon.band")).to_have_count(1)
    page.fill("textarea[name=note]", "电话联系了她，她愿意找导师")
    page.check("input[name=consent_details]")
    page.click("#open-form button[type=submit]")
    page.wait_for_url("**/mentoring/cases/*")
    assert page.locator("#case-status").get_attribute("class").endswith("status-open")
    chart = page.locator("#case-sales #warning-chart svg")
    assert chart.count() == 1 and page.locator("#case-sales line.marker").count() == 1
    page.set_viewport_size({"width": 375, "height": 800})
    box = chart.bounding_box()
    assert 0 < box["width"] <= 375
    assert violations == []
