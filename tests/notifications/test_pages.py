"""The notices pages as a browser uses them: the list and the unread count in the menu,
opening a notice, marking all read, the preferences form (CSRF on, unticked boxes left out),
the one-click unsubscribe link of a mail, and /dev/notices outside development."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from market import mail
from market.extensions import db
from market.models import Notice, NoticePreference, User
from market.notifications import notify
from tests.support import DEFAULT_PASSWORD, link_in, login, page_form


def _sign_in(client, user):
    """As a browser: the login form with its CSRF token."""
    form = page_form(client, "/account/login", having="password")
    assert form.submit(client, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield


def _unread(client) -> str | None:
    found = re.search(r'id="unread-count"[^>]*>(\d+)<', client.get("/notices/").get_data(as_text=True))
    return found.group(1) if found else None


def test_the_list_the_count_and_opening_a_notice(app, client, make_user):
    her = make_user(("entrepreneur",))
    other = make_user(("entrepreneur",))
    notify(her, "case_declined", {"case_id": 5, "url": "/mentoring/cases/5"})
    notify(her, "case_reasked", {"case_id": 5, "url": "/mentoring/cases/5"})
    notify(other, "case_declined", {"case_id": 6})
    db.session.commit()
    login(client, her)
    assert _unread(client) == "2"
    page = client.get("/notices/").get_data(as_text=True)
    assert page.count('class="notice unread"') == 2
    first = db.session.scalars(select(Notice).where(Notice.user_id == her.id, Notice.kind == "case_declined",
                                                    Notice.channel == "inapp")).one()
    shown = client.get(f"/notices/{first.id}")
    assert shown.status_code == 200 and 'href="/mentoring/cases/5"' in shown.get_data(as_text=True)
    client.get(f"/notices/{first.id}")  # opened twice: counted once
    assert _unread(client) == "1"
    theirs = db.session.scalars(select(Notice).where(Notice.user_id == other.id, Notice.channel == "inapp")).one()
    assert client.get(f"/notices/{theirs.id}").status_code == 404
    assert client.get("/notices/999999").status_code == 404
    assert client.get("/notices/?page=abc").status_code == 200


def test_mark_all_read_as_a_browser_submits_it(app, client, make_user, csrf_on):
    her = make_user(("buyer",))
    for i in range(3):
        notify(her, "order_paid", {"number": f"SM{i}"})
    db.session.commit()
    _sign_in(client, her)
    form = page_form(client, "/notices/", action="/notices/read-all")
    assert form.submit(client).status_code == 302
    assert _unread(client) is None
    db.session.expire_all()
    assert db.session.get(User, her.id).unread_notices == 0
    assert client.post("/notices/read-all").status_code == 400  # no CSRF token


def test_preferences_form_as_a_browser_submits_it(app, client, make_user, csrf_on):
    her = make_user(("buyer",))
    _sign_in(client, her)
    form = page_form(client, "/notices/preferences", action="")
    assert form.value("pref:order_paid:mail") == "y"  # on by default
    assert "pref:order_paid:sms" not in form.names()  # no phone: no SMS box
    # unchanged: nothing stored
    assert form.submit(client).status_code == 302
    assert db.session.scalars(select(NoticePreference)).all() == []
    # untick one box, choose English
    form = page_form(client, "/notices/preferences", action="")
    assert form.submit(client, {"pref:order_paid:mail": None, "locale": "en"}).status_code == 302
    db.session.expire_all()
    assert [(p.kind, p.channel, p.enabled) for p in db.session.scalars(select(NoticePreference))] == [
        ("order_paid", "mail", False)]
    assert db.session.get(User, her.id).locale == "en"
    mail.outbox().clear()
    notify(db.session.get(User, her.id), "order_paid", {"number": "SM1"})
    db.session.commit()
    assert mail.outbox() == []
    # the page shows the box unticked now, and submitting it again keeps it so
    form = page_form(client, "/notices/preferences", action="")
    assert form.value("pref:order_paid:mail") == []
    form.submit(client)
    assert len(db.session.scalars(select(NoticePreference)).all()) == 1
    # hostile input: a language we do not have is a form error, unknown boxes are ignored
    form = page_form(client, "/notices/preferences", action="")
    resp = form.submit(client, {"locale": "xx"})
    assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, her.id).locale == "en"
    resp = client.post("/notices/preferences", data={"csrf_token": form.value("csrf_token"), "locale": "zh",
                                                     "pref:nonsense:mail": "y", "pref:a:b:c": "y"})
    assert resp.status_code == 302
    kinds = {p.kind for p in db.session.scalars(select(NoticePreference))}
    assert "nonsense" not in kinds and "a" not in kinds


def test_essential_kinds_cannot_be_turned_off(app, client, make_user):
    from market.notifications import KINDS
    from market.notifications.kinds import Kind

    KINDS["test_security"] = Kind("test_security", "security", "Security", "Security body", "Security sms",
                                  essential=True)
    try:
        her = make_user(("buyer",))
        db.session.add(NoticePreference(user_id=her.id, kind="test_security", channel="mail", enabled=False))
        db.session.commit()
        mail.outbox().clear()
        notify(her, "test_security", {})
        db.session.commit()
        assert len(mail.outbox()) == 1 and "unsubscribe" not in mail.outbox()[0].get_content()
    finally:
        del KINDS["test_security"]


def test_one_click_unsubscribe_from_a_mail(app, client, make_user):
    app.config["PUBLIC_URL"] = "https://market.example.cn"
    her = make_user(("buyer",))
    mail.outbox().clear()
    notify(her, "order_shipped", {"number": "SM3", "url": "/orders/3"})
    db.session.commit()
    link = link_in(mail.outbox()[0], "/notices/unsubscribe/")
    assert client.get(link).status_code == 200  # a mail scanner opening it changes nothing
    assert db.session.scalars(select(NoticePreference)).all() == []
    resp = client.post(link)  # the button, or the mail client's List-Unsubscribe-Post
    assert resp.status_code == 200 and 'id="unsubscribed"' in resp.get_data(as_text=True)
    pref = db.session.scalars(select(NoticePreference)).one()
    assert (pref.user_id, pref.kind, pref.channel, pref.enabled) == (her.id, "order_shipped", "mail", False)
    assert client.get("/notices/unsubscribe/forged.token").status_code == 404
    assert client.post("/notices/unsubscribe/" + "x" * 500).status_code == 404


def test_dev_notices_is_absent_outside_development(app, client):
    assert client.get("/dev/notices").status_code == 404


def test_staff_pages_are_for_staff(app, client, make_user):
    login(client, make_user(("buyer",)))
    assert client.get("/notices/failed").status_code == 403
    assert client.post("/notices/failed/1/retry").status_code == 403


def test_a_phone_is_checked_at_entry_and_sms_can_then_be_chosen(app, client, make_user, csrf_on):
    app.extensions["sms_outbox"] = []
    her = make_user(("buyer",))
    _sign_in(client, her)
    form = page_form(client, "/notices/preferences", action="")
    resp = form.submit(client, {"phone": "12ab"})
    assert resp.status_code == 200 and "13805742266" in resp.get_data(as_text=True)  # the message's example
    db.session.expire_all()
    assert db.session.get(User, her.id).phone is None
    assert page_form(client, "/notices/preferences", action="").submit(
        client, {"phone": "138 0574 2266"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, her.id).phone == "13805742266"
    form = page_form(client, "/notices/preferences", action="")
    assert form.value("pref:order_shipped:sms") == []  # now offered, off until she ticks it
    form.submit(client, {"pref:order_shipped:sms": "y"})
    notify(db.session.get(User, her.id), "order_shipped", {"number": "SM7", "carrier": "顺丰", "tracking": "SF1"})
    db.session.commit()
    from market.notifications import sms

    assert sms.outbox() == [("13805742266", sms.outbox()[0][1])] and "SM7" in sms.outbox()[0][1]
    # clearing the number turns SMS off
    page_form(client, "/notices/preferences", action="").submit(client, {"phone": ""})
    db.session.expire_all()
    assert db.session.get(User, her.id).phone is None
    assert db.session.scalars(select(NoticePreference).where(NoticePreference.channel == "sms")).all() == []
