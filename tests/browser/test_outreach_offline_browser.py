"""The front line with no signal, in headless Chromium on a phone-sized page: a 执委 opens her
list, the server becomes unreachable to the page and its service worker alike (the server is
stopped and its socket closed), she records a visit with a consented difficulty, the server
comes back, the visit is sent once; staff see the new case and the coverage changes. Also:
a queued visit survives an expired session, and signing out warns and clears the phone."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from market import areas, clock
from market.accounts.services import grant_role
from market.extensions import db
from market.models import Area, Case, Visit
from market.outreach import services
from tests.support import BROWSER_TIMEOUT_MS, login_in_browser, reload, watch_csp_violations

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


def _front(make_user):
    from market.mentoring.services import ProfileData

    district = db.session.scalar(select(Area).where(Area.name == "象山县"))
    village = areas.add_area(areas.add_area(district.id, "石浦镇").id, "渔港村")
    staff = make_user(("staff",), name="妇联小周", email="staff@example.cn")
    grid = services.add_grid(staff, village.id, "一网格")
    cadre = make_user(("buyer",), name="执委王姐", email="cadre@example.cn")
    grant_role(staff, cadre, "committee")
    cadre = reload(cadre)
    services.assign_grid(staff, cadre.id, grid.id)
    contact = services.add_woman(cadre, ProfileData("李阿婆", "13800001111", grid.id, "", "晒鱼干"))
    return staff, cadre, reload(contact.profile)


def _phone(chromium):
    ctx = chromium.new_context(**PHONE)
    ctx.set_default_timeout(BROWSER_TIMEOUT_MS)
    return ctx, ctx.new_page()


def _restart(app, port):
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _wait_until(page, condition, timeout_ms: int = BROWSER_TIMEOUT_MS) -> None:
    """Poll a Python-side condition, letting Playwright dispatch events between tries."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("condition not met within the timeout")


def _fill_visit(page):
    page.check("input[name=difficulties][value=e_commerce]")
    page.fill("textarea[name=situation]", "丈夫外出打工，一人晒鱼干。")
    page.fill("textarea[name=measures]", "介绍电商培训。")
    page.check("#visit-consent")
    page.check("input[name=consent_method][value=spoken]")
    page.select_option("select[name=industry]", "seafood")
    page.select_option("select[name=stage]", "startup")
    page.click("#visit-save")


def test_visit_written_with_no_server_is_sent_once_when_it_returns(app, live_server, chromium, new_browser_page,
                                                                   make_user):
    clock.set(app, None)
    staff, cadre, her = _front(make_user)
    base, port = live_server.url, live_server.port
    before = services.coverage().this_month
    ctx, page = _phone(chromium)
    csp = watch_csp_violations(page)
    restarted = None
    try:
        login_in_browser(page, base, cadre.email)
        page.goto(f"{base}/outreach/")
        assert "李阿婆" in page.inner_text("#contact-list")
        page.wait_for_selector("body[data-offline-ready='1']")

        # The server goes away: nothing answers, for the page or its service worker.
        live_server.stop()
        live_server._server.server_close()
        page.goto(f"{base}/outreach/visit?profile={her.id}")  # served by the service worker
        assert page.locator("#visit-form").count() == 1
        _fill_visit(page)
        expect(page.locator("#queue-count")).to_have_text("1")
        assert "李阿婆" in page.inner_text("#queue-list")
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0

        # The server is back: the queue is sent on its next try.
        restarted = _restart(app, port)
        expect(page.locator("#queue-count")).to_have_text("0")
        page.wait_for_selector("#sent-note:not([hidden])")
        db.session.expire_all()
        visits = db.session.scalars(select(Visit)).all()
        assert len(visits) == 1 and visits[0].consent and visits[0].case_id
        # Sent again (a phone that lost the answer): still one visit, one case.
        body = {"client_id": visits[0].client_id, "profile_id": her.id, "method": "visit", "step": 3,
                "happened_on": visits[0].happened_on.isoformat(), "difficulties": "e_commerce", "consent": True,
                "consent_method": "spoken", "industry": "seafood", "stage": "startup"}
        again = page.evaluate("""async (body) => {
            const r = await fetch('/outreach/visits', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                       body: JSON.stringify(body)});
            return [r.status, (await r.json()).created];
        }""", body)
        assert again == [200, False]
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 1
        case = db.session.scalar(select(Case))
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
        assert case.channel == "committee" and case.status == "open"

        # Staff see the new case in their queue, and the coverage figure moved.
        staff_page = new_browser_page()
        login_in_browser(staff_page, base, staff.email)
        staff_page.goto(f"{base}/staff/mentoring/requests?status=open")
        assert case.business_name in staff_page.inner_text("main")
        staff_page.goto(f"{base}/staff/outreach/")
        assert int(staff_page.inner_text("#coverage-total .cov-month")) == before + 1
        assert csp == []
    finally:
        ctx.close()
        if restarted is not None:
            restarted.shutdown()
            restarted.server_close()


def test_queue_survives_expired_session_and_sign_out_warns_and_clears(app, live_server, chromium, make_user):
    clock.set(app, None)
    staff, cadre, her = _front(make_user)
    base = live_server.url
    ctx, page = _phone(chromium)
    try:
        login_in_browser(page, base, cadre.email)
        page.goto(f"{base}/outreach/visit?profile={her.id}")
        page.wait_for_selector("body[data-offline-ready='1']")
        ctx.clear_cookies()  # her session ends
        _fill_visit(page)
        expect(page.locator("#queue-count")).to_have_text("1")
        expect(page.locator("#queue-note")).not_to_be_empty()
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0

        # She signs in again: the queued visit is sent.
        login_in_browser(page, base, cadre.email)
        page.goto(f"{base}/outreach/")
        expect(page.locator("#queue-count")).to_have_text("0")
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 1

        # A visit waiting to be sent (her session ended again): signing out warns; she may stay.
        page.goto(f"{base}/outreach/visit")
        page.wait_for_selector("body[data-offline-ready='1']")
        ctx.clear_cookies()
        _fill_visit(page)
        expect(page.locator("#queue-count")).to_have_text("1")
        answers, messages = ["dismiss", "accept"], []

        def answer(dialog):
            messages.append(dialog.message)
            getattr(dialog, answers.pop(0))()

        page.on("dialog", answer)
        page.click("form[action$='/logout'] button")
        _wait_until(page, lambda: messages)  # the dialog is answered in Python: wait for it, not 300 ms
        assert len(messages) == 1 and "退出" in messages[0]
        page.wait_for_load_state()
        assert page.url.endswith("/outreach/visit"), "dismissed: she stays on the page"
        assert page.evaluate("JSON.parse(localStorage.getItem('outreach.queue.v1')).length") == 1
        # Accepted: the queue, the kept pages and the service worker are gone from the phone.
        with page.expect_navigation():
            page.click("form[action$='/logout'] button")
        assert len(messages) == 2
        assert page.evaluate("localStorage.getItem('outreach.queue.v1')") is None
        assert "outreach-v1" not in page.evaluate("caches.keys()")
        assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    finally:
        ctx.close()


def test_archive_prints_to_pdf_without_the_site_chrome(app, live_server, chromium, make_user):
    clock.set(app, None)
    staff, cadre, her = _front(make_user)
    import uuid

    services.record_visit(cadre, services.VisitData(str(uuid.uuid4()), her.id, "call", clock.today(), 2,
                                                    situation="家里两个孩子上学。"))
    ctx, page = _phone(chromium)
    try:
        csp = watch_csp_violations(page)
        login_in_browser(page, live_server.url, cadre.email)
        page.goto(f"{live_server.url}/outreach/women/{her.id}")
        assert "家里两个孩子上学" in page.inner_text("#archive")
        page.emulate_media(media="print")
        assert not page.locator("header nav").first.is_visible()
        assert page.locator("#archive").is_visible()
        pdf = page.pdf(format="A4")
        assert pdf[:4] == b"%PDF" and len(pdf) > 1000
        assert csp == []
    finally:
        ctx.close()
