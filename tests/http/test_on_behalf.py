"""Women without an account: committee members (执委) and staff file on their behalf with
consent recorded; consent is a record that governs what mentors see; profiles are claimed,
merged, exported and anonymised; every read and every action on her behalf is audited."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from market.accounts.services import AccountError, grant_role, register_user, revoke_role
from market.extensions import db
from market.mentoring import services
from market.models import AuditEntry, Case, CaseConsent, CaseEntry, ClientProfile
from tests.support import login

PHONE = "138 0574 2266"


def _reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def _actions(**where):
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return [a.action for a in db.session.scalars(stmt)]


@pytest.fixture
def committee(make_user):
    staff = make_user(("staff",))
    member = make_user(("buyer",), name="执委王姐")
    grant_role(staff, member, "committee")
    return _reload(member)


def _form(**changes):
    data = {"name": "李阿婆", "phone": PHONE, "area_id": "0", "business_kind": "晒鱼干",
            "business_name": "李阿婆鱼鲞", "business_size": "solo", "channel": "committee",
            "industry": "seafood", "stage": "startup", "district": "象山县", "difficulties": ["e_commerce"],
            "description": "想把鱼鲞卖到网上，不会用智能手机。", "consent_to_share": "y", "consent_contact": "y",
            "contact_phone": "", "contact_wechat": "", "consent_method": "spoken"}
    data.update(changes)
    return data


def _file(app, user, **changes):
    client = app.test_client()
    login(client, user)
    resp = client.post("/mentoring/cases/new-for-her", data=_form(**changes))
    assert resp.status_code == 302, re.findall(r"class=\"error\"[^>]*>([^<]*)<", resp.get_data(as_text=True))
    return db.session.get(Case, int(resp.headers["Location"].rstrip("/").split("/")[-1]))


# ---- roles ------------------------------------------------------------------------------

def test_roles_are_granted_by_staff_only_and_never_self_service(app, make_user):
    staff, someone = make_user(("staff",)), make_user(("buyer",))
    with pytest.raises(AccountError):
        grant_role(someone, someone, "committee")
    with pytest.raises(AccountError):
        grant_role(staff, someone, "staff")  # not a role this grants
    with pytest.raises(AccountError):
        register_user("自称执委", "self@example.cn", "correct-horse-battery", ["committee"])
    grant_role(staff, someone, "supervisor")
    assert _reload(someone).has_role("supervisor")
    revoke_role(staff, someone, "supervisor")
    assert not _reload(someone).has_role("supervisor")
    assert _actions(object_type="users", object_id=someone.id) == ["role.grant.supervisor", "role.revoke.supervisor"]


def test_team_page_grants_a_role_with_an_area(app, client, make_user):
    from market import areas
    from market.models import Area

    staff, cadre = make_user(("staff",)), make_user(("buyer",), email="cadre@example.cn")
    town = areas.add_area(db.session.scalar(select(Area.id).where(Area.name == "象山县")), "石浦镇")
    login(client, staff)
    resp = client.post("/staff/mentoring/team", data={"email": "cadre@example.cn", "role": "committee",
                                                      "area_id": str(town.id), "action": "grant"})
    assert resp.status_code == 302
    assert _reload(cadre).has_role("committee") and areas.responsible_area_ids(cadre) == {town.id}
    page = client.get("/staff/mentoring/team").get_data(as_text=True)
    assert "cadre@example.cn" in page and "石浦镇" in page
    for bad in ({"email": "nobody@example.cn", "role": "committee"}, {"email": "cadre@example.cn", "role": "staff"},
                {"email": "cadre@example.cn", "role": "committee", "area_id": "99999999999"}, {}):
        assert client.post("/staff/mentoring/team", data=bad).status_code == 302
    assert not _reload(cadre).has_role("staff")
    other = app.test_client()
    login(other, cadre)
    assert other.get("/staff/mentoring/team").status_code == 403


# ---- filing on her behalf ---------------------------------------------------------------

def test_committee_member_files_for_a_woman_without_an_account(app, committee, make_mentor, make_user):
    make_mentor("陈海燕", skills=("e_commerce",))
    case = _file(app, committee)  # a committee member's cases come by 执委直通车 (her only choice)
    assert case.channel == "committee" and case.author_id is None and case.filed_by_id == committee.id
    profile = case.profile
    assert (profile.name, profile.phone, profile.created_by_id) == ("李阿婆", "13805742266", committee.id)
    assert case.contact_phone == "13805742266", "her own phone is the contact she agreed to share"
    consents = {(c.scope, c.given, c.method, c.on_behalf) for c in case.consents}
    assert consents == {("details", True, "spoken", True), ("contact", True, "spoken", True),
                        ("sms", False, "spoken", True)}
    assert case.introductions, "the matcher suggests mentors"
    assert "case.file" in _actions(on_behalf_of_type="client_profiles", on_behalf_of_id=profile.id)

    mine = app.test_client()
    login(mine, committee)
    page = mine.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "李阿婆鱼鲞" in page and "代李阿婆登记" in page, "she follows her own referral, marked as on behalf"
    assert "李阿婆鱼鲞" in mine.get("/mentoring/").get_data(as_text=True)
    # She (the 执委) asks the suggested mentor for the woman? No: staff or the woman ask; a
    # committee member logs follow-ups of her referral.
    resp = mine.post(f"/mentoring/cases/{case.id}/log", data={"kind": "visit", "body": "上门了解情况"})
    assert resp.status_code == 302
    assert db.session.scalar(select(CaseEntry).where(CaseEntry.body == "上门了解情况")) is not None
    assert "case.log" in _actions(on_behalf_of_id=profile.id)

    other_member = make_user(("buyer",))
    grant_role(make_user(("staff",)), other_member, "committee")
    stranger = app.test_client()
    login(stranger, other_member)
    assert stranger.get(f"/mentoring/cases/{case.id}").status_code == 404
    assert stranger.get(f"/staff/mentoring/profiles/{profile.id}").status_code == 404


def test_on_behalf_form_refuses_bad_input_and_writes_nothing(app, committee, make_user):
    client = app.test_client()
    login(client, committee)
    assert client.get("/mentoring/cases/new-for-her").status_code == 200
    for changes, message in (({"phone": "12"}, "7到12位"), ({"phone": ""}, None), ({"name": ""}, None),
                             ({"difficulties": []}, "请至少选择一个"), ({"consent_method": "online"}, None),
                             ({"area_id": "abc"}, None), ({"area_id": "99999999999"}, "村"),
                             ({"contact_wechat": "微信号"}, "微信号"), ({"district": "火星"}, None),
                             ({"channel": "hotline"}, None)):
        resp = client.post("/mentoring/cases/new-for-her", data=_form(**changes))
        assert resp.status_code == 200, changes
        if message:
            assert message in resp.get_data(as_text=True), (changes, message)
    assert db.session.scalar(select(db.func.count()).select_from(Case)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(ClientProfile)) == 0
    buyer = app.test_client()
    login(buyer, make_user(("entrepreneur",)))
    assert buyer.get("/mentoring/cases/new-for-her").status_code == 403
    assert buyer.post("/mentoring/cases/new-for-her", data=_form()).status_code == 403


# ---- consent as a record ------------------------------------------------------------------

@pytest.fixture
def accepted_on_behalf(app, committee, make_mentor):
    mentor = make_mentor("陈海燕", skills=("e_commerce",))
    case = _file(app, committee)
    staff = services.mentor_profile  # noqa: F841 - readability: staff ask for her below
    from market.models import User

    staff_user = db.session.scalar(select(User).where(User.email.like("user%")).order_by(User.id))
    intro = next(i for i in _reload(case).introductions if i.mentor_id == mentor.id)
    services.ask_mentor(staff_user, case.id, intro.id)
    services.accept(mentor.user, intro.id)
    return _reload(case), mentor, staff_user


def test_mentor_sees_contact_only_while_she_consents_and_reads_are_recorded(app, committee, accepted_on_behalf):
    case, mentor, _staff = accepted_on_behalf
    client = app.test_client()
    login(client, mentor.user)
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "13805742266" in page and "李阿婆鱼鲞" in page
    assert _actions(actor_id=mentor.user.id) == ["case.read.contact"], "one entry per read"

    # She tells the 执委 on the phone she no longer wants her number shared: recorded for her.
    services.set_consent(committee, case.id, "contact", False, "spoken")
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "13805742266" not in page and "李阿婆鱼鲞" in page
    assert _actions(actor_id=mentor.user.id)[-1] == "case.read", "no contact read once withdrawn"
    withdraw = db.session.scalar(select(CaseConsent).where(CaseConsent.scope == "contact", CaseConsent.given.is_(False)))
    assert withdraw.on_behalf and withdraw.method == "spoken" and withdraw.recorded_by_id == committee.id
    assert "consent.withdraw.contact" in _actions(actor_id=committee.id)

    services.set_consent(committee, case.id, "details", False, "paper")
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "李阿婆鱼鲞" not in page and "不会用智能手机" not in page
    home = client.get("/mentoring/").get_data(as_text=True)
    assert "李阿婆" not in home, "no name in the mentor's lists without consent"
    with pytest.raises(services.MentoringError):  # on her behalf: say how she said it
        services.set_consent(committee, case.id, "details", True, "online")
    with pytest.raises(services.NotFound):  # the mentor cannot consent for her
        services.set_consent(mentor.user, case.id, "details", True, "spoken")


def test_consent_form_over_http(app, make_user, make_mentor):
    author = make_user(("entrepreneur",))
    case = services.file_case(author, services.CaseData("阿芳小店", "seafood", "startup", "象山县", ["e_commerce"],
                                                        "", False))
    client = app.test_client()
    login(client, author)
    url = f"/mentoring/cases/{case.id}/consent"
    assert client.post(url, data={"scope": "details", "given": "1"}).status_code == 302
    assert _reload(case).consent_to_share
    for bad in ({"scope": "everything", "given": "1"}, {}, {"scope": "details", "given": "x" * 300}):
        assert client.post(url, data=bad).status_code == 302
    assert [c.scope for c in _reload(case).consents].count("details") == 3  # filed, given, withdrawn ("x..." = no)
    assert client.post("/mentoring/cases/99999999999/consent", data={"scope": "details"}).status_code == 404
    other = app.test_client()
    login(other, make_user(("entrepreneur",)))
    assert other.post(url, data={"scope": "details", "given": "0"}).status_code == 404


# ---- profiles: duplicates, claim, deletion -------------------------------------------------

def test_same_phone_is_flagged_and_merged(app, committee, make_user):
    first = _file(app, committee)
    second = _file(app, committee, name="李阿婆（重复）", phone="+86 138-0574-2266")
    groups = services.duplicate_phones()
    assert list(groups) == ["13805742266"] and len(groups["13805742266"]) == 2
    staff = make_user(("staff",))
    client = app.test_client()
    login(client, staff)
    assert "13805742266" in client.get("/staff/mentoring/profiles").get_data(as_text=True)
    resp = client.post("/staff/mentoring/profiles/merge", data={"keep": str(first.profile_id),
                                                               "merge": str(second.profile_id)})
    assert resp.status_code == 302
    assert _reload(second).profile_id == first.profile_id and services.duplicate_phones() == {}
    assert client.post("/staff/mentoring/profiles/merge", data={"keep": "x", "merge": "1"}).status_code == 404


def test_she_claims_her_profile_when_she_registers_with_that_phone(app, committee, make_user):
    case = _file(app, committee)
    woman = make_user(("buyer",), name="李阿婆")
    woman.phone = "13805742266"
    db.session.commit()
    claimed = services.claim_profiles(woman)
    assert [p.id for p in claimed] == [case.profile_id]
    case = _reload(case)
    assert case.author_id == woman.id and not case.on_behalf
    assert [c.id for c in services.my_cases(woman)] == [case.id]
    client = app.test_client()
    login(client, woman)
    assert client.get(f"/mentoring/cases/{case.id}").status_code == 200
    assert services.claim_profiles(woman) == [], "claimed once"


def test_registration_signal_claims_and_staff_can_link(app, committee, make_user):
    from market import signals

    case = _file(app, committee)
    woman = make_user(("buyer",), email="liapo@example.cn")
    woman.phone = "13805742266"
    db.session.commit()
    signals.user_registered.send(woman)
    assert _reload(case).author_id == woman.id

    other = _file(app, committee, name="张嫂", phone="13905740000")
    staff = make_user(("staff",))
    client = app.test_client()
    login(client, staff)
    url = f"/staff/mentoring/profiles/{other.profile_id}/link"
    assert client.post(url, data={"email": "nobody@example.cn"}).status_code == 302
    assert _reload(other).author_id is None
    zhang = make_user(("buyer",), email="zhang@example.cn")
    assert client.post(url, data={"email": "zhang@example.cn"}).status_code == 302
    assert _reload(other).author_id == zhang.id


def test_deletion_on_request_exports_then_anonymises_in_place(app, committee, accepted_on_behalf, make_user):
    case, mentor, _staff = accepted_on_behalf
    services.add_entry(mentor.user, case.id, "visit", "在李阿婆家里教她用手机")
    staff = make_user(("staff",))
    client = app.test_client()
    login(client, staff)
    exported = client.get(f"/staff/mentoring/profiles/{case.profile_id}/export.json")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    data = exported.get_json()
    assert data["profile"]["name"] == "李阿婆" and data["profile"]["phone"] == "13805742266"
    assert data["cases"][0]["business_name"] == "李阿婆鱼鲞"
    assert any("教她用手机" in e["text"] for e in data["cases"][0]["log"])
    before = services.dashboard()

    assert client.post(f"/staff/mentoring/profiles/{case.profile_id}/anonymise", data={}).status_code == 302
    assert _reload(case.profile).anonymised_at is None, "not without confirming"
    client.post(f"/staff/mentoring/profiles/{case.profile_id}/anonymise", data={"confirm": "1"})
    profile, case = _reload(case.profile), _reload(case)
    assert profile.name == "已匿名" and profile.phone is None and profile.anonymised_at
    assert case.business_name == "已匿名" and case.description == "" and case.contact_phone == ""
    assert all(e.body == "" for e in case.entries if e.kind != "status")
    after = services.dashboard()
    assert (after.total, after.by_status, after.by_difficulty) == (before.total, before.by_status, before.by_difficulty)
    everything = "".join(client.get(u).get_data(as_text=True) for u in (
        f"/mentoring/cases/{case.id}", f"/staff/mentoring/profiles/{profile.id}", "/staff/mentoring/profiles",
        "/staff/mentoring/requests", "/staff/mentoring/cases.csv"))
    assert "李阿婆" not in everything and "13805742266" not in everything
    assert {"profile.export", "profile.anonymise"} <= set(_actions(on_behalf_of_id=profile.id))
    # The log keeps ids only: nothing in it names her.
    for row in db.session.scalars(select(AuditEntry)):
        assert not re.search(r"[\u4e00-\u9fff]|\d{7,}", f"{row.action}{row.object_type}{row.on_behalf_of_type}")
    assert client.get("/staff/mentoring/profiles/99999999999/export.json").status_code == 404


def test_after_signing_up_to_ask_for_help_she_lands_on_the_help_desk(client):
    resp = client.post("/account/register", data={"name": "阿芳", "email": "afang@example.cn",
                                                  "password": "correct-horse-battery",
                                                  "confirm": "correct-horse-battery", "roles": ["entrepreneur"]})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/mentoring/"), resp.headers.get("Location")
