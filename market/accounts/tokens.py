"""Signed, expiring tokens for links sent by mail (password reset, email verification).

itsdangerous signs a small JSON payload with SECRET_KEY and the time it was made; each kind of
link has its own salt, so one kind is never accepted as another. The payloads are readable by
whoever holds the link (they are signed, not encrypted), so they carry ids and fingerprints,
never secrets. `now` (seconds since the epoch) replaces the clock, for tests and for callers
that must agree on one instant."""
from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

PASSWORD_RESET = "password-reset"
EMAIL_VERIFICATION = "email-verification"


class TokenInvalid(ValueError):
    """Tampered with, malformed, made for another purpose, or expired (`expired` says which)."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class _ClockSigner(TimestampSigner):
    """A TimestampSigner whose clock can be set (itsdangerous reads time.time() otherwise)."""

    def __init__(self, *args: Any, now: float | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now) if self._now is not None else super().get_timestamp()


def _serializer(purpose: str, now: float | None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"market.accounts.{purpose}",
                                  signer=_ClockSigner, signer_kwargs={"now": now})


def make(purpose: str, payload: dict[str, Any], *, now: float | None = None) -> str:
    return _serializer(purpose, now).dumps(payload)


def read(purpose: str, token: str, max_age: int, *, now: float | None = None) -> dict[str, Any]:
    """The payload of a valid token younger than `max_age` seconds, else TokenInvalid."""
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise TokenInvalid()
    try:
        payload = _serializer(purpose, now).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenInvalid(expired=True) from None
    except (BadData, ValueError, UnicodeError):  # BadData: every other itsdangerous refusal
        raise TokenInvalid() from None
    if not isinstance(payload, dict):
        raise TokenInvalid()
    return payload
