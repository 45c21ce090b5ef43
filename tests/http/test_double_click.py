"""Forms that make a one-of-a-kind row, sent several times at the same moment (a double click,
two tabs), as a browser sends them: never a 500 from the unique key, one row, staff told once.
Sign-up (one account per email), opening a shop, enrolling as a mentor, asking to meet someone
at a matchmaking day. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from market import clock
from market.extensions import db
from market.models import Artisan, MeetingRequest, MentorProfile, Notice, User
from market.supply import operations as ops
from tests.support import login, page_form, race_in_threads


def _clients(app, user, n=3):
    out = []
    for _ in range(n):
        c = app.test_client()
        if user is not None:
            assert login(c, user).status_code == 302
        out.append(c)
    return out


def _at_once(app, clients, url, fields, having):
    forms = [page_form(c, url, having=having) for c in clients]
    results = race_in_threads(app, [lambda c=c, f=f: f.submit(c, fields) for c, f in zip(clients, forms, strict=True)])
    return [getattr(r, "status_code", r) for r in results]


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _approval_notices(kind: str) -> int:
    return _count(Notice, Notice.kind == "approval_needed", Notice.channel == "inapp", Notice.event.like(f"%{kind}%"))


def test_sign_up_sent_three_times_at_once_makes_one_account(app):
    codes = _at_once(app, _clients(app, None), "/account/register",
                     {"name": "林小雨", "email": "lin@example.cn", "password": "correct-horse-battery-9",
                      "confirm": "correct-horse-battery-9", "roles": ["buyer"]}, having="password")
    assert sorted(codes) == [200, 200, 302], codes  # the others: "an account with this email exists"
    assert _count(User, User.email == "lin@example.cn") == 1


def test_shop_set_up_sent_at_once_opens_one_shop(app, make_user):
    make_user(("staff",))
    woman = make_user()
    codes = _at_once(app, _clients(app, woman), "/shop/setup", {"display_name": "阿梅刺绣", "district": "象山县"},
                     having="display_name")
    assert codes == [302, 302, 302]
    assert _count(Artisan, Artisan.user_id == woman.id) == 1
    assert _approval_notices("artisan") == 1


def test_mentor_enrolment_sent_at_once_makes_one_profile(app, make_user):
    make_user(("staff",))
    woman = make_user()
    codes = _at_once(app, _clients(app, woman), "/mentoring/mentor/profile",
                     {"display_name": "陈老师", "group": "entrepreneur", "industries": ["seafood"],
                      "skills": ["e_commerce"], "district": "象山县", "capacity": "3"}, having="display_name")
    assert codes == [302, 302, 302]
    assert _count(MentorProfile, MentorProfile.user_id == woman.id) == 1
    assert _approval_notices("mentor") == 1


def test_asking_to_meet_someone_at_once_makes_one_request(app, make_user):
    event = ops.create_event(make_user(("staff",)), ops.EventData(
        title="象山产业链对接会", starts_on=clock.today() + timedelta(days=10),
        registration_deadline=clock.now() + timedelta(days=5)))
    her, other = make_user(("entrepreneur",)), make_user(("entrepreneur",))
    ops.register(her, event.id)
    theirs = ops.register(other, event.id).id
    results = race_in_threads(app, [lambda c=c: c.post(f"/events/{event.id}/meet/{theirs}", data={"status": "wanted"})
                                    for c in _clients(app, her)])
    assert [getattr(r, "status_code", r) for r in results] == [302, 302, 302]
    assert _count(MeetingRequest, MeetingRequest.to_id == theirs) == 1
