"""SMS senders: `console` (logged, and kept for tests and /dev/notices) and `http`, a generic
adapter for an operator's gateway: POST to SMS_HTTP_URL with a body made from SMS_HTTP_BODY
(`{phone}` and `{text}` are replaced, JSON-escaped when the content type is JSON, form-encoded
otherwise), with a bearer token or basic credentials. Any answer other than 2xx is a failure
(retried by the notification service)."""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Protocol
from urllib.parse import quote_plus

import requests
from flask import current_app

log = logging.getLogger(__name__)

PHONE = re.compile(r"^\+?[0-9]{7,15}$")


class SmsError(RuntimeError):
    pass


def _compact(phone: str) -> str:
    # NFKC: full-width digits and plus from a Chinese input method (１３８…, ＋８６) become ASCII.
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", phone))


def valid_phone(phone: str | None) -> bool:
    return bool(phone) and bool(PHONE.match(_compact(phone)))


def normalise_phone(phone: str | None) -> str | None:
    """Digits (and a leading +) of a valid number, in ASCII; None when empty or invalid."""
    return _compact(phone) if valid_phone(phone) else None


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


def outbox() -> list[tuple[str, str]]:
    """SMS the console backend sent while the app is TESTING."""
    return current_app.extensions.setdefault("sms_outbox", [])


class ConsoleSms:
    def send(self, phone: str, text: str) -> None:
        if not valid_phone(phone):
            raise SmsError(f"not a phone number: {phone!r}")
        log.warning("sms (console backend, not sent) to=%s\n%s", phone, text)
        if current_app.testing:
            outbox().append((phone, text))


class HttpSms:
    def __init__(self, url: str, body: str, content_type: str = "application/json", token: str = "",
                 username: str = "", password: str = "", timeout: float = 5.0) -> None:
        self.url, self.body, self.content_type = url, body, content_type
        self.token, self.username, self.password, self.timeout = token, username, password, timeout

    def payload(self, phone: str, text: str) -> str:
        if "json" in self.content_type:
            esc = lambda s: json.dumps(s, ensure_ascii=False)[1:-1]  # noqa: E731
        else:
            esc = quote_plus
        return self.body.replace("{phone}", esc(phone)).replace("{text}", esc(text))

    def send(self, phone: str, text: str) -> None:
        if not valid_phone(phone):
            raise SmsError(f"not a phone number: {phone!r}")
        headers = {"Content-Type": f"{self.content_type}; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        auth = (self.username, self.password) if self.username else None
        try:
            resp = requests.post(self.url, data=self.payload(phone, text).encode("utf-8"), headers=headers,
                                 auth=auth, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsError(f"gateway unreachable: {exc}") from None
        if not 200 <= resp.status_code < 300:
            raise SmsError(f"gateway answered {resp.status_code}: {resp.text[:120]}")


def sender() -> SmsSender:
    cfg = current_app.config
    if cfg.get("SMS_BACKEND") == "http":
        return HttpSms(cfg["SMS_HTTP_URL"], cfg["SMS_HTTP_BODY"], cfg.get("SMS_HTTP_CONTENT_TYPE") or "application/json",
                       token=cfg.get("SMS_HTTP_TOKEN", ""), username=cfg.get("SMS_HTTP_USERNAME", ""),
                       password=cfg.get("SMS_HTTP_PASSWORD", ""), timeout=float(cfg.get("SMS_HTTP_TIMEOUT", 5.0)))
    return ConsoleSms()
