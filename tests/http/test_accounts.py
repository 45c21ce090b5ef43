"""Registration, login, logout, password change, roles, rate limiting."""
import pytest

from market.accounts import services
from market.extensions import db
from market.models import User
from tests.support import login


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
