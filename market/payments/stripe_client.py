"""A small client for the Stripe REST API, written with `requests`.

The same code talks to real Stripe, stripe-mock or localstripe: only the base URL and the
secret key (configuration) differ. Every call has one total budget (`budget` seconds, the
STRIPE_CALL_BUDGET setting) that covers every attempt, its timeouts and the pauses between
them, so a hung API costs a worker at most that long (well below gunicorn's timeout).
Connection errors, timeouts, 429 and 5xx answers are retried within the budget with
exponential backoff and the *same* Idempotency-Key, so a retried create or confirm is applied
once by a server that honours the key. (localstripe does not; the application's database
records guarantee one PaymentIntent per order and one refund per reservation on their own.)
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from typing import Any

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = {409, 429, 500, 502, 503, 504}
# A deadline shared by every call made inside `StripeClient.deadline(...)` (one request's).
_shared_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("stripe_deadline", default=None)


class StripeError(Exception):
    """The payments API answered with an error (4xx). `code` is Stripe's error code."""

    def __init__(self, message: str, *, status: int, code: str | None = None, payload: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.payload = payload or {}

    @property
    def is_card_error(self) -> bool:
        return self.status == 402 or self.payload.get("type") == "card_error"


class PaymentsUnavailable(Exception):
    """The payments API could not be reached (or kept failing) within the call's budget.

    `maybe_applied` is False only when no attempt can have reached the API (every one failed
    to connect): then a refused refund may be released at once; otherwise it stays reserved
    until the API has been asked what happened."""

    def __init__(self, message: str, *, maybe_applied: bool = True):
        super().__init__(message)
        self.maybe_applied = maybe_applied


def _never_sent(exc: Exception) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return "NewConnectionError" in text or "Connection refused" in text
    return False


def encode_form(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: nested dicts as a[b][c]=v, lists as a[0]=v, booleans as true/false."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            pairs.extend(encode_form(value, name))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    pairs.extend(encode_form(item, f"{name}[{i}]"))
                else:
                    pairs.append((f"{name}[{i}]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StripeClient:
    """Parameters only in __init__; one `requests.Session` per client for connection reuse."""

    def __init__(self, api_base: str, secret_key: str, *, timeout: float = 5.0, connect_timeout: float = 2.0,
                 max_retries: int = 2, backoff: float = 0.25, budget: float = 8.0,
                 session: requests.Session | None = None):
        self.api_base = api_base.rstrip("/")
        self.secret_key = secret_key
        self.timeout = (connect_timeout, timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.budget = budget
        self.session = session or requests.Session()

    @classmethod
    def from_config(cls, config) -> StripeClient:
        return cls(
            config["STRIPE_API_BASE"], config["STRIPE_SECRET_KEY"],
            timeout=float(config.get("STRIPE_TIMEOUT", 5.0)),
            connect_timeout=float(config.get("STRIPE_CONNECT_TIMEOUT", 2.0)),
            max_retries=int(config.get("STRIPE_MAX_RETRIES", 2)),
            backoff=float(config.get("STRIPE_RETRY_BACKOFF", 0.25)),
            budget=float(config.get("STRIPE_CALL_BUDGET", 8.0)),
        )

    # ---- transport ------------------------------------------------------------------

    @contextlib.contextmanager
    def deadline(self, seconds: float):
        """Every call inside shares one budget of `seconds` (e.g. all the calls of one payment)."""
        outer = _shared_deadline.get()
        mine = time.monotonic() + seconds
        token = _shared_deadline.set(min(mine, outer) if outer is not None else mine)
        try:
            yield
        finally:
            _shared_deadline.reset(token)

    def request(self, method: str, path: str, data: dict | None = None, *, idempotency_key: str | None = None) -> dict:
        url = f"{self.api_base}{path}"
        headers = {"Stripe-Version": "2024-06-20"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = encode_form(data) if data else None
        last_problem = "no attempt within the budget"
        deadline = time.monotonic() + self.budget
        shared = _shared_deadline.get()
        if shared is not None:
            deadline = min(deadline, shared)
        maybe_applied = False
        for attempt in range(self.max_retries + 1):
            if attempt:
                pause = self.backoff * (2 ** (attempt - 1))
                if time.monotonic() + pause >= deadline:
                    break
                time.sleep(pause)
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            # Each socket wait is capped by what is left of the call's budget.
            timeout = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
            try:
                resp = self.session.request(
                    method, url, data=body if method != "GET" else None, params=body if method == "GET" else None,
                    headers=headers, auth=(self.secret_key, ""), timeout=timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"{type(exc).__name__}"
                maybe_applied = maybe_applied or not _never_sent(exc)
                log.warning("payments API %s %s failed (attempt %s): %s", method, path, attempt + 1, last_problem)
                continue
            if resp.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {resp.status_code}"
                maybe_applied = maybe_applied or resp.status_code >= 500
                log.warning("payments API %s %s answered %s (attempt %s)", method, path, resp.status_code, attempt + 1)
                continue
            try:
                payload = resp.json()
            except ValueError:
                payload = {}
            if not isinstance(payload, dict):
                payload = {}
            if resp.status_code >= 400:
                error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
                raise StripeError(
                    error.get("message") or f"HTTP {resp.status_code}", status=resp.status_code,
                    code=error.get("code") or error.get("decline_code"), payload=error,
                )
            return payload
        raise PaymentsUnavailable(f"{method} {path}: {last_problem}", maybe_applied=maybe_applied)

    # ---- PaymentIntents -------------------------------------------------------------

    def create_payment_intent(self, *, amount: int, currency: str, metadata: dict, idempotency_key: str) -> dict:
        return self.request("POST", "/v1/payment_intents", {
            "amount": amount, "currency": currency, "metadata": metadata, "payment_method_types": ["card"],
        }, idempotency_key=idempotency_key)

    def retrieve_payment_intent(self, pi_id: str) -> dict:
        return self.request("GET", f"/v1/payment_intents/{pi_id}")

    def attach_payment_method(self, pi_id: str, payment_method: str, *, idempotency_key: str) -> dict:
        # Set the method, then confirm with an empty body: works on Stripe and localstripe alike.
        return self.request("POST", f"/v1/payment_intents/{pi_id}", {"payment_method": payment_method},
                            idempotency_key=idempotency_key)

    def confirm_payment_intent(self, pi_id: str, *, idempotency_key: str) -> dict:
        return self.request("POST", f"/v1/payment_intents/{pi_id}/confirm", idempotency_key=idempotency_key)

    def cancel_payment_intent(self, pi_id: str, *, idempotency_key: str) -> dict:
        return self.request("POST", f"/v1/payment_intents/{pi_id}/cancel", idempotency_key=idempotency_key)

    # ---- PaymentMethods -------------------------------------------------------------

    def create_card_payment_method(self, *, number: str, exp_month: int, exp_year: int, cvc: str,
                                   idempotency_key: str | None = None) -> dict:
        """Server-side card entry, for tests and tools against test servers only: card data is
        passed through, never stored or logged."""
        return self.request("POST", "/v1/payment_methods", {
            "type": "card", "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
        }, idempotency_key=idempotency_key)

    def create_payment_method_from_token(self, token: str, *, idempotency_key: str | None = None) -> dict:
        return self.request("POST", "/v1/payment_methods", {"type": "card", "card": {"token": token}},
                            idempotency_key=idempotency_key)

    # ---- Refunds --------------------------------------------------------------------

    def create_refund(self, *, payment_intent: str, amount: int | None, metadata: dict, idempotency_key: str) -> dict:
        return self.request("POST", "/v1/refunds", {
            "payment_intent": payment_intent, "amount": amount, "metadata": metadata,
        }, idempotency_key=idempotency_key)

    def retrieve_refund(self, refund_id: str) -> dict:
        return self.request("GET", f"/v1/refunds/{refund_id}")

    def list_refunds(self, payment_intent: str) -> list[dict]:
        return self.request("GET", "/v1/refunds", {"payment_intent": payment_intent, "limit": 100}).get("data") or []
