"""The password policy: at least MIN_LENGTH characters, not one of the commonest passwords, and
not containing the name part of the owner's email address. One function, used by registration,
password change and reset (the forms show its message next to the password field)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 128
# A name part shorter than this (e.g. "li@...") is too common a fragment to refuse; the pieces
# of a dotted name part ("lin.xiaoyu") must be a little longer, or every 3-letter surname would
# rule out ordinary words.
MIN_NAME_PART = 3
MIN_NAME_PIECE = 4
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


class PasswordPolicyError(ValueError):
    """The password breaks the policy; the message is safe to show."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def email_name_parts(email: str) -> list[str]:
    """The local part of the address (without a +tag) and its pieces, when long enough:
    "Lin.XiaoYu+shop@example.cn" gives ["lin.xiaoyu", "xiaoyu"]."""
    local = (email or "").strip().lower().partition("@")[0].partition("+")[0]
    parts = [local] if len(local) >= MIN_NAME_PART else []
    parts += [p for p in re.split(r"[^0-9a-z]+", local) if len(p) >= MIN_NAME_PIECE]
    return list(dict.fromkeys(parts))


def check_password(password: str, email: str) -> None:
    """Raise PasswordPolicyError with a reader-facing message when `password` may not be used."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords():
        raise PasswordPolicyError(_l("This password is one of the most common ones and easy to guess. "
                                     "Please choose another."))
    if any(part in lowered for part in email_name_parts(email)):
        raise PasswordPolicyError(_l("The password must not contain the name part of your email address."))
