"""The password policy: length, the commonest passwords (ignoring case), and the name part of
the owner's email address."""
import pytest

from market.accounts.passwords import PasswordPolicyError, check_password, common_passwords, email_name_parts
from market.cli import DEMO_PASSWORD
from tests.support import DEFAULT_PASSWORD


def test_the_list_has_a_few_hundred_of_the_commonest():
    listed = common_passwords()
    assert 300 <= len(listed) <= 2000
    for must in ("12345678", "password", "123456789", "qwertyuiop", "woaini1314", "5201314", "1qaz2wsx",
                 "a123456", "88888888", "iloveyou"):
        assert must in listed


@pytest.mark.parametrize("password", ["12345678", "password", "PassWord", "WOAINI1314", "123456789", "qwertyuiop",
                                      "11111111", "1qaz2wsx", "password1"])
def test_common_passwords_are_refused(password):
    with pytest.raises(PasswordPolicyError):
        check_password(password, "someone@example.cn")


@pytest.mark.parametrize("password", ["short", "1234567", ""])
def test_short_passwords_are_refused(password):
    with pytest.raises(PasswordPolicyError):
        check_password(password, "someone@example.cn")


@pytest.mark.parametrize(("email", "password"), [
    ("xiuying@example.cn", "Xiuying-2026"),
    ("xiuying@example.cn", "my-XIUYING-pass"),
    ("lin.xiaoyu+shop@example.cn", "xiaoyu-tea-garden"),
    ("lin.xiaoyu@example.cn", "LIN.XIAOYU.88"),
    ("abc@example.cn", "abc-long-enough-9"),
])
def test_passwords_containing_the_email_name_part_are_refused(email, password):
    with pytest.raises(PasswordPolicyError):
        check_password(password, email)


@pytest.mark.parametrize(("email", "password"), [
    ("li@example.cn", "lily-garden-path-3"),  # a two-letter name part is not checked
    ("lin.xiaoyu@example.cn", "violin-sunset-2026"),  # nor a three-letter piece of a dotted one
    ("user1@example.cn", DEFAULT_PASSWORD),
    ("artisan1@demo.sisters-market.cn", DEMO_PASSWORD),
    ("buyer@demo.sisters-market.cn", DEMO_PASSWORD),
    ("staff@demo.sisters-market.cn", DEMO_PASSWORD),
])
def test_good_passwords_pass(email, password):
    check_password(password, email)


def test_name_parts():
    assert email_name_parts("Lin.XiaoYu+shop@Example.cn") == ["lin.xiaoyu", "xiaoyu"]
    assert email_name_parts("li@example.cn") == []
    assert email_name_parts("") == []
