"""Registration, login, logout, password change, roles, rate limiting. (Sessions, password
reset and verification have their own files: test_sessions, test_password_reset, test_registration.)"""
import pytest

from market.accounts import services
from market.extensions import db
from market.models import User
from tests.support import DEFAULT_PASSWORD, login, submit_form


def test_register_login_logout_and_change_password(app, client):
    app.config["PASSWORD_HASH_METHOD"] = None  # the production default, not the tests' fast one
    resp = client.post("/account/register", data={"name": "王秀英", "email": "Xiuying@Example.cn",
                                                  "password": "long-enough-1", "confirm": "long-enough-1",
                                                  "roles": ["buyer", "artisan"]})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/shop/setup")
    user = services.find_user_by_email("xiuying@example.cn")
    assert user.role_names == {"buyer", "artisan"}
    assert user.password_hash.startswith("scrypt:") and "long-enough-1" not in user.password_hash
    client.post("/account/logout")
    assert client.get("/account/").status_code == 302

    assert login(client, "XIUYING@example.cn", "wrong-password").status_code == 200
    assert login(client, "xiuying@example.cn", "long-enough-1").status_code == 302
    resp = client.post("/account/password", data={"current": "long-enough-1", "password": "new-password-2",
                                                   "confirm": "new-password-2"})
    assert resp.status_code == 302
    client.post("/account/logout")
    assert login(client, "xiuying@example.cn", "long-enough-1").status_code == 200
    assert login(client, "xiuying@example.cn", "new-password-2").status_code == 302


def test_staff_role_cannot_be_self_assigned_and_duplicates_are_refused(client, make_user):
    resp = client.post("/account/register", data={"name": "x", "email": "x@example.cn", "password": "long-enough-1",
                                                  "confirm": "long-enough-1", "roles": ["staff"]})
    assert resp.status_code == 200
    assert db.session.query(User).count() == 0
    with pytest.raises(services.AccountError):
        services.register_user("x", "x@example.cn", "long-enough-1", ["staff"])
    make_user(email="taken@example.cn")
    resp = client.post("/account/register", data={"name": "y", "email": "TAKEN@example.cn", "password": "long-enough-1",
                                                  "confirm": "long-enough-1", "roles": ["buyer"]})
    assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True)


def test_create_staff_cli_makes_a_staff_account(runner):
    result = runner.invoke(args=["create-staff", "--email", "zhou@fulian.cn", "--name", "小周"],
                           input="staff-password-1\nstaff-password-1\n")
    assert result.exit_code == 0, result.output
    assert services.find_user_by_email("zhou@fulian.cn").is_staff


def test_create_staff_cli_refuses_a_weak_password_with_a_message(runner):
    result = runner.invoke(args=["create-staff", "--email", "wu@fulian.cn"], input="12345678\n12345678\n")
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output
    assert services.find_user_by_email("wu@fulian.cn") is None


def test_login_attempts_are_rate_limited(app, client, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    user = make_user()
    codes = [login(client, user, "wrong-password").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    # GET stays available (only POST attempts are counted).
    assert client.get("/account/login").status_code == 200


def test_login_next_parameter_cannot_redirect_offsite(client, make_user):
    user = make_user()
    resp = client.post("/account/login?next=https://evil.example/", data={"email": user.email,
                                                                           "password": "correct-horse-battery"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_login_never_reveals_whether_an_account_exists(app, make_user):
    make_user(email="known@example.cn")
    answers = []
    for email in ("known@example.cn", "nobody@example.cn"):
        resp = submit_form(app.test_client(), "/account/login", {"email": email, "password": "wrong-password-1"})
        answers.append((resp.status_code, resp.get_data(as_text=True).replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 and "邮箱或密码错误" in answers[0][1]


def test_change_password_form_applies_the_password_policy(app, client, make_user):
    user = make_user(email="meihua@example.cn")
    assert submit_form(client, "/account/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
    for weak in ("12345678", "qwertyuiop", "MEIHUA-lotus-7"):
        resp = submit_form(client, "/account/password", {"current": DEFAULT_PASSWORD, "password": weak, "confirm": weak})
        assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True), weak
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(DEFAULT_PASSWORD)
    resp = submit_form(client, "/account/password", {"current": DEFAULT_PASSWORD, "password": "plum-blossom-road-4",
                                                     "confirm": "plum-blossom-road-4"})
    assert resp.status_code == 302
    with pytest.raises(services.AccountError):
        services.register_user("x", "y@example.cn", "password", ["buyer"])  # the service refuses it too


def test_the_account_page_links_to_her_addresses(client, make_user):
    buyer = make_user(("buyer",))
    login(client, buyer)
    page = client.get("/account/").get_data(as_text=True)
    assert 'href="/addresses/" id="my-addresses-link"' in page
    assert client.get("/addresses/").status_code == 200
