"""The staff queue: filters, urgency, bulk actions submitted as a browser does, the permission
matrix (staff act; supervisors read; a committee member (执委) sees only her referrals), the
decline reasons and ask history, labels instead of codes, pages that speak to staff about
her, and the global assignment that takes in stuck asks."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from market import clock
from market.accounts.services import grant_role
from market.extensions import db
from market.mentoring import services
from market.models import Case, Introduction, Notice
from tests.support import DESK_T0, case_data, login, page_form, reload

DECLINE_NOTE = "这周在外地参展"


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="queue-row[^"]*" data-case="(\d+)"', page)]


@pytest.fixture
def world(app, make_user, make_mentor):
    clock.set(app, DESK_T0)
    staff = make_user(("staff",), name="妇联小周")
    people = {"staff": staff}
    for role in ("supervisor", "committee", "other_committee"):
        people[role] = make_user(("buyer",))
        grant_role(staff, people[role], role.removeprefix("other_"))
    a = make_mentor("陈海燕", group="entrepreneur")
    b = make_mentor("李秀英", district="宁海县", group="craftswoman", skills=("financing", "e_commerce"))
    people["mentor"] = a.user
    people["author"] = make_user(("entrepreneur",), name="阿芳")
    # k1: hers, matched with a mentor (later overdue); k2: a committee member's referral whose
    # first mentor declines; k3: a proposed case; k4: open, filed by herself in 宁海县.
    k1 = services.file_case(people["author"], case_data())
    services.ask_named_mentor(staff, k1.id, a.id)
    services.accept(a.user, next(i.id for i in reload(k1).introductions if i.status == "asked"))
    k2 = services.file_on_behalf(people["committee"], case_data(business_name="李阿婆鱼鲞", difficulties=["financing"]),
                                 channel="committee", consent_method="paper",
                                 profile_data=services.ProfileData("李阿婆", "13805742266"))
    asked = next((i for i in reload(k2).introductions if i.status == "asked"), None)
    if asked is None:
        asked = services.ask_named_mentor(staff, k2.id, b.id)
    services.decline(asked.mentor.user, asked.id, DECLINE_NOTE, "busy")
    k3 = services.propose_case(staff, case_data(business_name="网店停更的小店"), "网店停更三个月", channel="early_warning",
                               author=make_user(("entrepreneur",)))
    k4 = services.file_case(make_user(("entrepreneur",)), case_data(business_name="宁海茶园", district="宁海县",
                                                                    difficulties=["branding"]))
    return people, {"k1": k1.id, "k2": k2.id, "k3": k3.id, "k4": k4.id}, (a, b)


def _client(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


# role: (status of GET /staff/queue, which cases it lists, has the bulk form)
MATRIX = {
    "staff": (200, {"k1", "k2", "k3", "k4"}, True),
    "supervisor": (200, {"k1", "k2", "k3", "k4"}, False),
    "committee": (200, {"k2"}, False),
    "other_committee": (200, set(), False),
    "mentor": (403, None, False),
    "author": (403, None, False),
    "anonymous": (302, None, False),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_permission_matrix(app, world, role):
    people, ids, _ = world
    status, listed, bulk = MATRIX[role]
    client = _client(app, people.get(role))
    resp = client.get("/staff/queue")
    assert resp.status_code == status
    if listed is not None:
        page = resp.get_data(as_text=True)
        assert set(_ids(page)) == {ids[k] for k in listed}
        assert ('id="bulk-form"' in page) == bulk
    if role != "staff":
        before = db.session.scalar(select(Case.status).where(Case.id == ids["k3"]))
        resp = client.post("/staff/queue/bulk", data={"case_id": ids["k3"], "action": "dismiss", "reason": "x"})
        assert resp.status_code in (302, 400, 403) and (role == "anonymous" or resp.status_code in (400, 403))
        db.session.expire_all()
        assert db.session.scalar(select(Case.status).where(Case.id == ids["k3"])) == before == "proposed"


def test_filters(app, world):
    people, ids, (a, _b) = world
    client = _client(app, people["staff"])

    def listed(query):
        return set(_ids(client.get("/staff/queue?" + query).get_data(as_text=True)))

    assert listed("status=proposed") == listed("proposed=1") == {ids["k3"]}
    assert listed("channel=committee") == {ids["k2"]}
    assert listed("district=宁海县") == {ids["k4"]}
    assert listed("difficulty=financing") == {ids["k2"]}
    assert listed("difficulty=branding") == {ids["k4"]}
    assert listed("group=entrepreneur") == {ids["k1"]}
    assert listed("waiting=mentor") == {ids["k1"]} | ({ids["k2"]} if _asked(ids["k2"]) else set())
    assert ids["k3"] in listed("waiting=staff") and ids["k1"] not in listed("waiting=staff")
    assert listed("overdue=1") == set()
    assert listed("status=bogus&channel=nowhere") == set(ids.values()), "unknown values are ignored"
    clock.advance(app, timedelta(days=app.config["CASE_OVERDUE_DAYS"] + 1))
    assert listed("overdue=1") == {ids["k1"], ids["k2"], ids["k4"]}
    assert listed("overdue=1&district=宁海县") == {ids["k4"]}


def _asked(case_id) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(Introduction.id).where(Introduction.case_id == case_id,
                                                           Introduction.status == "asked")) is not None


def test_urgency_puts_escalated_then_overdue_first(app, world):
    people, ids, _ = world
    client = _client(app, people["staff"])
    clock.advance(app, timedelta(days=app.config["CASE_OVERDUE_DAYS"] + 1))
    services.add_entry(people["staff"], ids["k4"], "call", "打过电话")  # k4 is no longer overdue
    services.escalate_case(people["staff"], ids["k2"], "逾期两周")
    order = _ids(client.get("/staff/queue").get_data(as_text=True))
    assert order[0] == ids["k2"], "escalated first"
    assert order.index(ids["k1"]) < order.index(ids["k4"]), "overdue before a case just followed up"
    newest = _ids(client.get("/staff/queue?sort=newest").get_data(as_text=True))
    assert newest == sorted(ids.values(), reverse=True)


def test_bulk_actions_as_a_browser(app, world):
    people, ids, _ = world
    client = _client(app, people["staff"])
    form = page_form(client, "/staff/queue", action="/staff/queue/bulk")
    resp = form.submit(client, {"case_id": [str(ids["k3"]), str(ids["k4"])], "action": "dismiss",
                                "reason": "她说暂时不需要帮助"}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    k3, k4 = reload(db.session.get(Case, ids["k3"])), reload(db.session.get(Case, ids["k4"]))
    assert k3.status == "dismissed" and "暂时不需要" in k3.dismissed_reason
    assert k4.status == "open", "an open case is not a proposed case: reported, left alone"
    assert f"个案 {ids['k4']}" in page and "已处理 1 个个案" in page

    form = page_form(client, "/staff/queue", action="/staff/queue/bulk")
    form.submit(client, {"case_id": [str(ids["k1"])], "action": "escalate", "reason": "导师长期未跟进"})
    k1 = reload(db.session.get(Case, ids["k1"]))
    assert k1.escalation_level == 2
    assert db.session.scalar(select(Notice).where(Notice.user_id == people["supervisor"].id,
                                                  Notice.kind == "case_escalated_supervisor")) is not None, \
        "the supervisor was told, as the action promises"

    form = page_form(client, "/staff/queue", action="/staff/queue/bulk")
    form.submit(client, {"case_id": [str(ids["k1"])], "action": "reassign", "reason": "导师生病"})
    k1 = reload(db.session.get(Case, ids["k1"]))
    assert k1.status == "open" and k1.mentor_id is None

    form = page_form(client, "/staff/queue", action="/staff/queue/bulk")
    resp = form.submit(client, {"case_id": [str(ids["k4"])], "action": "escalate", "reason": ""},
                       follow_redirects=True)
    assert "请填写原因" in resp.get_data(as_text=True)
    assert reload(db.session.get(Case, ids["k4"])).escalation_level == 0


def test_decline_reasons_and_ask_history_for_staff_only(app, world):
    people, ids, _ = world
    for role, sees in (("staff", True), ("supervisor", True), ("committee", False)):
        client = _client(app, people[role])
        queue_page = client.get("/staff/queue").get_data(as_text=True)
        case_page = client.get(f"/mentoring/cases/{ids['k2']}").get_data(as_text=True)
        assert (DECLINE_NOTE in queue_page) == sees, role
        assert (DECLINE_NOTE in case_page) == sees, role
        if sees:
            assert "目前太忙" in queue_page or "太忙" in case_page  # the code as its label
            assert 'id="ask-history"' in case_page and ">busy<" not in case_page


def test_staff_pages_show_labels_and_speak_about_her(app, world, make_mentor):
    people, ids, (a, _b) = world
    make_mentor("待审导师", approved=False)
    client = _client(app, people["staff"])
    mentors = client.get("/staff/mentoring/mentors").get_data(as_text=True)
    assert '<span class="tag mentor-status">待审核</span>' in mentors and ">pending<" not in mentors
    # k4 waits with an ask: staff read "X has been asked", not "You asked X".
    intro = next((i for i in reload(db.session.get(Case, ids["k4"])).introductions if i.status == "asked"), None)
    if intro is None:
        services.ask_named_mentor(people["staff"], ids["k4"], a.id)
    page = client.get(f"/mentoring/cases/{ids['k4']}").get_data(as_text=True)
    assert "您已邀请" not in page and "正在等待她的回复" in page
    assert "擅长您需要的" not in page
    author_page = _client(app, people["author"]).get(f"/mentoring/cases/{ids['k1']}").get_data(as_text=True)
    assert "正在等待她的回复" not in author_page
    queue_page = client.get("/staff/queue").get_data(as_text=True)
    for code in ("in_progress", "matched", "self_service", "early_warning", "e_commerce"):
        assert f">{code}<" not in queue_page


def test_global_assignment_takes_in_stuck_asks(app, world, make_mentor):
    people, ids, (a, b) = world
    c = make_mentor("王茶师", district="宁海县", skills=("branding",))
    k4 = reload(db.session.get(Case, ids["k4"]))
    stuck = next((i for i in k4.introductions if i.status == "asked"), None)
    if stuck is None:
        stuck = services.ask_named_mentor(people["staff"], ids["k4"], b.id)
    client = _client(app, people["staff"])
    page = client.get("/staff/mentoring/assign").get_data(as_text=True)
    assert f'data-request="{ids["k4"]}"' not in page, "a fresh ask is not stuck"
    clock.advance(app, timedelta(hours=app.config["MENTORING_STUCK_ASK_HOURS"] + 1))
    page = client.get("/staff/mentoring/assign").get_data(as_text=True)
    assert f'data-request="{ids["k4"]}"' in page and "尚未回复" in page and "擅长您需要的" not in page
    other = c if stuck.mentor_id != c.id else a
    form = page_form(client, "/staff/mentoring/assign", action="")
    form.submit(client, {f"mentor_for_{ids['k4']}": str(other.id)})
    db.session.expire_all()
    intros = {i.mentor_id: i for i in db.session.get(Case, ids["k4"]).introductions}
    assert intros[stuck.mentor_id].status == "withdrawn"
    assert intros[other.id].status == "asked"
