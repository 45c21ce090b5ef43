"""The notification service on its own: channel choice by preferences, consent and what the
recipient has; rendering in her language; idempotence; retry and failure; quiet hours on a
controlled clock; the SMS adapters (the HTTP one against a small loopback server)."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from market import clock, mail
from market.extensions import db
from market.mentoring import services as mentoring
from market.models import ClientProfile, Notice, NoticePreference, User
from market.notifications import KINDS, deliver_due, notify
from market.notifications import sms as sms_mod
from market.notifications.service import quiet_until, render
from tests.support import login

# 10:00 in Beijing (02:00 UTC): no quiet hours
MORNING = datetime(2026, 11, 27, 2, 0)


def _notices(**where) -> list[Notice]:
    stmt = select(Notice).order_by(Notice.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(Notice, k) == v)
    return db.session.execute(stmt).scalars().all()


def _reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _profile_case(make_user, *, consent_sms: bool, phone="13805742266"):
    staff = make_user(("staff",))
    data = mentoring.CaseData(business_name="阿芳海鲜", industry="seafood", stage="startup", district="象山县",
                              difficulties=["e_commerce"], description="想开网店。", consent_to_share=True,
                              consent_sms=consent_sms)
    case = mentoring.file_on_behalf(staff, data, channel="hotline", consent_method="spoken",
                                    profile_data=mentoring.ProfileData("李阿婆", phone))
    return case, db.session.get(ClientProfile, case.profile_id)


def test_a_user_gets_in_app_and_mail_by_default_and_the_counter_rises(app, make_user):
    her = make_user(("entrepreneur",))
    mail.outbox().clear()
    ids = notify(her, "case_declined", {"case_id": 7, "url": "/mentoring/cases/7"}, event="decline:1")
    db.session.commit()
    assert len(ids) == 2
    assert {(n.channel, n.status, n.address) for n in _notices(user_id=her.id)} == {
        ("inapp", "sent", ""), ("mail", "sent", her.email)}
    assert _reload(her).unread_notices == 1
    (sent,) = mail.outbox()
    assert sent["To"] == her.email and "7" in sent["Subject"] + sent.get_content()
    assert "/notices/unsubscribe/" in sent.get_content() and sent["List-Unsubscribe"]


def test_preferences_turn_channels_off_but_not_essential_ones(app, make_user):
    her = make_user(("entrepreneur",))
    db.session.add(NoticePreference(user_id=her.id, kind="case_declined", channel="mail", enabled=False))
    db.session.commit()
    notify(her, "case_declined", {"case_id": 1})
    db.session.commit()
    assert [n.channel for n in _notices(user_id=her.id)] == ["inapp"]


def test_sms_to_an_account_only_when_she_turned_it_on_and_has_a_phone(app, make_user):
    her = make_user(("entrepreneur",))
    notify(her, "case_matched", {"name": "陈老师"})
    db.session.commit()
    assert "sms" not in {n.channel for n in _notices(user_id=her.id)}
    her.phone = "13805740001"
    db.session.add(NoticePreference(user_id=her.id, kind="case_matched", channel="sms", enabled=True))
    db.session.commit()
    app.extensions["sms_outbox"] = []
    notify(her, "case_matched", {"name": "陈老师"})
    db.session.commit()
    assert [n.status for n in _notices(user_id=her.id, channel="sms")] == ["sent"]
    assert sms_mod.outbox() == [("13805740001", _notices(channel="sms")[0].body)]


def test_a_profile_without_account_gets_sms_only_with_consent(app, make_user):
    app.extensions["sms_outbox"] = []
    case, profile = _profile_case(make_user, consent_sms=False)
    assert notify(profile, "case_matched", {"case": case, "name": "陈老师"}) == []
    case2, profile2 = _profile_case(make_user, consent_sms=True, phone="13805749999")
    ids = notify(profile2, "case_matched", {"case": case2, "name": "陈老师"})
    db.session.commit()
    assert len(ids) == 1
    (n,) = _notices(profile_id=profile2.id)
    assert (n.channel, n.address, n.status, n.user_id) == ("sms", "13805749999", "sent", None)
    assert sms_mod.outbox()[-1][0] == "13805749999" and "陈老师" in sms_mod.outbox()[-1][1]


def test_the_same_event_reaches_her_once(app, make_user):
    her = make_user(("buyer",))
    mail.outbox().clear()
    for _ in range(3):
        notify(her, "order_paid", {"number": "SM1", "amount": "¥1.00"}, event="order_paid:1")
        db.session.commit()
    assert len(_notices(user_id=her.id)) == 2 and len(mail.outbox()) == 1
    assert _reload(her).unread_notices == 1


def test_nothing_is_sent_for_work_that_is_rolled_back(app, make_user):
    her = make_user(("buyer",))
    mail.outbox().clear()
    notify(her, "order_paid", {"number": "SM1"})
    db.session.rollback()
    assert _notices(user_id=her.id) == [] and mail.outbox() == []


def test_her_language_is_used(app, make_user):
    her = make_user(("buyer",))
    her.locale = "en"
    db.session.commit()
    notify(her, "order_paid", {"number": "SM9", "amount": "¥9.00"})
    db.session.commit()
    assert _notices(user_id=her.id, channel="mail")[0].subject == "Order SM9 is paid"
    zh = make_user(("buyer",))
    notify(zh, "order_paid", {"number": "SM9", "amount": "¥9.00"})
    db.session.commit()
    assert "SM9" in _notices(user_id=zh.id, channel="mail")[0].subject
    assert "paid" not in _notices(user_id=zh.id, channel="mail")[0].subject


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_kind_renders_in_both_languages(app, locale):
    for kind in KINDS.values():
        texts = render(kind, {"case_id": 12, "name": "陈老师", "number": "SM1", "url": "/x"}, locale)
        assert all(texts.values()), kind.code
        assert "%(" not in "".join(texts.values()), kind.code  # every field was filled


def test_a_failed_mail_is_retried_with_backoff_then_failed_and_shown_to_staff(app, make_user):
    staff = make_user(("staff",))
    her = make_user(("buyer",))
    clock.set(app, MORNING)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, NOTIFY_RETRY_SECONDS="60,300")  # nothing listens
    notify(her, "order_paid", {"number": "SM2"})
    db.session.commit()
    (n,) = _notices(user_id=her.id, channel="mail")
    assert (n.status, n.attempts, n.next_attempt_at) == ("retrying", 1, MORNING + timedelta(seconds=60))
    assert deliver_due(MORNING + timedelta(seconds=30)) == 0  # not yet
    assert deliver_due(MORNING + timedelta(seconds=61)) == 1
    db.session.expire_all()
    n = db.session.get(Notice, n.id)
    assert (n.status, n.attempts) == ("retrying", 2) and n.next_attempt_at == MORNING + timedelta(seconds=361)
    deliver_due(MORNING + timedelta(seconds=400))
    db.session.expire_all()
    n = db.session.get(Notice, n.id)
    assert (n.status, n.attempts) == ("failed", 3) and "Error" in n.last_error
    told = _notices(user_id=staff.id, kind="delivery_failed")
    assert len(told) == 1 and _reload(staff).unread_notices == 1
    # staff see it, and once the server is back, send it again
    app.config.update(MAIL_SERVER="")
    c = app.test_client()
    login(c, staff)
    assert str(n.id) in c.get("/notices/failed").get_data(as_text=True)
    assert c.post(f"/notices/failed/{n.id}/retry").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notice, n.id).status == "sent"


def test_sms_waits_through_quiet_hours_beijing_time(app, make_user):
    app.config["SMS_QUIET_HOURS"] = "22-8"
    night = datetime(2026, 11, 27, 15, 30)  # 23:30 in Beijing
    assert quiet_until(night) == datetime(2026, 11, 28, 0, 0)  # 08:00 in Beijing
    assert quiet_until(datetime(2026, 11, 27, 23, 0)) == datetime(2026, 11, 28, 0, 0)  # 07:00 Beijing
    assert quiet_until(MORNING) is None
    app.extensions["sms_outbox"] = []
    clock.set(app, night)
    case, profile = _profile_case(make_user, consent_sms=True)
    notify(profile, "case_matched", {"case": case, "name": "陈老师"})
    db.session.commit()
    (n,) = _notices(profile_id=profile.id)
    assert n.status == "held" and sms_mod.outbox() == []
    assert deliver_due(datetime(2026, 11, 27, 23, 59)) == 0
    assert deliver_due(datetime(2026, 11, 28, 0, 0)) == 1
    db.session.expire_all()
    assert db.session.get(Notice, n.id).status == "sent" and len(sms_mod.outbox()) == 1


class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    answer = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), body.decode()))
        self.send_response(type(self).answer)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received, _Gateway.answer = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_the_http_sms_adapter_posts_the_configured_body(app, make_user, gateway):
    port = gateway.server_address[1]
    app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{port}/send", SMS_HTTP_TOKEN="t0k",
                      SMS_HTTP_BODY='{"mobile": "{phone}", "content": "{text}", "sign": "姐妹集市"}')
    case, profile = _profile_case(make_user, consent_sms=True)
    notify(profile, "case_matched", {"case": case, "name": '陈"老师'})
    db.session.commit()
    (path, headers, body) = _Gateway.received[0]
    assert path == "/send" and headers["Authorization"] == "Bearer t0k"
    sent = json.loads(body)
    assert sent["mobile"] == "13805742266" and '陈"老师' in sent["content"] and sent["sign"] == "姐妹集市"
    assert _notices(profile_id=profile.id)[0].status == "sent"


def test_a_gateway_error_is_retried(app, make_user, gateway):
    _Gateway.answer = 503
    app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{gateway.server_address[1]}/send")
    case, profile = _profile_case(make_user, consent_sms=True)
    notify(profile, "case_matched", {"case": case, "name": "陈老师"})
    db.session.commit()
    (n,) = _notices(profile_id=profile.id)
    assert n.status == "retrying" and "503" in n.last_error


def test_the_form_encoded_body_and_invalid_numbers(app):
    adapter = sms_mod.HttpSms("http://127.0.0.1:1/", "to={phone}&msg={text}", "application/x-www-form-urlencoded")
    assert adapter.payload("13805742266", "你好 & 再见") == "to=13805742266&msg=%E4%BD%A0%E5%A5%BD+%26+%E5%86%8D%E8%A7%81"
    with pytest.raises(sms_mod.SmsError):
        sms_mod.ConsoleSms().send("not-a-phone", "x")
    assert sms_mod.valid_phone("+86 138 0574 2266") and not sms_mod.valid_phone("12")
