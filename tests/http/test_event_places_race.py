"""Places at an event are a stock: women registering for the last place at the same moment
get one place between them (the others go on the waiting list), and one woman's double click
makes one registration; when a place is freed while others register, it goes to one waiting
woman. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from market import clock
from market.extensions import db
from market.models import Registration, User
from market.supply import operations as ops
from tests.support import login, race_in_threads


def _event(staff, capacity):
    starts = clock.today() + timedelta(days=10)
    return ops.create_event(staff, ops.EventData(title="象山产业链对接会", starts_on=starts, capacity=capacity,
                                                 registration_deadline=clock.now() + timedelta(days=5)))


def _statuses(event_id) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Registration.status).where(Registration.event_id == event_id)
                                   .order_by(Registration.user_id)))


def test_the_last_place_taken_at_once_goes_to_one(app, make_user):
    event = _event(make_user(("staff",)), capacity=1)
    ids = [make_user(("entrepreneur",)).id for _ in range(4)]

    def register(user_id):
        return ops.register(db.session.get(User, user_id), event.id).status

    results = race_in_threads(app, [lambda u=u: register(u) for u in ids])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(_statuses(event.id)) == ["registered", "waiting", "waiting", "waiting"]


def test_a_double_click_on_register_makes_one_registration(app, make_user):
    event = _event(make_user(("staff",)), capacity=5)
    woman = make_user(("entrepreneur",))
    clients = []
    for _ in range(3):
        c = app.test_client()
        assert login(c, woman).status_code == 302
        clients.append(c)
    results = race_in_threads(app, [lambda c=c: c.post(f"/events/{event.id}/register", data={})
                                     for c in clients])
    assert [getattr(r, "status_code", r) for r in results] == [302] * 3
    assert _statuses(event.id) == ["registered"]


def test_a_place_freed_while_others_register_is_not_given_twice(app, make_user):
    event = _event(make_user(("staff",)), capacity=1)
    first = make_user(("entrepreneur",))
    ops.register(first, event.id)
    waiting = make_user(("entrepreneur",))
    assert ops.register(waiting, event.id).status == "waiting"
    late = make_user(("entrepreneur",)).id
    first_id = first.id

    results = race_in_threads(app, [lambda: ops.withdraw(db.session.get(User, first_id), event.id),
                                    lambda: ops.register(db.session.get(User, late), event.id)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert _statuses(event.id).count("registered") == 1
