"""The loop that keeps every case moving, driven by a clock the tests control (no sleeps):
asks expire and move on; staff withdraw, reassign, ask a named or a second mentor; declines
carry a reason; overdue cases escalate to the staff of the area, then to a supervisor; the
mentor proposes closure with a result per difficulty; she confirms or staff verify; staff
reopen."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from market import areas, clock
from market.accounts.services import grant_role
from market.extensions import db
from market.mail import outbox
from market.mentoring import services, states
from market.models import Area, Case, Introduction
from tests.support import DESK_T0, case_data, intro_of, login, reload

T0 = DESK_T0


_reload = reload


_data = case_data


_intro = intro_of


def test_an_unanswered_ask_expires_and_the_case_moves_on(app, desk):
    case, author, _staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    asked = _intro(case, first)
    assert asked.expires_at == T0 + timedelta(hours=app.config["MENTORING_ASK_HOURS"])
    clock.advance(app, timedelta(hours=app.config["MENTORING_ASK_HOURS"] - 1))
    assert services.sweep() == {"expired": 0, "escalated": 0, "reminded": 0}
    clock.advance(app, timedelta(hours=1))
    assert services.sweep()["expired"] == 1
    assert (_intro(case, first).status, _intro(case, second).status) == ("expired", "asked")
    assert second.user.email in [m["To"] for m in outbox()]
    with pytest.raises(services.MentoringError):  # too late to accept
        services.accept(first.user, asked.id)


def test_the_cli_sweeps(app, runner, desk):
    case, author, _staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    clock.advance(app, timedelta(days=30))
    result = runner.invoke(args=["mentoring-sweep"])
    assert "1 ask(s) expired" in result.output


def test_accept_racing_the_expiry_one_outcome(app, desk):
    case, author, _staff, first, _second = desk
    intro = services.ask_mentor(author, case.id, _intro(case, first).id)
    clock.advance(app, timedelta(days=5))
    start = threading.Barrier(2)
    errors, outcomes = [], []

    def run(what):
        from market.models import User

        with app.app_context():
            try:
                start.wait(10)
                if what == "accept":
                    services.accept(db.session.get(User, first.user_id), intro.id)
                    outcomes.append("accepted")
                else:
                    outcomes.append(f"expired:{services.expire_asks()}")
            except services.MentoringError:
                outcomes.append("refused")
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(w,)) for w in ("accept", "sweep")]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert not errors, errors
    final = _intro(case, first).status
    assert final in ("accepted", "expired")
    assert ("accepted" in outcomes) == (final == "accepted")
    assert ("expired:1" in outcomes) == (final == "expired")
    assert _reload(first).current_load == (1 if final == "accepted" else 0)


def test_staff_withdraw_an_ask_and_ask_a_mentor_they_choose(app, desk, make_mentor):
    case, author, staff, first, second = desk
    outsider = make_mentor("王茶师", group="scientist", industries=("tea",), skills=("technology",),
                           district="余姚市")
    services.ask_mentor(author, case.id, _intro(case, first).id)
    with pytest.raises(services.MentoringError):  # one ask at a time
        services.ask_named_mentor(staff, case.id, outsider.id)
    with pytest.raises(services.MentoringError):
        services.withdraw_ask(staff, case.id, _intro(case, first).id, "")
    services.withdraw_ask(staff, case.id, _intro(case, first).id, "她这周出差")
    assert _intro(case, first).status == "withdrawn"
    intro = services.ask_named_mentor(staff, case.id, outsider.id)
    assert (intro.status, intro.source) == ("asked", "staff")
    with pytest.raises(services.NotFound):  # not staff
        services.ask_named_mentor(author, case.id, second.id)
    services.accept(outsider.user, intro.id)
    assert _reload(case).mentor_id == outsider.id


def test_a_second_mentor_joins_and_both_follow_the_case(app, desk):
    case, author, staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    with pytest.raises(services.MentoringError):
        services.add_second_mentor(staff, case.id, first.id)  # she is the mentor already
    intro = services.add_second_mentor(staff, case.id, second.id)
    assert intro.role == "second" and intro.status == "asked"
    services.accept(second.user, intro.id)
    case = _reload(case)
    assert case.mentor_id == first.id and case.status == "matched"
    assert _reload(second).current_load == 1
    services.add_entry(second.user, case.id, "call", "电话指导直播话术")
    assert _reload(case).status == "in_progress"
    services.resolve(author, case.id, 5, "直播开起来了")
    assert _reload(first).current_load == 0 and _reload(second).current_load == 0, "both places freed"


def test_reassign_releases_the_mentor_and_moves_on(app, desk):
    case, author, staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    with pytest.raises(services.MentoringError):
        services.reassign(staff, case.id, "")
    case = services.reassign(staff, case.id, "陈老师生病住院")
    assert case.status == "open" and case.mentor_id is None
    assert _intro(case, first).status == "released" and _reload(first).current_load == 0
    assert _intro(case, second).status == "asked", "moved on to the next suggestion"
    client = app.test_client()
    login(client, first.user)
    assert client.get(f"/mentoring/cases/{case.id}").status_code == 404, "released: no longer hers to see"


def test_declines_carry_a_structured_reason(app, desk):
    case, author, _staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    intro = _intro(case, first)
    with pytest.raises(services.MentoringError):
        services.decline(first.user, intro.id, "", "other")  # "other" needs a note
    client = app.test_client()
    login(client, first.user)
    client.post(f"/mentoring/asks/{intro.id}/decline", data={"code": "too_far", "reason": ""})
    intro = _reload(intro)
    assert (intro.status, intro.decline_code) == ("declined", "too_far")
    assert _intro(case, second).status == "asked"
    client2 = app.test_client()
    login(client2, second.user)
    client2.post(f"/mentoring/asks/{_intro(case, second).id}/decline", data={"code": "nonsense"})
    assert _intro(case, second).status == "asked", "an unknown reason is refused"


def test_overdue_cases_escalate_to_area_staff_then_a_supervisor(app, desk, make_user):
    case, author, staff, first, _second = desk
    app.config.update(ESCALATE_STAFF_AFTER_DAYS=2, ESCALATE_SUPERVISOR_AFTER_DAYS=7, CASE_OVERDUE_DAYS=14)
    xiangshan = db.session.scalar(db.select(Area.id).where(Area.name == "象山县"))
    ningbo_staff = make_user(("staff",), email="xiangshan-staff@example.cn")
    areas.grant_responsibility(staff, ningbo_staff, xiangshan)
    supervisor = make_user(("buyer",), email="supervisor@example.cn")
    grant_role(staff, supervisor, "supervisor")
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    today = clock.today()
    services.add_entry(first.user, case.id, "visit", "上门", today, today + timedelta(days=3))
    outbox().clear()

    clock.advance(app, timedelta(days=4))  # the follow-up day has passed: overdue
    assert [c.id for c in services.overdue_cases()] == [case.id]
    assert services.escalate_overdue() == [], "overdue, but not for ESCALATE_STAFF_AFTER_DAYS yet"
    clock.advance(app, timedelta(days=2))
    assert services.escalate_overdue() == [(case.id, 1)]
    assert [m["To"] for m in outbox()] == ["xiangshan-staff@example.cn"], "the staff of its area, nobody else"
    assert services.escalate_overdue() == [], "once per level"
    clock.advance(app, timedelta(days=7))
    assert services.sweep()["escalated"] == 1
    assert _reload(case).escalation_level == 2 and outbox()[-1]["To"] == "supervisor@example.cn"
    services.add_entry(first.user, case.id, "call", "电话回访，补上了跟进", clock.today(),
                       clock.today() + timedelta(days=7))
    case = _reload(case)
    assert case.escalation_level == 0 and services.overdue_cases() == []
    lines = [e.body for e in case.entries if e.kind == "status"]
    assert "escalated_1" in lines and "escalated_2" in lines


def test_mentor_proposes_closure_she_confirms(app, desk):
    case, author, _staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    shop, live = _reload(case).difficulty_items
    client = app.test_client()
    login(client, first.user)
    url = f"/mentoring/cases/{case.id}/propose-closure"
    resp = client.post(url, data={f"status_{shop.id}": "solved", f"result_{shop.id}": "网店开通", "summary": "x"},
                       follow_redirects=True)
    assert "请为每个困难填写结果" in resp.get_data(as_text=True) and _reload(case).status == "matched"
    client.post(url, data={f"status_{shop.id}": "solved", f"result_{shop.id}": "网店开通，首月三百单",
                           f"status_{live.id}": "unsolvable", f"result_{live.id}": "她不愿出镜，改做图文",
                           "summary": "开通网店，指导运营"})
    case = _reload(case)
    assert case.status == "closure_proposed"
    assert [(d.status, d.result) for d in case.difficulty_items] == [("solved", "网店开通，首月三百单"),
                                                                     ("unsolvable", "她不愿出镜，改做图文")]
    assert author.email in [m["To"] for m in outbox()]
    her = app.test_client()
    login(her, author)
    page = her.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "confirm-form" in page and "resolve-form" not in page
    her.post(f"/mentoring/cases/{case.id}/not-yet", data={"reason": "还没有学会修图"})
    assert _reload(case).status == "in_progress"
    services.propose_closure(first.user, case.id, [
        services.DifficultyResult(shop.id, "solved", "网店开通"), services.DifficultyResult(live.id, "solved", "会修图了")],
        "补充教了修图")
    her.post(f"/mentoring/cases/{case.id}/confirm-closure", data={"rating": "5", "outcome": "订单翻倍"})
    case = _reload(case)
    assert case.status == "resolved" and case.rating == 5 and _reload(first).current_load == 0
    assert services.dashboard().difficulties_solved == 2


def test_staff_verify_a_case_filed_on_her_behalf_and_reopen(app, make_user, make_mentor):
    clock.set(app, T0)
    mentor = make_mentor("陈海燕")
    staff = make_user(("staff",))
    case = services.file_on_behalf(staff, _data(difficulties=["e_commerce"]), channel="hotline",
                                   consent_method="spoken",
                                   profile_data=services.ProfileData("李阿婆", "13805742266"))
    intro = _intro(case, mentor)
    services.ask_mentor(staff, case.id, intro.id)
    services.accept(mentor.user, intro.id)
    item = _reload(case).difficulty_items[0]
    services.propose_closure(mentor.user, case.id, [services.DifficultyResult(item.id, "solved", "网店开通")],
                             "开通网店")
    with pytest.raises(services.NotFound):  # she has no account to confirm with; the mentor cannot
        services.verify_closure(mentor.user, case.id, "x")
    with pytest.raises(services.MentoringError):
        services.verify_closure(staff, case.id, "")
    services.verify_closure(staff, case.id, "电话回访李阿婆，确认已解决")
    case = _reload(case)
    assert case.status == "resolved" and case.verified_by_id == staff.id and _reload(mentor).current_load == 0

    with pytest.raises(services.MentoringError):
        services.reopen(staff, case.id, " ")
    case = services.reopen(staff, case.id, "回访发现订单又停了")
    assert case.status == "in_progress" and _reload(mentor).current_load == 1, "her mentor takes it up again"
    with pytest.raises(states.InvalidTransition):
        services.reopen(staff, case.id, "again")


def test_reopen_when_her_mentor_is_full_looks_for_another(app, desk, make_user):
    case, author, staff, first, second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    services.resolve(author, case.id, 4, "好了")
    db.session.execute(db.update(type(first)).where(type(first).id == first.id).values(capacity=0))
    db.session.commit()
    case = services.reopen(staff, case.id, "又遇到问题")
    assert case.status == "open" and case.mentor_id is None and _intro(case, first).status == "released"


def test_mentor_home_lists_follow_ups_due_this_week(app, desk):
    case, author, _staff, first, _second = desk
    services.ask_mentor(author, case.id, _intro(case, first).id)
    services.accept(first.user, _intro(case, first).id)
    today = clock.today()
    services.add_entry(first.user, case.id, "visit", "上门", today, today + timedelta(days=10))
    assert services.due_this_week(first.user) == []
    clock.advance(app, timedelta(days=4))
    assert [c.id for c in services.due_this_week(first.user)] == [case.id]
    client = app.test_client()
    login(client, first.user)
    home = client.get("/mentoring/").get_data(as_text=True)
    assert "阿芳海鲜干货" in home and (today + timedelta(days=10)).isoformat() in home


STAFF_POSTS = ("withdraw-ask", "ask-mentor", "second-mentor", "reassign", "reopen", "verify")


@pytest.mark.parametrize("action", STAFF_POSTS)
def test_staff_actions_answer_bad_input_with_a_message_and_others_with_403(app, desk, action):
    case, author, staff, first, _second = desk
    client = app.test_client()
    login(client, staff)
    for data in ({}, {"mentor_id": "99999999999", "introduction_id": "x", "reason": "", "note": ""},
                 {"mentor_id": "-1", "reason": "y" * 6000}):
        assert client.post(f"/staff/mentoring/cases/{case.id}/{action}", data=data).status_code == 302
    assert client.post(f"/staff/mentoring/cases/99999999999/{action}", data={}).status_code == 404
    assert _reload(case).status == "open"
    for user in (author, first.user):
        other = app.test_client()
        login(other, user)
        assert other.post(f"/staff/mentoring/cases/{case.id}/{action}", data={"reason": "x"}).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(Introduction)
                             .where(Introduction.status == "withdrawn")) == 0
    assert db.session.get(Case, case.id).status == "open"
