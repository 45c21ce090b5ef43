"""The help desk's case forms, submitted as Chromium submits them: each form is taken from the
page it lives on (`page_form`), sent with every field the page filled in (the CSRF token
included: these tests run with CSRF on) and only what the test names changed, and the data
is checked afterwards. test_forms_as_browser.py covers enrolment, pause, filing, ask,
accept and decline from the mentor's home, the log entry, resolve, close, staff mentor review
and assignment; this file covers the rest.

Inventory (every POST route of market/mentoring/*views.py, and the page its form is on):
case page: ask, accept and decline (the asked mentor), consent (hers, and on her behalf),
difficulty update, log entry, propose closure, confirm closure, not yet, verify, reopen,
withdraw ask, ask a named mentor, second mentor, reassign, open and dismiss a proposed case,
resolve, close; /mentoring/cases/new-for-her; /staff/mentoring/profiles: merge; a profile:
link, anonymise; /staff/mentoring/team: grant, revoke."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market.accounts.services import grant_role
from market.extensions import db
from market.mentoring import services
from market.models import (
    Area,
    AreaResponsibility,
    AuditEntry,
    Case,
    CaseConsent,
    CaseDifficulty,
    CaseEntry,
    ClientProfile,
    Introduction,
    MentorProfile,
    User,
    UserRole,
)
from tests.support import DEFAULT_PASSWORD, forms_on, page_form


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


@pytest.fixture
def sign_in(client):
    def do(user):
        client.post("/account/logout", data={"csrf_token": page_form(client, "/account/login",
                                                                     having="password").value("csrf_token")})
        form = page_form(client, "/account/login", having="password")
        resp = form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        return client

    return do


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _errors(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(part.split("</small>")[0] for part in html.split('class="error">')[1:])


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _intro(case_id: int, mentor) -> Introduction:
    db.session.expire_all()
    return db.session.scalar(select(Introduction).where(Introduction.case_id == case_id,
                                                        Introduction.mentor_id == mentor.id))


def _data(**changes) -> services.CaseData:
    values = dict(business_name="阿芳海鲜干货", industry="seafood", stage="startup", district="象山县",
                  difficulties=["e_commerce", "live_streaming"], description="想开网店直播。", consent_to_share=True)
    values.update(changes)
    return services.CaseData(**values)


@pytest.fixture
def desk(make_user, make_mentor):
    first = make_mentor("陈海燕", bio="海鲜电商直播")
    second = make_mentor("李秀英", district="宁海县", bio="电商运营")
    staff = make_user(("staff",), name="妇联小周")
    author = make_user(("entrepreneur",), name="阿芳")
    case = services.file_case(author, _data())
    return case, author, staff, first, second


def _matched(desk):
    """The case with its first mentor: she was asked and accepted."""
    case, author, _staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case.id, first).id)
    services.accept(first.user, _intro(case.id, first).id)
    return case


# ---- the asked mentor answers on the case page --------------------------------------------

def test_asked_mentor_accepts_on_the_case_page(client, sign_in, desk):
    case, author, _staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case.id, first).id)
    intro = _intro(case.id, first)
    sign_in(first.user)
    page = f"/mentoring/cases/{case.id}"
    resp = page_form(client, page, action=f"/mentoring/asks/{intro.id}/accept").submit(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(page)
    assert (_fresh(Case, case.id).status, _intro(case.id, first).status) == ("matched", "accepted")
    assert _fresh(MentorProfile, first.id).current_load == 1


def test_asked_mentor_declines_on_the_case_page_with_a_structured_reason(client, sign_in, desk):
    case, author, _staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case.id, first).id)
    intro = _intro(case.id, first)
    sign_in(first.user)
    page = f"/mentoring/cases/{case.id}"
    form = page_form(client, page, action=f"/mentoring/asks/{intro.id}/decline")
    assert form.choices["code"] == ["busy", "not_my_field", "too_far", "other"]
    resp = form.submit(client, {"code": "other"})  # "other" without a note: refused, nothing changes
    assert resp.status_code == 302 and _intro(case.id, first).status == "asked"
    form = page_form(client, page, action=f"/mentoring/asks/{intro.id}/decline")
    assert form.submit(client, {"code": "too_far", "reason": "宁海太远"}).status_code == 302
    fresh = _intro(case.id, first)
    assert (fresh.status, fresh.decline_code, fresh.decline_reason) == ("declined", "too_far", "宁海太远")
    assert _intro(case.id, second).status == "asked", "the case moves on to the next suggestion"


# ---- consent --------------------------------------------------------------------------------

def _consent_form(client, case_id: int, scope: str):
    page = f"/mentoring/cases/{case_id}"
    html = client.get(page).get_data(as_text=True)
    forms = [f for f in forms_on(html, page)
             if f.action.endswith(f"/mentoring/cases/{case_id}/consent") and f.value("scope") == scope]
    assert len(forms) == 1, f"one consent form for {scope}"
    return forms[0]


def test_she_gives_and_withdraws_consent_from_her_case_page(client, sign_in, make_user):
    author = make_user(("entrepreneur",))
    case = services.file_case(author, _data(consent_to_share=False))
    sign_in(author)
    form = _consent_form(client, case.id, "details")
    assert form.value("given") == "1" and "method" not in form.names(), "online: no method to choose"
    assert form.submit(client).status_code == 302
    assert _fresh(Case, case.id).consent_to_share is True
    form = _consent_form(client, case.id, "details")
    assert form.value("given") == "0"  # the same button now withdraws
    assert form.submit(client).status_code == 302
    assert _fresh(Case, case.id).consent_to_share is False
    records = db.session.scalars(select(CaseConsent).where(CaseConsent.case_id == case.id,
                                                           CaseConsent.scope == "details")
                                 .order_by(CaseConsent.id)).all()
    assert [(c.given, c.method, c.on_behalf) for c in records][-2:] == [(True, "online", False),
                                                                        (False, "online", False)]

    assert _consent_form(client, case.id, "sms").submit(client).status_code == 302
    fresh = _fresh(Case, case.id)
    assert (fresh.consent_to_share, fresh.consent_contact, fresh.consent_sms) == (False, False, True)


def test_consent_recorded_on_her_behalf_says_how(client, sign_in, make_user):
    staff = make_user(("staff",))
    case = services.file_on_behalf(staff, _data(), channel="hotline", consent_method="spoken",
                                   profile_data=services.ProfileData("李阿婆", "13805742266"))
    assert case.consent_contact is False
    sign_in(staff)
    form = _consent_form(client, case.id, "contact")
    assert form.choices["method"] == ["spoken", "paper"] and form.value("method") == "spoken"
    assert form.submit(client, {"method": "paper"}).status_code == 302
    assert _fresh(Case, case.id).consent_contact is True
    record = db.session.scalars(select(CaseConsent).where(CaseConsent.case_id == case.id,
                                                          CaseConsent.scope == "contact")
                                .order_by(CaseConsent.id.desc())).first()
    assert (record.given, record.method, record.on_behalf, record.recorded_by_id) == (True, "paper", True, staff.id)


# ---- the mentor at work: difficulties, closure ------------------------------------------------

def test_difficulty_update_and_an_unchanged_edit_keeps_it(client, sign_in, desk):
    case, *_rest, first, _second = desk
    case = _matched(desk)
    shop, _live = _fresh(Case, case.id).difficulty_items
    sign_in(first.user)
    page = f"/mentoring/cases/{case.id}"
    action = f"{page}/difficulties/{shop.id}"
    form = page_form(client, page, action=action)
    assert form.value("status") == "open" and form.value("measures") == "" and form.value("result") == ""
    resp = form.submit(client, {"status": "in_hand", "measures": "教她开通网店后台"})
    assert resp.status_code == 302
    item = _fresh(CaseDifficulty, shop.id)
    assert (item.status, item.measures, item.result) == ("in_hand", "教她开通网店后台", "")
    entries = _count(CaseEntry, CaseEntry.case_id == case.id)

    form = page_form(client, page, action=action)
    assert form.value("status") == "in_hand"
    assert form.submit(client).status_code == 302  # unchanged: measures left empty as rendered
    item = _fresh(CaseDifficulty, shop.id)
    assert (item.status, item.measures, item.result) == ("in_hand", "教她开通网店后台", "")
    assert _count(CaseEntry, CaseEntry.case_id == case.id) == entries, "no empty measure logged"

    form = page_form(client, page, action=action)
    assert form.submit(client, {"status": "solved"}).status_code == 302  # solved needs a result
    assert _fresh(CaseDifficulty, shop.id).status == "in_hand"
    form = page_form(client, page, action=action)
    assert form.submit(client, {"status": "solved", "result": "网店开通"}).status_code == 302
    form = page_form(client, page, action=action)
    assert (form.value("status"), form.value("result")) == ("solved", "网店开通")
    assert form.submit(client).status_code == 302  # unchanged again
    item = _fresh(CaseDifficulty, shop.id)
    assert (item.status, item.measures, item.result) == ("solved", "教她开通网店后台", "网店开通")


def test_mentor_proposes_closure_she_says_not_yet_then_confirms(client, sign_in, desk):
    case, author, _staff, first, _second = desk
    case = _matched(desk)
    shop, live = _fresh(Case, case.id).difficulty_items
    page = f"/mentoring/cases/{case.id}"
    sign_in(first.user)
    form = page_form(client, page, action=f"{page}/propose-closure")
    assert form.value(f"status_{shop.id}") == "solved" and form.value(f"result_{shop.id}") == ""
    resp = form.submit(client, {f"result_{shop.id}": "网店开通", "summary": "开通网店"})  # no result for live
    assert resp.status_code == 302 and _fresh(Case, case.id).status == "matched"
    form = page_form(client, page, action=f"{page}/propose-closure")
    resp = form.submit(client, {f"result_{shop.id}": "网店开通，首月三百单", f"status_{live.id}": "unsolvable",
                                f"result_{live.id}": "她不愿出镜，改做图文", "summary": "开通网店，指导运营"})
    assert resp.status_code == 302
    fresh = _fresh(Case, case.id)
    assert fresh.status == "closure_proposed"
    assert [(d.status, d.result) for d in fresh.difficulty_items] == [("solved", "网店开通，首月三百单"),
                                                                      ("unsolvable", "她不愿出镜，改做图文")]

    sign_in(author)
    form = page_form(client, page, action=f"{page}/not-yet")
    assert form.submit(client, {"reason": ""}).status_code == 302
    assert _fresh(Case, case.id).status == "closure_proposed", "a reason is needed"
    form = page_form(client, page, action=f"{page}/not-yet")
    assert form.submit(client, {"reason": "还没有学会修图"}).status_code == 302
    assert _fresh(Case, case.id).status == "in_progress"

    sign_in(first.user)
    form = page_form(client, page, action=f"{page}/propose-closure")
    assert form.value(f"result_{shop.id}") == "网店开通，首月三百单", "the results so far, as rendered"
    resp = form.submit(client, {f"result_{live.id}": "会修图了", "summary": "补充教了修图"})
    assert resp.status_code == 302 and _fresh(Case, case.id).status == "closure_proposed"

    sign_in(author)
    form = page_form(client, page, action=f"{page}/confirm-closure")
    assert "rating" not in {k for k, _ in form.fields}, "no star ticked for her"
    assert form.submit(client, {"outcome": "订单翻倍"}).status_code == 302
    assert _fresh(Case, case.id).status == "closure_proposed", "a rating is needed"
    form = page_form(client, page, action=f"{page}/confirm-closure")
    assert form.submit(client, {"rating": "4", "outcome": "订单翻倍"}).status_code == 302
    fresh = _fresh(Case, case.id)
    assert (fresh.status, fresh.rating, fresh.outcome) == ("resolved", 4, "订单翻倍")
    assert _fresh(MentorProfile, first.id).current_load == 0


def test_proposing_closure_again_unchanged_keeps_each_difficulty_where_it_stands(client, sign_in, desk):
    """After "not yet", the mentor proposes again with the form as rendered: a difficulty she
    marked as unsolvable stays unsolvable, its result unchanged."""
    case, author, _staff, first, _second = desk
    case = _matched(desk)
    shop, live = _fresh(Case, case.id).difficulty_items
    services.propose_closure(first.user, case.id, [services.DifficultyResult(shop.id, "solved", "网店开通"),
                                                   services.DifficultyResult(live.id, "unsolvable", "她不愿出镜")],
                             "开通网店")
    services.not_yet(author, case.id, "想再问问包装")
    page = f"/mentoring/cases/{case.id}"
    sign_in(first.user)
    form = page_form(client, page, action=f"{page}/propose-closure")
    assert (form.value(f"status_{shop.id}"), form.value(f"status_{live.id}")) == ("solved", "unsolvable")
    assert form.submit(client, {"summary": "包装也讲了"}).status_code == 302
    fresh = _fresh(Case, case.id)
    assert fresh.status == "closure_proposed"
    assert [(d.status, d.result) for d in fresh.difficulty_items] == [("solved", "网店开通"),
                                                                      ("unsolvable", "她不愿出镜")]

    services.not_yet(author, case.id, "还有问题")
    form = page_form(client, page, action=f"{page}/difficulties/{live.id}")
    assert form.value("status") == "unsolvable"


def test_staff_verify_a_case_filed_for_her_then_reopen(client, sign_in, make_user, make_mentor):
    mentor = make_mentor("陈海燕")
    staff = make_user(("staff",))
    case = services.file_on_behalf(staff, _data(difficulties=["e_commerce"]), channel="hotline",
                                   consent_method="spoken", profile_data=services.ProfileData("李阿婆", "13805742266"))
    intro = _intro(case.id, mentor)
    services.ask_mentor(staff, case.id, intro.id)
    services.accept(mentor.user, intro.id)
    item = _fresh(Case, case.id).difficulty_items[0]
    services.propose_closure(mentor.user, case.id, [services.DifficultyResult(item.id, "solved", "网店开通")], "开通网店")
    sign_in(staff)
    page = f"/mentoring/cases/{case.id}"
    assert 'id="confirm-form"' not in client.get(page).get_data(as_text=True), "she confirms; staff verify"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/verify")
    assert form.submit(client).status_code == 302  # "how you checked" left empty: refused
    assert _fresh(Case, case.id).status == "closure_proposed"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/verify")
    assert form.submit(client, {"note": "电话回访李阿婆，确认已解决"}).status_code == 302
    fresh = _fresh(Case, case.id)
    assert (fresh.status, fresh.verified_by_id) == ("resolved", staff.id)

    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/reopen")
    assert form.submit(client).status_code == 302  # no reason: refused
    assert _fresh(Case, case.id).status == "resolved"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/reopen")
    assert form.submit(client, {"reason": "回访发现订单又停了"}).status_code == 302
    assert _fresh(Case, case.id).status == "in_progress"
    assert _fresh(MentorProfile, mentor.id).current_load == 1


def test_staff_send_a_proposed_closure_back_for_her(client, sign_in, desk):
    case, _author, staff, first, _second = desk
    case = _matched(desk)
    items = _fresh(Case, case.id).difficulty_items
    services.propose_closure(first.user, case.id, [services.DifficultyResult(d.id, "solved", "好了") for d in items],
                             "都解决了")
    sign_in(staff)
    page = f"/mentoring/cases/{case.id}"
    form = page_form(client, page, action=f"{page}/not-yet")
    assert form.submit(client, {"reason": "她电话里说直播还不会"}).status_code == 302
    assert _fresh(Case, case.id).status == "in_progress"


# ---- staff unstick a case ------------------------------------------------------------------

def test_staff_withdraw_an_ask_then_ask_a_mentor_they_choose(client, sign_in, desk, make_mentor):
    case, author, staff, first, _second = desk
    outsider = make_mentor("王茶师", group="scientist", industries=("tea",), skills=("technology",), district="余姚市")
    services.ask_mentor(author, case.id, _intro(case.id, first).id)
    sign_in(staff)
    page = f"/mentoring/cases/{case.id}"
    action = f"/staff/mentoring/cases/{case.id}/withdraw-ask"
    form = page_form(client, page, action=action)
    assert form.value("introduction_id") == str(_intro(case.id, first).id)
    assert form.submit(client).status_code == 302  # no reason: refused
    assert _intro(case.id, first).status == "asked"
    assert page_form(client, page, action=action).submit(client, {"reason": "她这周出差"}).status_code == 302
    assert _intro(case.id, first).status == "withdrawn"

    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/ask-mentor")
    assert str(outsider.id) in form.choices["mentor_id"]
    assert form.submit(client, {"mentor_id": str(outsider.id)}).status_code == 302
    asked = _intro(case.id, outsider)
    assert (asked.status, asked.source, asked.role) == ("asked", "staff", "lead")


def test_staff_ask_the_first_listed_mentor_as_rendered(client, sign_in, desk):
    case, _author, staff, _first, _second = desk
    sign_in(staff)
    page = f"/mentoring/cases/{case.id}"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/ask-mentor")
    chosen = int(form.value("mentor_id"))
    assert form.submit(client).status_code == 302
    assert db.session.scalar(select(Introduction.mentor_id).where(Introduction.case_id == case.id,
                                                                  Introduction.status == "asked")) == chosen


def test_staff_add_a_second_mentor_then_reassign(client, sign_in, desk):
    case, _author, staff, first, second = desk
    case = _matched(desk)
    sign_in(staff)
    page = f"/mentoring/cases/{case.id}"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/second-mentor")
    assert str(first.id) not in form.choices["mentor_id"], "not her own mentor again"
    assert form.submit(client, {"mentor_id": str(second.id)}).status_code == 302
    intro = _intro(case.id, second)
    assert (intro.status, intro.role) == ("asked", "second")
    services.accept(second.user, intro.id)
    assert _fresh(Case, case.id).mentor_id == first.id

    action = f"/staff/mentoring/cases/{case.id}/reassign"
    assert page_form(client, page, action=action).submit(client).status_code == 302  # no reason: refused
    assert _fresh(Case, case.id).mentor_id == first.id
    resp = page_form(client, page, action=action).submit(client, {"reason": "陈老师生病住院"})
    assert resp.status_code == 302
    fresh = _fresh(Case, case.id)
    assert fresh.mentor_id is None and _intro(case.id, first).status == "released"
    assert _fresh(MentorProfile, first.id).current_load == 0


def test_staff_add_the_second_mentor_listed_first_as_rendered(client, sign_in, desk):
    case, _author, staff, first, _second = desk
    case = _matched(desk)
    sign_in(staff)
    page = f"/mentoring/cases/{case.id}"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{case.id}/second-mentor")
    chosen = int(form.value("mentor_id"))
    assert chosen != first.id and form.submit(client).status_code == 302
    asked = db.session.scalar(select(Introduction).where(Introduction.case_id == case.id, Introduction.role == "second"))
    assert (asked.mentor_id, asked.status) == (chosen, "asked")


# ---- proposed cases ----------------------------------------------------------------------------

def test_staff_open_and_dismiss_proposed_cases(client, sign_in, make_user, make_mentor):
    make_mentor("陈海燕")
    staff = make_user(("staff",))
    opened = services.propose_case(staff, _data(business_name="王姐民宿"), "问卷里说客源断了", channel="questionnaire")
    dropped = services.propose_case(staff, _data(business_name="张嫂茶园"), "预警：贷款逾期", channel="early_warning")
    sign_in(staff)
    page = f"/mentoring/cases/{opened.id}"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{opened.id}/open")
    assert form.value("note") == ""
    assert form.submit(client).status_code == 302  # no contact note: refused
    assert _fresh(Case, opened.id).status == "proposed"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{opened.id}/open")
    assert form.submit(client, {"note": "电话联系了王姐，她希望有人帮忙"}).status_code == 302
    fresh = _fresh(Case, opened.id)
    assert fresh.status == "open" and fresh.introductions, "open and matched"
    assert _count(CaseEntry, CaseEntry.case_id == opened.id, CaseEntry.kind == "call") == 1

    page = f"/mentoring/cases/{dropped.id}"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{dropped.id}/dismiss")
    assert form.submit(client).status_code == 302  # no reason: refused
    assert _fresh(Case, dropped.id).status == "proposed"
    form = page_form(client, page, action=f"/staff/mentoring/cases/{dropped.id}/dismiss")
    assert form.submit(client, {"reason": "已核实，贷款已还清"}).status_code == 302
    fresh = _fresh(Case, dropped.id)
    assert (fresh.status, fresh.dismissed_reason) == ("dismissed", "已核实，贷款已还清")


# ---- filing on her behalf ---------------------------------------------------------------------

def _her(**changes) -> dict:
    values = {"name": "李阿婆", "phone": "138 0574 2266", "business_kind": "晒鱼干", "business_name": "李阿婆鱼鲞",
              "industry": "seafood", "district": "象山县", "difficulties": ["e_commerce"],
              "description": "想把鱼鲞卖到网上，不会用智能手机。", "consent_to_share": "y"}
    values.update(changes)
    return values


def test_committee_member_files_for_her_as_a_browser(client, sign_in, make_user, make_mentor):
    make_mentor("陈海燕", skills=("e_commerce",))
    member = make_user(("buyer",), name="执委王姐")
    grant_role(make_user(("staff",)), member, "committee")
    sign_in(member)
    form = page_form(client, "/mentoring/cases/new-for-her", having="phone")
    assert form.choices["channel"] == ["committee"] and form.value("channel") == "committee"
    assert form.value("consent_method") == "spoken" and form.value("area_id") == "0"
    resp = page_form(client, "/mentoring/cases/new-for-her", having="phone").submit(client, _her(name=""))
    assert resp.status_code == 200 and _errors(resp)
    resp = form.submit(client, _her(phone="12"))
    assert resp.status_code == 200 and "7到12位" in resp.get_data(as_text=True)
    assert _count(Case) == 0 and _count(ClientProfile) == 0
    # She corrects the phone on the page as it came back: everything else is sent as re-rendered.
    [form] = [f for f in forms_on(resp.get_data(as_text=True), "/mentoring/cases/new-for-her") if "phone" in f.names()]
    assert (form.value("name"), form.value("difficulties"), form.value("consent_to_share")) == \
        ("李阿婆", "e_commerce", "y")
    resp = form.submit(client, {"phone": "138 0574 2266"})
    assert resp.status_code == 302, _errors(resp)
    case = db.session.scalars(select(Case)).one()
    assert (case.channel, case.author_id, case.filed_by_id, case.consent_to_share, case.consent_contact) == \
        ("committee", None, member.id, True, False)
    assert (case.profile.name, case.profile.phone, case.profile.area_id) == ("李阿婆", "13805742266", None)
    assert {(c.scope, c.given, c.method) for c in case.consents} == {
        ("details", True, "spoken"), ("contact", False, "spoken"), ("sms", False, "spoken")}
    assert case.introductions


def test_staff_file_for_her_with_a_village_and_paper_consent(client, sign_in, make_user, make_mentor):
    from market import areas

    make_mentor("陈海燕", skills=("e_commerce",))
    staff = make_user(("staff",))
    town = areas.add_area(db.session.scalar(select(Area.id).where(Area.name == "象山县")), "石浦镇")
    sign_in(staff)
    form = page_form(client, "/mentoring/cases/new-for-her", having="phone")
    assert form.value("channel") == "visit" and "hotline" in form.choices["channel"]
    assert str(town.id) in form.choices["area_id"]
    resp = form.submit(client, _her(area_id=str(town.id), channel="hotline", consent_method="paper",
                                    consent_contact="y", consent_sms="y", contact_wechat="liapo_wx"))
    assert resp.status_code == 302, _errors(resp)
    case = db.session.scalars(select(Case)).one()
    assert (case.channel, case.filed_by_id, case.profile.area_id, case.contact_wechat) == \
        ("hotline", staff.id, town.id, "liapo_wx")
    assert (case.consent_to_share, case.consent_contact, case.consent_sms) == (True, True, True)
    assert {c.method for c in case.consents} == {"paper"}


def test_artisan_files_with_what_the_page_filled_in_and_links_her_shop(client, sign_in, make_artisan):
    artisan = make_artisan(name="秀英绣坊", district="宁海县")
    sign_in(artisan.user)
    form = page_form(client, "/mentoring/requests/new", having="business_name")
    assert (form.value("business_name"), form.value("district")) == ("秀英绣坊", "宁海县")
    assert "link_shop" in form.names() and "link_shop" not in {k for k, _ in form.fields}
    resp = form.submit(client, {"industry": "embroidery", "difficulties": ["e_commerce", "branding"],
                                "link_shop": "y", "consent_to_share": "y", "contact_phone": "13805740000",
                                "consent_contact": "y"})
    assert resp.status_code == 302, _errors(resp)
    case = db.session.scalars(select(Case)).one()
    assert (case.business_name, case.district, case.artisan_id, case.author_id) == \
        ("秀英绣坊", "宁海县", artisan.id, artisan.user_id)
    assert (case.contact_phone, case.consent_contact, case.consent_sms) == ("13805740000", True, False)
    assert [d.code for d in case.difficulty_items] == ["e_commerce", "branding"]


# ---- profiles: merge, link, anonymise ------------------------------------------------------------

def test_staff_merge_link_and_anonymise_profiles_as_a_browser(client, sign_in, make_user):
    staff = make_user(("staff",))
    first = services.file_on_behalf(staff, _data(), channel="visit", consent_method="spoken",
                                    profile_data=services.ProfileData("李阿婆", "13805742266"))
    second = services.file_on_behalf(staff, _data(business_name="鱼鲞二号"), channel="hotline",
                                     consent_method="spoken",
                                     profile_data=services.ProfileData("李阿婆（重复）", "+86 138-0574-2266"))
    sign_in(staff)
    form = page_form(client, "/staff/mentoring/profiles", action="/staff/mentoring/profiles/merge")
    assert (form.value("keep"), form.value("merge")) == (str(first.profile_id), str(second.profile_id))
    resp = form.submit(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/staff/mentoring/profiles/{first.profile_id}")
    assert _fresh(Case, second.id).profile_id == first.profile_id and services.duplicate_phones() == {}

    page = f"/staff/mentoring/profiles/{first.profile_id}"
    link = f"{page}/link"
    assert page_form(client, page, action=link).submit(client, {"email": "nobody@example.cn"}).status_code == 302
    assert _fresh(ClientProfile, first.profile_id).user_id is None
    woman = make_user(("buyer",), email="liapo@example.cn")
    assert page_form(client, page, action=link).submit(client, {"email": "LiApo@example.cn"}).status_code == 302
    assert _fresh(ClientProfile, first.profile_id).user_id == woman.id
    assert _fresh(Case, first.id).author_id == woman.id and _fresh(Case, second.id).author_id == woman.id
    assert 'id="link-form"' not in client.get(page).get_data(as_text=True), "linked once"

    anonymise = f"{page}/anonymise"
    form = page_form(client, page, action=anonymise)
    assert "confirm" not in {k for k, _ in form.fields}, "the box is not ticked"
    assert form.submit(client).status_code == 302
    assert _fresh(ClientProfile, first.profile_id).anonymised_at is None, "not without ticking the box"
    assert page_form(client, page, action=anonymise).submit(client, {"confirm": "1"}).status_code == 302
    profile = _fresh(ClientProfile, first.profile_id)
    assert profile.anonymised_at and profile.phone is None and profile.name != "李阿婆"
    assert "李阿婆" not in client.get(page).get_data(as_text=True)


# ---- the team page ---------------------------------------------------------------------------------

def test_team_page_grants_unchanged_regrant_and_revokes(client, sign_in, make_user):
    from market import areas

    staff = make_user(("staff",))
    cadre = make_user(("buyer",), email="cadre@example.cn", name="王姐")
    town = areas.add_area(db.session.scalar(select(Area.id).where(Area.name == "象山县")), "石浦镇")
    sign_in(staff)
    form = page_form(client, "/staff/mentoring/team", having="email")
    assert form.value("role") == "committee" and form.value("area_id") == ""
    assert form.choices["role"] == ["committee", "supervisor", "auditor"]
    resp = form.submit(client, {"email": "nobody@example.cn"}, button=("action", "grant"))
    assert resp.status_code == 302 and _count(UserRole, UserRole.role == "committee") == 0

    grant = {"email": "cadre@example.cn", "area_id": str(town.id)}
    form = page_form(client, "/staff/mentoring/team", having="email")
    assert form.submit(client, grant, button=("action", "grant")).status_code == 302
    assert _fresh(User, cadre.id).has_role("committee") and areas.responsible_area_ids(cadre) == {town.id}
    page = client.get("/staff/mentoring/team").get_data(as_text=True)
    assert "cadre@example.cn" in page and "石浦镇" in page
    audit = _count(AuditEntry)

    form = page_form(client, "/staff/mentoring/team", having="email")  # the same grant again: nothing changes
    assert form.submit(client, grant, button=("action", "grant")).status_code == 302
    assert _count(UserRole, UserRole.user_id == cadre.id, UserRole.role == "committee") == 1
    assert _count(AreaResponsibility, AreaResponsibility.user_id == cadre.id) == 1
    assert _count(AuditEntry) == audit, "no change, no record"

    form = page_form(client, "/staff/mentoring/team", having="email")
    assert form.submit(client, {"email": "cadre@example.cn", "role": "supervisor"},
                       button=("action", "grant")).status_code == 302
    assert _fresh(User, cadre.id).role_names >= {"committee", "supervisor"}
    form = page_form(client, "/staff/mentoring/team", having="email")
    assert form.submit(client, {"email": "cadre@example.cn"}, button=("action", "revoke")).status_code == 302
    fresh = _fresh(User, cadre.id)
    assert not fresh.has_role("committee") and fresh.has_role("supervisor")
