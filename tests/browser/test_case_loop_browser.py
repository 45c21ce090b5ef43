"""The closed loop end to end in headless Chromium: a committee member (执委) files on behalf
of a woman without an account (phone only, consent recorded); the matcher suggests; the first
mentor's ask expires (the clock is the test's); the second accepts, sees the phone, logs a
visit with a next follow-up, proposes closure with a result per difficulty; staff verify; the
case is closed."""
from datetime import timedelta

import pytest

from market import clock
from market.accounts.services import grant_role
from market.extensions import db
from market.mentoring import services
from market.models import Case
from tests.support import login_in_browser as _login

pytestmark = pytest.mark.browser


def test_committee_referral_to_verified_closure(app, live_server, new_browser_page, make_user, make_mentor):
    base = live_server.url
    first = make_mentor("陈海燕", industries=("seafood",), skills=("e_commerce", "live_streaming"),
                        district="象山县", bio="在象山做海鲜电商十年，擅长直播带货和网店运营。")
    second = make_mentor("李秀英", industries=("seafood",), skills=("e_commerce",), district="宁海县",
                         bio="网店运营和包装设计。")
    staff = make_user(("staff",), name="妇联小周")
    member = make_user(("buyer",), name="执委王姐")
    grant_role(staff, member, "committee")
    clock.set(app, clock.now())

    # The committee member files for 李阿婆, who has no account and no smartphone.
    page = new_browser_page()
    _login(page, base, member.email)
    page.goto(f"{base}/mentoring/")
    page.click("#file-for-her")
    page.fill("input[name=name]", "李阿婆")
    page.fill("input[name=phone]", "138 0574 2266")
    page.fill("input[name=business_kind]", "晒鱼鲞")
    page.fill("input[name=business_name]", "李阿婆鱼鲞")
    page.select_option("select[name=industry]", "seafood")
    page.select_option("select[name=district]", "象山县")
    page.check("input[name=difficulties][value=e_commerce]")
    page.check("input[name=difficulties][value=live_streaming]")
    page.fill("textarea[name=description]", "自家晒的鱼鲞想卖到网上，不会用智能手机。")
    page.check("input[name=consent_to_share]")
    page.check("input[name=consent_contact]")
    page.check("input[name=consent_method][value=spoken]")
    page.click("#on-behalf-form button[type=submit]")
    page.wait_for_selector("#suggestions .suggestion")
    assert "执委直通车" in page.inner_text("main") and "代李阿婆登记" in page.inner_text("#on-behalf")
    assert page.locator("#suggestions .suggestion .mentor-name").first.inner_text() == "陈海燕"
    page.locator("#suggestions .suggestion").first.locator(".ask-button").click()
    page.wait_for_selector("#asked-note")
    case_url = page.url

    # 陈海燕 never answers: after MENTORING_ASK_HOURS the ask expires and the case moves on.
    clock.advance(app, timedelta(hours=app.config["MENTORING_ASK_HOURS"] + 1))
    assert services.sweep()["expired"] == 1
    page.reload()
    assert "李秀英" in page.inner_text("#asked-note")

    mentor_page = new_browser_page()
    _login(mentor_page, base, second.user.email)
    mentor_page.goto(f"{base}/mentoring/")
    mentor_page.click(".ask .accept-button")
    mentor_page.wait_for_selector("#case-status:has-text('已结对')")
    assert "13805742266" in mentor_page.inner_text("#her-contact"), "she agreed to share her phone"
    visit_day = clock.today()
    mentor_page.select_option("#log-form select[name=kind]", "visit")
    mentor_page.fill("#log-form input[name=next_follow_up_on]", (visit_day + timedelta(days=7)).isoformat())
    mentor_page.fill("#log-form textarea[name=body]", "上门教李阿婆的女儿开网店，拍了第一批鱼鲞照片。")
    mentor_page.click("#log-form button[type=submit]")
    mentor_page.wait_for_selector("#case-status:has-text('帮扶中')")
    assert (visit_day + timedelta(days=7)).isoformat() in mentor_page.inner_text("#next-follow-up")

    items = mentor_page.locator("#closure-form .closure-item")
    assert items.count() == 2
    items.nth(0).locator("textarea").fill("网店开通，第一个月卖出八十单")
    items.nth(1).locator("select").select_option("unsolvable")
    items.nth(1).locator("textarea").fill("她不愿出镜，改由女儿拍图文")
    mentor_page.fill("#closure-form textarea[name=summary]", "开通网店，教会拍照上架")
    mentor_page.click("#closure-form button[type=submit]")
    mentor_page.wait_for_selector("#case-status:has-text('待确认结案')")

    staff_page = new_browser_page()
    _login(staff_page, base, staff.email)
    staff_page.goto(case_url)
    staff_page.fill("#verify-form textarea[name=note]", "电话回访李阿婆，她确认网店已经在卖货")
    staff_page.click("#verify-form button[type=submit]")
    staff_page.wait_for_selector("#case-status:has-text('已解决')")
    statuses = staff_page.locator("#difficulties .difficulty-status").all_inner_texts()
    assert statuses == ["已解决", "暂无法解决"]

    db.session.expire_all()
    case = db.session.scalar(db.select(Case))
    assert case.status == "resolved" and case.verified_by_id == staff.id and case.author_id is None
    assert (case.channel, case.profile.phone) == ("committee", "13805742266")
    statuses = {i.mentor_id: i.status for i in case.introductions}
    assert (statuses[first.id], statuses[second.id]) == ("expired", "accepted")
