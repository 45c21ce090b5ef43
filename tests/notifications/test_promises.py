"""Every page that says someone was told: the notice exists, for the right person, on the
right channel. And the events the issue lists that nobody heard of before: a decline, an
automatic re-ask, a new case, an expiry, an escalation, a follow-up due, a new artisan or
mentor to approve, a case filed for a woman without an account who consented to SMS."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from market import areas, clock, mail
from market.accounts.services import grant_role
from market.extensions import db
from market.mentoring import services
from market.models import Area, Notice, SubOrder
from market.notifications import sms
from tests.support import DESK_T0, case_data, intro_of, login, mark_paid, place, reload

T0 = DESK_T0


_reload = reload


def _sent(kind: str, **where) -> set[tuple]:
    """(recipient user id or profile id, channel) of each `kind` notice that was delivered."""
    stmt = select(Notice).where(Notice.kind == kind)
    for k, v in where.items():
        stmt = stmt.where(getattr(Notice, k) == v)
    db.session.expire_all()
    return {(n.user_id or n.profile_id, n.channel) for n in db.session.scalars(stmt) if n.status == "sent"}


_data = case_data


_intro = intro_of


def test_declined_the_entrepreneur_hears_and_the_next_mentor_is_asked(app, desk):
    case, author, _staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    client = app.test_client()
    login(client, first.user)
    resp = client.post(f"/mentoring/asks/{_intro(case, first).id}/decline", data={"code": "busy"},
                       follow_redirects=True)
    assert "该求助将转给下一位推荐导师" in resp.get_data(as_text=True)
    assert _sent("case_declined") == {(author.id, "inapp"), (author.id, "mail")}
    assert (second.user_id, "mail") in _sent("case_asked")


def test_an_expired_ask_tells_her_the_area_staff_and_the_next_mentor(app, desk):
    case, author, staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    clock.advance(app, timedelta(hours=app.config["MENTORING_ASK_HOURS"]))
    assert services.sweep()["expired"] == 1
    assert _sent("case_reasked") == {(author.id, "inapp"), (author.id, "mail")}
    assert (staff.id, "inapp") in _sent("case_expired")
    assert (second.user_id, "inapp") in _sent("case_asked")
    services.sweep()  # nothing new: nothing sent twice
    assert len(_sent("case_reasked")) == 2


def test_a_new_case_reaches_the_staff_of_its_area_as_the_page_says(app, make_user):
    clock.set(app, T0)
    staff = make_user(("staff",))
    xiangshan_staff = make_user(("staff",), email="xs@example.cn")
    ninghai_staff = make_user(("staff",), email="nh@example.cn")
    areas.grant_responsibility(staff, xiangshan_staff, db.session.scalar(select(Area.id).where(Area.name == "象山县")))
    areas.grant_responsibility(staff, ninghai_staff, db.session.scalar(select(Area.id).where(Area.name == "宁海县")))
    author = make_user(("entrepreneur",))
    case = services.file_case(author, _data())  # no mentor at all: nobody to suggest
    client = app.test_client()
    login(client, author)
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "妇联工作人员已收到通知" in page
    assert _sent("case_new") == {(xiangshan_staff.id, "inapp"), (xiangshan_staff.id, "mail")}


def test_a_staff_ask_reaches_the_mentor_as_the_page_says(app, desk):
    case, _author, staff, first, _second = desk
    client = app.test_client()
    login(client, staff)
    resp = client.post(f"/mentoring/cases/{case.id}/ask/{_intro(case, first).id}", follow_redirects=True)
    assert first.display_name in resp.get_data(as_text=True)
    assert _sent("case_asked") == {(first.user_id, "inapp"), (first.user_id, "mail")}


def test_a_match_reaches_both(app, desk):
    case, author, _staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    assert (author.id, "mail") in _sent("case_matched")
    assert (first.user_id, "inapp") in _sent("case_mentee")


def test_escalation_reaches_the_area_staff_then_the_supervisor(app, desk, make_user):
    case, author, staff, first, _second = desk
    app.config.update(ESCALATE_STAFF_AFTER_DAYS=2, ESCALATE_SUPERVISOR_AFTER_DAYS=7, CASE_OVERDUE_DAYS=14)
    area_staff = make_user(("staff",), email="xiangshan-staff@example.cn")
    areas.grant_responsibility(staff, area_staff, db.session.scalar(select(Area.id).where(Area.name == "象山县")))
    supervisor = make_user(("buyer",), email="supervisor@example.cn")
    grant_role(staff, supervisor, "supervisor")
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    today = clock.today()
    services.add_entry(first.user, case.id, "visit", "上门", today, today + timedelta(days=3))
    clock.advance(app, timedelta(days=2, hours=12))  # the day before the follow-up (Beijing)
    assert services.sweep()["reminded"] == 1
    assert _sent("followup_due") == {(first.user_id, "inapp"), (first.user_id, "mail")}
    assert services.sweep()["reminded"] == 1 and len(_sent("followup_due")) == 2, "once per case and date"
    clock.advance(app, timedelta(days=4))
    assert services.escalate_overdue() == [(case.id, 1)]
    assert _sent("case_escalated") == {(area_staff.id, "inapp"), (area_staff.id, "mail")}
    clock.advance(app, timedelta(days=7))
    services.sweep()
    assert _sent("case_escalated_supervisor") == {(supervisor.id, "inapp"), (supervisor.id, "mail")}


def test_closure_proposed_and_reopened(app, desk):
    case, author, staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    results = [services.DifficultyResult(d.id, "solved", "好了") for d in _reload(case).difficulty_items]
    services.propose_closure(first.user, case.id, results, "都解决了")
    assert _sent("closure_proposed") == {(author.id, "inapp"), (author.id, "mail")}
    services.confirm_closure(author, case.id, 5, "订单翻倍")
    services.reopen(staff, case.id, "她又遇到了问题")
    assert {(author.id, "inapp"), (first.user_id, "inapp")} <= _sent("case_reopened")


def test_a_woman_without_account_gets_an_sms_when_she_consented(app, make_user, make_mentor):
    clock.set(app, T0)
    app.extensions["sms_outbox"] = []
    mentor = make_mentor("陈海燕")
    staff = make_user(("staff",))
    case = services.file_on_behalf(staff, _data(difficulties=["e_commerce"], consent_sms=True), channel="hotline",
                                   consent_method="spoken", profile_data=services.ProfileData("李阿婆", "13805742266"))
    intro = _intro(case, mentor)
    services.ask_mentor(staff, case.id, intro.id)
    services.accept(mentor.user, intro.id)
    assert _sent("case_matched") == {(case.profile_id, "sms")}
    assert sms.outbox()[-1][0] == "13805742266" and "陈海燕" in sms.outbox()[-1][1]
    # she withdraws SMS consent: nothing more by SMS
    services.set_consent(staff, case.id, "sms", False, "spoken")
    services.propose_closure(mentor.user, case.id,
                             [services.DifficultyResult(d.id, "solved", "好了") for d in _reload(case).difficulty_items],
                             "解决了")
    assert (case.profile_id, "sms") not in _sent("closure_proposed")
    assert (staff.id, "inapp") in _sent("closure_proposed"), "the person who filed it confirms with her"


def test_a_new_shop_and_a_new_mentor_reach_staff_for_approval(app, make_user, make_artisan, make_mentor):
    staff = make_user(("staff",))
    artisan = make_artisan(approved=False)
    mentor = make_mentor("王老师", approved=False)
    assert {(staff.id, "inapp"), (staff.id, "mail")} <= _sent("approval_needed")
    events = {n.event for n in db.session.scalars(select(Notice).where(Notice.kind == "approval_needed"))}
    assert {f"approval:artisan:{artisan.id}", f"approval:mentor:{mentor.id}"} <= events


def test_shipping_notifies_the_buyer_as_the_page_says(app, make_user, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, stock=5)
    buyer = make_user(("buyer",))
    order = place(buyer, {product: 1})
    mark_paid(order)
    assert (buyer.id, "mail") in _sent("order_paid") and (artisan.user_id, "mail") in _sent("order_to_ship")
    sub = db.session.scalar(select(SubOrder).where(SubOrder.order_id == order.id))
    mail.outbox().clear()
    client = app.test_client()
    login(client, artisan.user)
    resp = client.post(f"/shop/orders/{sub.id}/ship", data={"carrier": "顺丰", "tracking_number": "SF1234567890"},
                       follow_redirects=True)
    assert "已通知买家" in resp.get_data(as_text=True) or "buyer has been notified" in resp.get_data(as_text=True)
    assert _sent("order_shipped") == {(buyer.id, "inapp"), (buyer.id, "mail")}
    assert [m["To"] for m in mail.outbox()] == [buyer.email]


def test_the_daily_digest_reaches_staff_once_a_day_after_eight(app, make_user, make_artisan):
    from market.staff.digest import send_staff_digest

    staff = make_user(("staff",))
    staff.locale = "en"
    db.session.commit()
    make_artisan(approved=False)
    mail.outbox().clear()
    assert send_staff_digest(datetime(2026, 11, 2, 23, 0)) == 0  # 07:00 in Beijing: not yet
    assert send_staff_digest(datetime(2026, 11, 3, 0, 30)) == 1  # 08:30
    assert send_staff_digest(datetime(2026, 11, 3, 5, 30)) == 0  # once a day
    (digest,) = [m for m in mail.outbox() if m["To"] == staff.email]
    assert "1 to approve" in digest.get_content() and digest["Subject"] == "Today on the help desk"
    assert _sent("staff_digest") == {(staff.id, "mail")}


def test_a_notice_that_cannot_be_recorded_never_breaks_the_payment(app, make_user, make_artisan, make_product):
    from market.notifications import KINDS

    product = make_product(make_artisan(), stock=5)
    order = place(make_user(("buyer",)), {product: 1})
    kind = KINDS.pop("order_paid")  # recording fails (an unknown kind) after the payment's commit
    try:
        assert mark_paid(order) == "paid"
    finally:
        KINDS["order_paid"] = kind
    assert _reload(order).status == "paid" and _sent("order_paid") == set()
