"""End to end in headless Chromium: an organisation registers and staff approve it; it posts a
need; a woman's shop quotes; the owner accepts and both sign the deal; staff create a
matchmaking day, the two register and request each other, the schedule puts them at a table,
the agenda shows it, and the feedback after the meeting shows in the event's report."""
import pytest

from market import clock
from market.extensions import db
from market.models import Event, EventMeeting, Organisation, Quote, SupplyPost
from market.supply import operations as ops
from tests.support import login_in_browser as _login
from tests.support import watch_csp_violations

pytestmark = pytest.mark.browser


def test_supply_chain_from_registration_to_event_report(app, live_server, new_browser_page, make_user, make_artisan):
    # The event is "today" with registration closing today: a run across Beijing midnight
    # (16:00 UTC) would close it half-way, so the app's clock stands still for the test.
    clock.set(app, clock.now())
    base = live_server.url
    staff = make_user(("staff",))
    owner = make_user(("entrepreneur",), name="民宿老板", email="homestay@example.cn")
    amei = make_artisan(name="阿梅刺绣", email="amei@example.cn")
    shop_org = ops.save_organisation(amei.user, ops.OrgData(name="阿梅刺绣工坊", categories=["embroidery"],
                                                            description="手工刺绣 靠垫 抱枕", capacity_month=800,
                                                            district="象山县"))
    shop_org.status = "approved"
    db.session.commit()

    # the homestay registers its organisation
    page = new_browser_page()
    csp = watch_csp_violations(page)
    _login(page, base, owner.email)
    page.goto(f"{base}/supply/organisations/new")
    page.fill("input[name=name]", "海边民宿")
    page.check("input[name=categories][value=tourism]")
    page.fill("textarea[name=description]", "象山海边民宿，客房需要刺绣靠垫")
    page.select_option("select[name=district]", "象山县")
    page.click("#organisation-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    org = db.session.scalar(db.select(Organisation).where(Organisation.name == "海边民宿"))

    # staff approve it
    desk = new_browser_page()
    _login(desk, base, staff.email)
    desk.goto(f"{base}/staff/organisations")
    desk.click(f"form[action='/staff/organisations/{org.id}/review'] button[value=approved]")
    desk.wait_for_selector(".flash-success")

    # she posts a need
    page.goto(f"{base}/supply/posts/new")
    page.fill("input[name=title]", "刺绣靠垫500个")
    page.fill("textarea[name=description]", "客房用绣花抱枕，三月前交货")
    page.check("input[name=categories][value=embroidery]")
    page.fill("input[name=quantity]", "500")
    page.click("#post-form button[type=submit]")
    page.wait_for_selector("#post-status")
    need = db.session.scalar(db.select(SupplyPost).where(SupplyPost.title == "刺绣靠垫500个"))
    assert "阿梅刺绣工坊" in page.inner_text("#suggested-suppliers")

    # the woman's shop quotes
    shop = new_browser_page()
    _login(shop, base, amei.user.email)
    shop.goto(f"{base}/supply/posts/{need.id}")
    assert "homestay@example.cn" not in shop.inner_text("main")
    shop.fill("#quote-form input[name=price]", "15000")
    shop.fill("#quote-form input[name=quantity]", "500")
    shop.fill("#quote-form input[name=lead_days]", "20")
    shop.click("#quote-form button[type=submit]")
    shop.wait_for_selector(".flash-success")

    # the owner accepts; contact details appear; both sign
    page.goto(f"{base}/supply/posts/{need.id}")
    assert "amei@example.cn" not in page.inner_text("main")
    page.click("#quotes form[action$='/accept'] button")
    page.wait_for_selector(".flash-success")
    assert "amei@example.cn" in page.inner_text("#quotes")
    for p in (page, shop):
        p.goto(f"{base}/supply/posts/{need.id}")
        p.select_option(".deal-form select[name=outcome]", "signed")
        p.fill(".deal-form input[name=value]", "15000")
        p.click(".deal-form button[type=submit]")
        p.wait_for_selector(".flash-success")
    assert "已签约" in shop.inner_text(".deal-status")
    db.session.expire_all()
    assert db.session.scalar(db.select(Quote.deal_status)) == "signed"

    # staff create a matchmaking day today
    desk.goto(f"{base}/staff/events/new")
    desk.fill("input[name=title]", "象山产业链对接会")
    desk.fill("input[name=starts_on]", clock.today().isoformat())
    desk.fill("input[name=registration_deadline]", clock.today().isoformat())
    desk.fill("input[name=slot_count]", "4")
    desk.fill("input[name=tables]", "2")
    desk.click("#event-form button[type=submit]")
    desk.wait_for_selector("#schedule-form")
    event = db.session.scalar(db.select(Event))

    # both register as their organisations and request each other
    for p, o in ((page, org), (shop, shop_org)):
        p.goto(f"{base}/events/{event.id}")
        p.select_option("#register-form select[name=organisation]", str(o.id))
        p.click("#register-form button[type=submit]")
        p.wait_for_selector("#my-registration")
    for p, other in ((page, "阿梅刺绣工坊"), (shop, "海边民宿")):
        p.goto(f"{base}/events/{event.id}")
        item = p.locator("#event-suggestions li", has_text=other)
        item.locator("button[value=wanted]").click()
        p.wait_for_selector(".flash-success")
    shop.goto(f"{base}/events/{event.id}")
    assert "想与您洽谈" in shop.inner_text("#event-suggestions")

    # staff schedule; the agenda shows the meeting at its table
    desk.goto(f"{base}/staff/events/{event.id}")
    desk.click("#schedule-form button")
    desk.wait_for_selector(".flash-success")
    meeting = db.session.scalars(db.select(EventMeeting)).one()
    page.goto(f"{base}/events/{event.id}/agenda")
    row = page.locator(f"tr[data-meeting='{meeting.id}']")
    assert "阿梅刺绣工坊" in row.inner_text() and str(meeting.table) in row.inner_text()

    # feedback after the meeting shows in the report
    form = page.locator(".feedback-form")
    form.locator("input[name=deal_signed]").check()
    form.locator("input[name=value]").fill("8000")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".feedback-given")
    desk.goto(f"{base}/staff/events/{event.id}/report")
    assert desk.inner_text("#held") == "1" and desk.inner_text("#deals-signed") == "1"
    assert "¥8,000.00" in desk.inner_text("#deal-value")
    assert desk.locator("figure.chart svg").count() >= 2
    assert csp == []
