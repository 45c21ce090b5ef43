"""Password reset by a mailed link: it works once, expires, ends every session, never reveals
whether an account exists, and the request is rate-limited per client address and per email."""
import time

import pytest

from market import mail
from market.accounts import services
from market.extensions import db
from market.models import User
from tests.support import (
    DEFAULT_PASSWORD,
    client_with_cookies,
    cookie,
    link_in,
    login,
    mails_to,
    race_in_threads,
    submit_form,
)

NEW_PASSWORD = "lotus-pond-morning-7"


def _ask_for_link(client, email: str):
    return submit_form(client, "/account/password/forgot", {"email": email})


def test_forgot_and_reset_as_a_browser_does(app, client, make_user):
    user = make_user(email="xiuying@example.cn")
    other_device = app.test_client()
    assert login(other_device, user).status_code == 302
    stolen = cookie(other_device, "session")
    app.config["WTF_CSRF_ENABLED"] = True  # the forms carry their token, as in production

    login_page = client.get("/account/login").get_data(as_text=True)
    assert "/account/password/forgot" in login_page
    resp = _ask_for_link(client, "XiuYing@Example.cn ")
    assert resp.status_code == 200 and 'id="reset-requested"' in resp.get_data(as_text=True)
    [message] = mails_to(user.email)
    link = link_in(message, "/account/password/reset/")

    resp = submit_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200  # signed in by the reset

    assert other_device.get("/account/").status_code == 302  # every other session ended
    assert client_with_cookies(app, session=stolen).get("/account/").status_code == 302
    fresh = app.test_client()
    assert submit_form(fresh, "/account/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    assert submit_form(fresh, "/account/login", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302

    # The link works once.
    again = app.test_client()
    resp = again.get(link)
    assert resp.status_code == 400 and 'id="link-invalid"' in resp.get_data(as_text=True)
    resp = again.post(link, data={"password": "another-pass-word-8", "confirm": "another-pass-word-8"})
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(NEW_PASSWORD)


def test_answers_are_identical_for_known_and_unknown_addresses(app, make_user):
    make_user(email="known@example.cn")
    known = _ask_for_link(app.test_client(), "known@example.cn")
    unknown = _ask_for_link(app.test_client(), "nobody@example.cn")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert [m["To"] for m in mail.outbox()] == ["known@example.cn"]


def test_a_deactivated_account_gets_no_link_and_the_same_answer(app, make_user):
    user = make_user(email="gone@example.cn")
    user.active = False
    db.session.commit()
    resp = _ask_for_link(app.test_client(), user.email)
    assert resp.get_data() == _ask_for_link(app.test_client(), "nobody@example.cn").get_data()
    assert mail.outbox() == []


def test_the_link_expires(app, client, make_user):
    user = make_user()
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    issued = time.time()
    token = services.password_reset_token(user, now=issued)
    # Just inside the window it is accepted; one second past it, refused as expired.
    assert services.user_for_reset_token(token, now=issued + max_age).id == user.id
    with pytest.raises(services.LinkInvalid) as refused:
        services.reset_password(token, NEW_PASSWORD, now=issued + max_age + 1)
    assert refused.value.reason == "expired"

    # Over HTTP: a link issued longer ago than the window.
    old = services.password_reset_token(user, now=time.time() - max_age - 60)
    resp = client.get(f"/account/password/reset/{old}")
    assert resp.status_code == 400 and 'id="link-invalid"' in resp.get_data(as_text=True)
    resp = client.post(f"/account/password/reset/{old}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(DEFAULT_PASSWORD)


def test_the_link_dies_when_the_password_changes_otherwise(app, make_user):
    user = make_user()
    token = services.password_reset_token(user)
    services.change_password(user, DEFAULT_PASSWORD, "quiet-harbour-lights-3")
    with pytest.raises(services.LinkInvalid) as refused:
        services.reset_password(token, NEW_PASSWORD)
    assert refused.value.reason == "used"


def test_tampered_and_foreign_tokens_are_refused(app, client, make_user):
    user = make_user()
    token = services.password_reset_token(user)
    verification = services.verification_token(user)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), verification, "x", "a.b.c", "%00"):
        resp = client.get(f"/account/password/reset/{bad}")
        assert resp.status_code in (400, 404), (bad, resp.status_code)
    with pytest.raises(services.LinkInvalid):
        services.reset_password(verification, NEW_PASSWORD)


def test_the_new_password_must_meet_the_policy(app, client, make_user):
    user = make_user(email="meihua@example.cn")
    link = f"/account/password/reset/{services.password_reset_token(user)}"
    for weak in ("12345678", "Password", "woaini1314", "Meihua2026!"):
        resp = submit_form(client, link, {"password": weak, "confirm": weak})
        assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True), weak
    resp = submit_form(client, link, {"password": "short", "confirm": "short"})
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(DEFAULT_PASSWORD)
    assert submit_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_requests_are_limited_per_email(app, make_user):
    app.config["PASSWORD_RESET_EMAIL_RATE_LIMIT"] = "2 per minute"
    make_user(email="known@example.cn")
    codes = [_ask_for_link(app.test_client(), "known@example.cn").status_code,
             # the same address typed differently still counts against it
             _ask_for_link(app.test_client(), " KNOWN@example.cn").status_code,
             _ask_for_link(app.test_client(), "known@example.cn").status_code]
    assert codes == [200, 200, 429]
    assert len(mails_to("known@example.cn")) == 2
    # An unknown address is limited alike (the limit says nothing about accounts either).
    assert [_ask_for_link(app.test_client(), "nobody@example.cn").status_code for _ in range(3)] == [200, 200, 429]
    assert _ask_for_link(app.test_client(), "someone-else@example.cn").status_code == 200


def test_requests_are_limited_per_client_address(app):
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    codes = [_ask_for_link(client, f"person{i}@example.cn").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    other = app.test_client()
    resp = other.post("/account/password/forgot", data={"email": "person9@example.cn"},
                      environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert resp.status_code == 200
    # Showing the form is not counted.
    assert client.get("/account/password/forgot").status_code == 200


def test_two_requests_using_one_link_at_once_reset_once(app, make_user):
    """Single use holds under concurrency: the update is conditional on the old password."""
    user = make_user()
    token = services.password_reset_token(user)
    passwords = ["first-new-password-1", "second-new-password-2", "third-new-password-3"]

    def use(password: str):
        def job() -> str:
            services.reset_password(token, password)
            return password
        return job

    results = race_in_threads(app, [use(p) for p in passwords])
    done = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, services.LinkInvalid)]
    errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, services.LinkInvalid)]
    assert not errors, errors
    assert len(done) == 1 and len(refused) == 2
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(done[0])
