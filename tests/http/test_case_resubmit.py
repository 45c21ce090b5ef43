"""A help request sent twice (a double click on a slow connection, the back button and
“send” again) files one case: the second answer is the case already filed, staff are told
once. A different request, or the same one sent much later, is a new case."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from market.accounts.services import grant_role
from market.extensions import db
from market.models import Case, ClientProfile
from tests.support import DEFAULT_PASSWORD, page_form

REQUEST = {"business_name": "小梅海鲜", "industry": "seafood", "district": "象山县", "difficulties": ["e_commerce"],
           "description": "网店开了三个月，没人来买，怎么办？", "consent_to_share": "y"}
HER = {"name": "李阿婆", "phone": "138 0574 2266", "business_kind": "晒鱼干", "business_name": "李阿婆鱼鲞",
       "industry": "seafood", "district": "象山县", "difficulties": ["e_commerce"],
       "description": "想把鱼鲞卖到网上，不会用智能手机。", "consent_to_share": "y"}


@pytest.fixture(autouse=True)
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


def _sign_in(client, user):
    form = page_form(client, "/account/login", having="password")
    assert form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _case_notices() -> int:
    from market.models import Notice

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == "case_new", Notice.channel == "inapp"))


def test_her_request_sent_twice_files_one_case(client, make_user):
    make_user(("staff",))
    _sign_in(client, make_user(("entrepreneur",)))
    form = page_form(client, "/mentoring/requests/new", having="description")
    first = form.submit(client, REQUEST)
    again = form.submit(client, REQUEST)  # the same page's form, sent again
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(Case) == 1 and _case_notices() == 1


def test_a_different_request_or_a_later_one_is_a_new_case(client, make_user):
    _sign_in(client, make_user(("entrepreneur",)))
    form = page_form(client, "/mentoring/requests/new", having="description")
    assert form.submit(client, REQUEST).status_code == 302
    assert form.submit(client, {**REQUEST, "difficulties": ["e_commerce", "branding"]}).status_code == 302
    assert _count(Case) == 2
    db.session.execute(update(Case).values(created_at=Case.created_at - timedelta(hours=2)))
    db.session.commit()
    assert form.submit(client, REQUEST).status_code == 302
    assert _count(Case) == 3


def test_another_woman_with_the_same_words_gets_her_own_case(app, make_user):
    for _n in range(2):
        c = app.test_client()
        _sign_in(c, make_user(("entrepreneur",)))
        assert page_form(c, "/mentoring/requests/new", having="description").submit(c, REQUEST).status_code == 302
    assert _count(Case) == 2


def test_committee_form_for_her_sent_twice_files_one_case_and_one_profile(client, make_user):
    member = make_user(("buyer",), name="执委王姐")
    grant_role(make_user(("staff",)), member, "committee")
    _sign_in(client, member)
    form = page_form(client, "/mentoring/cases/new-for-her", having="phone")
    first, again = form.submit(client, HER), form.submit(client, HER)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(Case) == 1 and _count(ClientProfile) == 1
    # Another woman (another phone) with the same story is her own case.
    assert form.submit(client, {**HER, "name": "王阿婆", "phone": "139 0574 1111"}).status_code == 302
    assert _count(Case) == 2 and _count(ClientProfile) == 2
