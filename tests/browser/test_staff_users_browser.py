"""End to end in headless Chromium: a staff member opens her overview, finds an artisan by
phone number, gives her the committee role, then suspends her; the artisan, signed in on her
own browser the whole time, is signed out at once, cannot sign in again (she is told why) and
her products leave the storefront."""
import pytest

from market.extensions import db
from tests.support import login_in_browser, reload, watch_csp_violations

pytestmark = pytest.mark.browser


def test_staff_edit_roles_then_suspend_and_her_open_session_is_refused(live_server, browser_page, new_browser_page,
                                                                       make_user, make_artisan, make_product):
    base = live_server.url
    make_user(("staff",), email="zhou@example.cn", name="妇联小周")
    artisan = make_artisan(name="阿芳的海鲜铺", email="afang@example.cn")
    artisan.user.phone = "139 5742 1188"
    db.session.commit()
    product = make_product(artisan, title="象山淡晒虾干")

    her = new_browser_page()
    login_in_browser(her, base, "afang@example.cn")
    her.goto(f"{base}/account/")
    assert "afang@example.cn" in her.inner_text("main")

    page = browser_page
    violations = watch_csp_violations(page)
    login_in_browser(page, base, "zhou@example.cn")
    page.goto(f"{base}/staff/")
    assert page.is_visible("#ov-orders-today") and page.is_visible("#ov-pending-artisans")
    page.click("nav.staff-nav >> text=用户")
    page.wait_for_url(f"{base}/staff/users")
    page.fill("form.user-search input[name=q]", "13957421188")
    page.click("form.user-search button[type=submit]")
    page.wait_for_url(f"{base}/staff/users?*")
    rows = page.locator("#users tbody tr")
    assert rows.count() == 1
    rows.locator("a").first.click()
    page.wait_for_url(f"{base}/staff/users/{artisan.user_id}")

    # Her roles: artisan ticked, staff greyed out; tick committee and save.
    assert page.is_checked("#role-artisan") and page.is_disabled("#role-staff")
    page.check("#role-committee")
    with page.expect_navigation():  # the form posts back to this URL: wait_for_url would return at once
        page.click("#roles-form button[type=submit]")
    assert page.is_checked("#role-committee")
    assert reload(artisan.user).role_names == {"artisan", "committee"}

    page.fill("#suspend-form textarea[name=reason]", "多次发货不符，暂停核查")
    with page.expect_navigation():
        page.click("#suspend-form button[type=submit]")
    assert page.url == f"{base}/staff/users/{artisan.user_id}"
    assert "已暂停" in page.inner_text("#user-status")
    assert "多次发货不符" in page.inner_text("#user-status")
    assert "user.suspend" in page.inner_text(".audit-entries")
    assert page.is_visible("#unsuspend-form")

    # Her open session is refused at her next click.
    her.goto(f"{base}/account/")
    assert "/account/login" in her.url
    her.fill("input[name=email]", "afang@example.cn")
    her.fill("input[name=password]", "correct-horse-battery")
    her.click("main form button[type=submit]")
    her.wait_for_selector("main small.error")
    assert "此账号已被暂停" in her.inner_text("main")
    assert her.goto(f"{base}/products/{product.id}").status == 404
    assert not violations, violations
