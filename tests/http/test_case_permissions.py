"""The permission matrix of the closed-loop help desk, extended to committee members (执委),
supervisors, cases filed on her behalf and proposed cases: who gets each case page, and that
no name, business or phone leaks without consent on any page or list a person can open."""
from __future__ import annotations

import pytest

from market.accounts.services import grant_role
from market.extensions import db
from market.mentoring import services
from tests.support import login

SECRET = "秘密小店"       # filed by herself, details not shared
BEHALF = "李阿婆鱼鲞"     # filed for her by a committee member, details shared, contact not
PHONE = "13805742266"
PROPOSED = "待核实小店"   # proposed, nobody has talked to her yet


def _data(name, consent):
    return services.CaseData(name, "seafood", "startup", "象山县", ["e_commerce"], "她的故事：" + name, consent,
                             contact_phone="13900001111" if name == SECRET else "")


@pytest.fixture
def world(app, make_user, make_mentor):
    staff = make_user(("staff",), name="妇联小周")
    people = {"staff": staff, "anonymous": None}
    people["supervisor"] = make_user(("buyer",))
    grant_role(staff, people["supervisor"], "supervisor")
    people["committee"] = make_user(("buyer",))
    grant_role(staff, people["committee"], "committee")
    people["other_committee"] = make_user(("buyer",))
    grant_role(staff, people["other_committee"], "committee")
    lead = make_mentor("陈海燕")
    asked = make_mentor("李秀英", district="宁海县")
    people["lead_mentor"], people["asked_mentor"] = lead.user, asked.user
    people["other_mentor"] = make_mentor("王茶师", district="余姚市").user
    people["author"] = make_user(("entrepreneur",), name="阿芳")
    people["other_entrepreneur"] = make_user(("entrepreneur",))

    secret = services.file_case(people["author"], _data(SECRET, False))
    intro = next(i for i in secret.introductions if i.mentor_id == lead.id)
    services.ask_mentor(people["author"], secret.id, intro.id)
    services.accept(lead.user, intro.id)

    behalf = services.file_on_behalf(people["committee"], _data(BEHALF, True), channel="committee",
                                     consent_method="paper",
                                     profile_data=services.ProfileData("李阿婆", PHONE))
    intro = next((i for i in behalf.introductions if i.mentor_id == asked.id), None)
    if intro is None:
        services.ask_named_mentor(staff, behalf.id, asked.id)
    else:  # the committee member asks the suggested mentor for her
        services.ask_mentor(people["committee"], behalf.id, intro.id)
    services.set_consent(people["committee"], behalf.id, "contact", False, "spoken")

    proposed = services.propose_case(staff, _data(PROPOSED, False), "网店停更三个月", channel="early_warning",
                                     author=people["other_entrepreneur"])
    return people, {"secret": secret.id, "behalf": behalf.id, "proposed": proposed.id}


# role: (secret, behalf, proposed) -> status of GET /mentoring/cases/<id>
CASE_PAGES = {
    "author": (200, 404, 404),
    "lead_mentor": (200, 404, 404),
    "asked_mentor": (404, 200, 404),
    "other_mentor": (404, 404, 404),
    "committee": (404, 200, 404),
    "other_committee": (404, 404, 404),
    "supervisor": (200, 200, 404),
    "staff": (200, 200, 200),
    "other_entrepreneur": (404, 404, 404),  # the proposed case is about her, but nobody has asked her yet
    "anonymous": ("login", "login", "login"),
}
# What each role may read on any page: True = may see the text somewhere.
SEES = {
    #                     SECRET  BEHALF  PHONE  PROPOSED
    "author": (True, False, False, False),
    "lead_mentor": (False, False, False, False),
    "asked_mentor": (False, True, False, False),
    "other_mentor": (False, False, False, False),
    "committee": (False, True, True, False),
    "other_committee": (False, False, False, False),
    "supervisor": (True, True, True, False),
    "staff": (True, True, True, True),
    "other_entrepreneur": (False, False, False, False),
    "anonymous": (False, False, False, False),
}
LISTS = ("/mentoring/", "/staff/mentoring/", "/staff/mentoring/requests", "/staff/mentoring/requests?status=proposed",
         "/staff/mentoring/cases.csv", "/staff/mentoring/profiles", "/staff/mentoring/assign",
         "/staff/mentoring/team", "/products")


def _client(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


@pytest.mark.parametrize("role", list(CASE_PAGES))
def test_case_pages_and_every_list_by_role(app, world, role):
    people, cases = world
    client = _client(app, people[role])
    seen = []
    for which, expected in zip(("secret", "behalf", "proposed"), CASE_PAGES[role], strict=True):
        resp = client.get(f"/mentoring/cases/{cases[which]}")
        if expected == "login":
            assert resp.status_code == 302 and "/account/login" in resp.headers["Location"]
        else:
            assert resp.status_code == expected, (which, resp.status_code)
        seen.append(resp.get_data(as_text=True))
    for url in LISTS:
        resp = client.get(url)
        assert resp.status_code in (200, 302, 403), (url, resp.status_code)
        seen.append(resp.get_data(as_text=True))
    from market.models import ClientProfile

    profile = db.session.scalar(db.select(ClientProfile))
    resp = client.get(f"/staff/mentoring/profiles/{profile.id}")
    assert resp.status_code == {"staff": 200, "committee": 200, "anonymous": 302}.get(role, 403 if role not in (
        "other_committee",) else 404), (role, resp.status_code)
    seen.append(resp.get_data(as_text=True))
    everything = "\n".join(seen)
    for text, allowed in zip((SECRET, BEHALF, PHONE, PROPOSED), SEES[role], strict=True):
        assert (text in everything) == allowed, (role, text)


@pytest.mark.parametrize("role", list(CASE_PAGES))
def test_who_may_log_and_change_consent_on_the_on_behalf_case(app, world, role):
    people, cases = world
    client = _client(app, people[role])
    case_id = cases["behalf"]
    log = client.post(f"/mentoring/cases/{case_id}/log", data={"kind": "note", "body": f"{role} 记录"})
    consent = client.post(f"/mentoring/cases/{case_id}/consent", data={"scope": "sms", "given": "1",
                                                                       "method": "spoken"})
    may_log = role in ("committee", "staff")  # a supervisor reads; she acts through staff
    may_consent = role in ("committee", "staff")
    for resp, allowed in ((log, may_log), (consent, may_consent)):
        if people[role] is None:
            assert resp.status_code == 302 and "/account/login" in resp.headers["Location"]
        elif allowed:
            assert resp.status_code == 302
        else:
            assert resp.status_code in (302, 404), resp.status_code
    from market.models import Case, CaseEntry

    db.session.expire_all()
    logged = db.session.scalar(db.select(CaseEntry).where(CaseEntry.body == f"{role} 记录")) is not None
    assert logged == may_log, role
    assert db.session.get(Case, case_id).consent_sms == may_consent, role
