"""Sessions that can be ended: the session cookie and the remember cookie carry the user's
session token, which logout, a password change and a password reset replace. Each test
captures the cookies a browser holds and replays them from another client, as someone who
copied them would."""
from market.accounts import services
from market.extensions import db
from market.models import User
from tests.support import DEFAULT_PASSWORD, client_with_cookies, cookie, login, submit_form

SESSION = "session"
REMEMBER = "remember_token"


def _opens_account(client) -> bool:
    resp = client.get("/account/")
    assert resp.status_code in (200, 302), resp.status_code
    return resp.status_code == 200


def test_the_session_holds_a_token_not_the_user_id(app, client, make_user):
    user = make_user()
    assert login(client, user).status_code == 302
    with client.session_transaction() as sess:
        assert sess["_user_id"] == user.session_token != str(user.id)
    assert len(user.session_token) >= 40
    assert make_user().session_token != user.session_token


def test_a_session_cookie_captured_before_logout_no_longer_opens_the_account(app, client, make_user):
    user = make_user()
    assert login(client, user).status_code == 302
    captured = cookie(client, SESSION)
    assert _opens_account(client_with_cookies(app, session=captured))  # the copy works while signed in

    assert submit_form(client, "/account/", action="/account/logout").status_code == 302
    assert not _opens_account(client)
    assert not _opens_account(client_with_cookies(app, session=captured))


def test_logout_ends_the_users_sessions_on_every_device(app, make_user):
    user = make_user()
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user), login(laptop, user)
    assert _opens_account(phone) and _opens_account(laptop)
    phone.post("/account/logout")
    assert not _opens_account(laptop)


def test_a_remember_cookie_stops_working_after_logout(app, client, make_user):
    user = make_user()
    resp = submit_form(client, "/account/login", {"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"})
    assert resp.status_code == 302
    set_cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith(f"{REMEMBER}="))
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    remembered = cookie(client, REMEMBER)
    assert remembered
    # A browser that kept only the one-year cookie is signed in by it...
    assert _opens_account(client_with_cookies(app, remember_token=remembered))

    client.post("/account/logout")
    # ...until the owner logs out anywhere.
    assert not _opens_account(client_with_cookies(app, remember_token=remembered))


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    user = make_user(email="fang@example.cn")
    here, elsewhere = app.test_client(), app.test_client()
    assert submit_form(here, "/account/login", {"email": user.email, "password": DEFAULT_PASSWORD,
                                                "remember": "y"}).status_code == 302
    login(elsewhere, user)
    old_session, old_remember = cookie(here, SESSION), cookie(here, REMEMBER)

    resp = submit_form(here, "/account/password", {"current": DEFAULT_PASSWORD, "password": "blue-river-lantern-9",
                                                   "confirm": "blue-river-lantern-9"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/"

    assert _opens_account(here)  # the browser that changed it stays signed in
    assert cookie(here, REMEMBER) not in (None, old_remember)  # with a new remember cookie
    assert _opens_account(client_with_cookies(app, remember_token=cookie(here, REMEMBER)))
    assert not _opens_account(elsewhere)
    assert not _opens_account(client_with_cookies(app, session=old_session))
    assert not _opens_account(client_with_cookies(app, remember_token=old_remember))


def test_a_refused_password_change_keeps_every_session(app, make_user):
    user = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user), login(elsewhere, user)
    resp = submit_form(here, "/account/password", {"current": "not-my-password", "password": "blue-river-lantern-9",
                                                   "confirm": "blue-river-lantern-9"})
    assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True)
    assert _opens_account(here) and _opens_account(elsewhere)


def test_a_deactivated_account_is_signed_out(app, client, make_user):
    user = make_user()
    login(client, user)
    user.active = False
    db.session.commit()
    assert not _opens_account(client)


def test_old_cookies_holding_a_numeric_id_open_nothing(app, client, make_user):
    """Cookies signed before session tokens existed carry the id; they must not sign anyone in."""
    user = make_user()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert not _opens_account(client)


def test_the_user_is_loaded_with_one_query(app, client, make_user):
    from sqlalchemy import event

    user = make_user(("buyer", "artisan"))
    login(client, user)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        from market.auth import load_user

        with app.test_request_context():
            loaded = load_user(user.session_token)
            assert loaded.role_names == {"buyer", "artisan"}
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert "session_token" in statements[0]


def test_end_all_sessions_replaces_the_token(app, make_user):
    user = make_user()
    before = user.session_token
    services.end_all_sessions(user)
    db.session.expire_all()
    assert db.session.get(User, user.id).session_token not in (None, before)
