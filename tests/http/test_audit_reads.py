"""The audit log, complete: every read of a case, a profile or an export by anyone other than
the woman herself writes exactly one entry, on every route that shows one (the routes are
enumerated from app.url_map, so a new one that is not audited fails here); staff with the
audit permission see who viewed a case and search the log; nothing edits or deletes entries."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market.accounts.services import grant_role
from market.extensions import db
from market.mentoring import services
from market.models import AuditEntry
from tests.support import case_data, login, reload

ROOT = Path(__file__).resolve().parents[2]
# URL arguments that name a person's case, profile or archive wherever they appear; and the
# blueprints of the help desk and its neighbours, where `request_id` is a case too and every
# file download (.csv, .xlsx, .json) holds cases.
PERSONAL_ARGS = {"case_id", "profile_id", "archive_id"}
HELP_DESK_BLUEPRINTS = {"mentoring", "staff_cases", "cases", "insights", "outreach"}


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEntry.id))) or 0


def _last() -> AuditEntry:
    db.session.expire_all()
    return db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))


@pytest.fixture
def filed(app, make_user, make_mentor):
    staff = make_user(("staff",), name="妇联小周")
    committee = make_user(("buyer",))
    grant_role(staff, committee, "committee")
    mentor = make_mentor("陈海燕")
    author = make_user(("entrepreneur",), name="阿芳")
    own = services.file_case(author, case_data(contact_phone="13805742266"))
    behalf = services.file_on_behalf(committee, case_data(business_name="李阿婆鱼鲞"), channel="committee",
                                     consent_method="paper", profile_data=services.ProfileData("李阿婆", "13900001111"))
    return {"staff": staff, "committee": committee, "mentor": mentor, "author": author, "own": own,
            "behalf": behalf}


def _url_for(rule, filed) -> str:
    values = {}
    for arg in rule.arguments:
        if arg in ("case_id", "request_id"):
            values[arg] = filed["own"].id
        elif arg == "profile_id":
            values[arg] = filed["behalf"].profile_id
        else:
            pytest.fail(f"{rule.endpoint}: a route with {arg!r}: say here how to reach it and audit its reads")
    return rule.build(values, append_unknown=False)[1]


def _shows_personal_data(rule) -> bool:
    if "GET" not in rule.methods or rule.endpoint == "static":
        return False
    help_desk = rule.endpoint.partition(".")[0] in HELP_DESK_BLUEPRINTS
    return bool(PERSONAL_ARGS & set(rule.arguments)) or help_desk and (
        "request_id" in rule.arguments or rule.rule.endswith((".csv", ".xlsx", ".json")))


def test_every_route_that_shows_a_case_writes_exactly_one_entry(app, filed):
    routes = [r for r in app.url_map.iter_rules() if _shows_personal_data(r)]
    endpoints = {r.endpoint for r in routes}
    # The list is not empty and holds what we know today; a new route joins it by itself.
    assert {"mentoring.case_page", "mentoring.request_page", "mentoring.profile_page", "mentoring.export_profile",
            "staff_cases.export_cases_csv", "staff_cases.export_cases_xlsx", "staff_cases.export_log_csv",
            "mentoring.cases_csv"} <= endpoints
    client = app.test_client()
    login(client, filed["staff"])
    unaudited = []
    for rule in routes:
        url = _url_for(rule, filed)
        before = _count()
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code == 200, (url, resp.status_code)
        if _count() - before != 1:
            unaudited.append((rule.endpoint, url, _count() - before))
        else:
            entry = _last()
            assert entry.actor_id == filed["staff"].id and (".read" in entry.action or ".export" in entry.action)
    assert unaudited == [], "routes that show a case must write exactly one audit entry per read"


@pytest.mark.parametrize("reader", ["staff", "committee", "mentor_asked", "author"])
def test_a_read_of_the_case_page_by_anyone_but_her_is_one_entry(app, filed, reader):
    case = filed["behalf"] if reader == "committee" else filed["own"]
    user = filed["author"] if reader == "author" else filed["mentor"].user if reader == "mentor_asked" \
        else filed[reader]
    if reader == "mentor_asked":
        services.ask_named_mentor(filed["staff"], case.id, filed["mentor"].id)
    client = app.test_client()
    login(client, user)
    for _ in range(2):
        before = _count()
        assert client.get(f"/mentoring/cases/{case.id}").status_code == 200
        assert _count() - before == (0 if reader == "author" else 1)
    if reader != "author":
        entry = _last()
        assert (entry.actor_id, entry.object_type, entry.object_id) == (user.id, "cases", case.id)
        assert entry.action in ("case.read", "case.read.contact")
        assert entry.on_behalf_of_type in ("users", "client_profiles")


def test_the_mentors_page_records_each_ask_it_shows(app, filed):
    services.ask_named_mentor(filed["staff"], filed["own"].id, filed["mentor"].id)
    client = app.test_client()
    login(client, filed["mentor"].user)
    before = _count()
    page = client.get("/mentoring/").get_data(as_text=True)
    assert "想开网店直播" in page, "her story is on the page"
    assert _count() - before == 1 and _last().object_id == filed["own"].id


def test_who_viewed_this_case_for_the_audit_permission_only(app, filed, make_user):
    case = filed["own"]
    reader = app.test_client()
    login(reader, filed["staff"])
    reader.get(f"/mentoring/cases/{case.id}")
    plain = reader.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert 'id="who-viewed"' not in plain, "staff without the permission do not see it"
    auditor = make_user(("staff",), name="审计员小王")
    grant_role(filed["staff"], auditor, "auditor")
    client = app.test_client()
    login(client, auditor)
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    section = page.split('id="who-viewed"')[1].split("</section>")[0]
    assert section.count("妇联小周") == 2 and "审计员小王" in section and "查看个案" in section
    supervisor = make_user(("buyer",))
    grant_role(filed["staff"], supervisor, "supervisor")
    client = app.test_client()
    login(client, supervisor)
    assert 'id="who-viewed"' not in client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)


def test_the_audit_log_search(app, filed, make_user):
    staff = filed["staff"]
    reader = app.test_client()
    login(reader, staff)
    reader.get(f"/mentoring/cases/{filed['own'].id}")
    reader.get(f"/staff/mentoring/profiles/{filed['behalf'].profile_id}")
    assert reader.get("/staff/audit").status_code == 403, "staff without the permission"
    auditor = make_user(("staff",))
    grant_role(staff, auditor, "auditor")
    client = app.test_client()
    login(client, auditor)
    page = client.get(f"/staff/audit?actor={staff.id}&reads=1").get_data(as_text=True)
    actions = re.findall(r'class="audit-row" data-action="([a-z_.]+)"', page)
    assert sorted(actions) == ["case.read.contact", "profile.read"]
    page = client.get(f"/staff/audit?object_type=cases&object_id={filed['own'].id}&action=case.read").get_data(
        as_text=True)
    assert re.findall(r'data-action="([a-z_.]+)"', page) == ["case.read.contact"]
    assert "查看个案及其联系方式" in page and "妇联小周" in page
    everything = client.get("/staff/audit").get_data(as_text=True)
    assert "case.file" in everything and "登记个案" in everything
    assert client.get("/staff/audit?start=2999-01-01").get_data(as_text=True).count('class="audit-row"') == 0
    assert client.get("/staff/audit?actor=abc&object_id=-1&start=soon&page=x").status_code == 200


def test_no_route_edits_or_deletes_entries(app, filed, make_user):
    auditor = make_user(("staff",))
    grant_role(filed["staff"], auditor, "auditor")
    client = app.test_client()
    login(client, auditor)
    client.get(f"/mentoring/cases/{filed['own'].id}")
    before = _count()
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/staff/audit", data={"id": 1}).status_code == 405
    assert _count() == before
    # No code path writes to the table other than by adding a row.
    offenders = []
    for path in (ROOT / "market").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"(update|delete)\(\s*AuditEntry|AuditEntry\)\.(update|delete)|audit_log\b.*\b(UPDATE|DELETE)",
                     text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_a_profile_read_by_the_committee_member_who_made_it_is_recorded(app, filed, make_user):
    profile = reload(filed["behalf"]).profile
    client = app.test_client()
    login(client, filed["committee"])
    before = _count()
    assert client.get(f"/staff/mentoring/profiles/{profile.id}").status_code == 200
    assert _count() - before == 1 and _last().action == "profile.read"
