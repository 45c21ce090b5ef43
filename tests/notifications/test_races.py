"""The notices' state under concurrency, on SQLite and PostgreSQL: one event reported by
several requests at once reaches her once per channel and counts once; a notice opened in two
tabs at once is read once (the counter drops once); a notice delivered by two workers at once
is sent once."""
from __future__ import annotations

from sqlalchemy import select

from market import mail
from market.extensions import db
from market.models import Notice, User
from market.notifications import deliver, notify
from market.notifications.inbox import open_notice
from tests.support import race_in_threads


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_one_event_from_many_requests_at_once_is_one_notice(app, make_user):
    her_id = make_user(("buyer",)).id
    mail.outbox().clear()

    def report():
        notify(db.session.get(User, her_id), "order_paid", {"number": "SM1"}, event="order_paid:race")
        db.session.commit()

    results = race_in_threads(app, [report] * 6)
    assert all(r is None for r in results), results
    rows = db.session.scalars(select(Notice).where(Notice.user_id == her_id)).all()
    assert sorted(n.channel for n in rows) == ["inapp", "mail"]
    assert _user(her_id).unread_notices == 1
    assert len(mail.outbox()) == 1


def test_a_notice_opened_twice_at_once_counts_once(app, make_user):
    her = make_user(("buyer",))
    notify(her, "order_paid", {"number": "SM1"})
    notify(her, "order_paid", {"number": "SM2"})
    db.session.commit()
    first = db.session.scalars(select(Notice).where(Notice.user_id == her.id, Notice.channel == "inapp")).first()
    her_id, notice_id = her.id, first.id
    results = race_in_threads(app, [lambda: open_notice(db.session.get(User, her_id), notice_id) is not None] * 4)
    assert results == [True] * 4, results
    assert _user(her_id).unread_notices == 1


def test_two_workers_deliver_a_notice_once(app, make_user):
    her = make_user(("buyer",))
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)  # the first attempt fails: a retry is due
    notify(her, "order_paid", {"number": "SM1"})
    db.session.commit()
    notice = db.session.scalars(select(Notice).where(Notice.user_id == her.id, Notice.channel == "mail")).one()
    assert notice.status == "retrying"
    app.config.update(MAIL_SERVER="")
    mail.outbox().clear()
    notice_id = notice.id
    results = race_in_threads(app, [lambda: deliver(notice_id)] * 4)
    assert results.count("sent") == 1, results
    assert len(mail.outbox()) == 1
    db.session.expire_all()
    assert db.session.get(Notice, notice_id).status == "sent"
