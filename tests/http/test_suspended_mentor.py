"""A mentor whom staff suspended (signed out everywhere, cannot sign in) is no longer put in
front of women asking for help, cannot be asked, and is not given cases by the staff's
assignment; lifting the suspension makes her matchable again."""
from __future__ import annotations

from sqlalchemy import select

from market.extensions import db
from market.mentoring import services
from market.models import Introduction
from tests.support import submit_form


def _suggested(case_id: int) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Introduction.mentor_id).where(Introduction.case_id == case_id)))


def test_suspended_mentor_is_not_suggested_or_asked(client, make_user, make_mentor, make_help_request, login_as):
    kept = make_mentor("陈海燕", bio="海鲜电商直播")
    gone = make_mentor("李秀英", bio="海鲜电商直播带货")
    staff = make_user(("staff",))
    login_as(staff)
    resp = submit_form(client, f"/staff/users/{gone.user_id}", {"reason": "冒用他人身份"},
                       action=f"/staff/users/{gone.user_id}/suspend")
    assert resp.status_code == 302
    author = make_user(("entrepreneur",))
    case = make_help_request(author)
    assert kept.id in _suggested(case.id) and gone.id not in _suggested(case.id)
    page = client.get(f"/mentoring/cases/{case.id}").get_data(as_text=True)
    assert "陈海燕" in page and "李秀英" not in page

    # Suspended after she was suggested: asking her is refused.
    case2 = make_help_request(author, description="想学直播卖鱼干")
    kept_intro = db.session.scalar(select(Introduction).where(Introduction.case_id == case2.id,
                                                              Introduction.mentor_id == kept.id))
    submit_form(client, f"/staff/users/{kept.user_id}", {"reason": "投诉核实中"},
                action=f"/staff/users/{kept.user_id}/suspend")
    db.session.expire_all()
    try:
        services.ask_mentor(author, case2.id, kept_intro.id)
    except services.MentoringError:
        pass
    else:
        raise AssertionError("a suspended mentor was asked")

    # Staff's assignment proposal leaves both out; lifting a suspension brings her back.
    _pairs, mentors = services.propose_assignment()
    assert {m.id for m in mentors}.isdisjoint({kept.id, gone.id})
    resp = submit_form(client, f"/staff/users/{gone.user_id}", {}, action=f"/staff/users/{gone.user_id}/unsuspend")
    assert resp.status_code == 302
    case3 = make_help_request(author, description="网店想做品牌")
    assert gone.id in _suggested(case3.id) and kept.id not in _suggested(case3.id)


def test_suspending_an_asked_mentor_withdraws_the_ask_and_moves_the_case_on(app, client, desk, make_user, login_as):
    from market.models import CaseEntry, Notice
    from tests.support import intro_of

    case, author, _staff, first, second = desk
    services.ask_mentor(author, case.id, intro_of(case, first).id)
    login_as(make_user(("staff",)))
    resp = submit_form(client, f"/staff/users/{first.user_id}", {"reason": "投诉核实中"},
                       action=f"/staff/users/{first.user_id}/suspend")
    assert resp.status_code == 302
    db.session.expire_all()
    assert intro_of(case, first).status == "withdrawn"
    assert intro_of(case, second).status == "asked"
    notes = db.session.scalars(select(CaseEntry.body).where(CaseEntry.case_id == case.id, CaseEntry.kind == "note"))
    assert any("withdrawn" in n or "撤回" in n for n in notes)
    # She hears that her case moved on, as when an ask runs out.
    told = {(n.user_id, n.channel) for n in db.session.scalars(select(Notice).where(Notice.kind == "case_reasked"))}
    assert (author.id, "inapp") in told
