"""A decline, end to end in headless Chromium: the asked mentor declines on her page; the
entrepreneur sees the unread count in the menu, opens the notice (the count drops) and the
mail is on /dev/notices (the development page, registered on this test app)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from market import clock
from market.extensions import db
from market.mentoring import services
from tests.support import login_in_browser

pytestmark = pytest.mark.browser


@pytest.fixture
def dev_pages(app):
    """/dev/notices as development has it (registered before the live server serves)."""
    from market.devmail import bp

    app.register_blueprint(bp)
    return app


def test_a_decline_reaches_her_in_app_and_by_mail(dev_pages, live_server, new_browser_page, make_user,
                                                  make_mentor):
    app, base = dev_pages, live_server.url
    clock.set(app, clock.now())
    mentor = make_mentor("陈海燕", bio="海鲜电商直播")
    author = make_user(("entrepreneur",), name="阿芳")
    case = services.file_case(author, services.CaseData(
        business_name="阿芳海鲜干货", industry="seafood", stage="startup", district="象山县",
        difficulties=["e_commerce"], description="想开网店。", consent_to_share=True))
    intro = next(i for i in case.introductions if i.mentor_id == mentor.id)
    services.ask_mentor(author, case.id, intro.id)
    db.session.commit()

    page = new_browser_page()
    login_in_browser(page, base, mentor.user.email)
    page.goto(f"{base}/mentoring/")
    page.locator(".decline-form").first.locator("select[name=code]").select_option("busy")
    with page.expect_navigation():  # the decline is stored before her page is opened
        page.locator(".decline-form .decline-button").first.click()

    her = new_browser_page()
    login_in_browser(her, base, author.email)
    assert her.inner_text("#unread-count") == "1"
    her.click("#notices-link")
    with her.expect_navigation():
        her.click("li.notice.unread a")
    assert "婉拒" in her.inner_text("main")
    expect(her.locator("#unread-count")).to_have_count(0)

    her.goto(f"{base}/dev/notices")
    mails = her.locator("article.dev-notice[data-channel=mail][data-kind=case_declined]")
    assert mails.count() == 1 and author.email in mails.first.inner_text()
