"""A small client for the Stripe REST API, written with `requests`.

The same code talks to real Stripe, stripe-mock or localstripe: only the base URL and the
secret key (configuration) differ. Every call has a timeout; connection errors, timeouts,
429 and 5xx answers are retried with exponential backoff and the *same* Idempotency-Key, so
a retried create or confirm is applied once by a server that honours the key. (localstripe
does not; the application guarantees one PaymentIntent per order on its own.)
"""
from __future__ import annotations

import logging
import time
from typing import Any

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = {409, 429, 500, 502, 503, 504}


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
    """The payments API could not be reached (or kept failing) after every retry."""


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

    def __init__(self, api_base: str, secret_key: str, *, timeout: float = 10.0, connect_timeout: float = 3.0,
                 max_retries: int = 2, backoff: float = 0.25, session: requests.Session | None = None):
        self.api_base = api_base.rstrip("/")
        self.secret_key = secret_key
        self.timeout = (connect_timeout, timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.session = session or requests.Session()

    @classmethod
    def from_config(cls, config) -> StripeClient:
        return cls(
            config["STRIPE_API_BASE"], config["STRIPE_SECRET_KEY"],
            timeout=float(config.get("STRIPE_TIMEOUT", 10.0)),
            connect_timeout=float(config.get("STRIPE_CONNECT_TIMEOUT", 3.0)),
            max_retries=int(config.get("STRIPE_MAX_RETRIES", 2)),
            backoff=float(config.get("STRIPE_RETRY_BACKOFF", 0.25)),
        )

    # ---- transport ------------------------------------------------------------------

    def request(self, method: str, path: str, data: dict | None = None, *, idempotency_key: str | None = None) -> dict:
        url = f"{self.api_base}{path}"
        headers = {"Stripe-Version": "2024-06-20"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = encode_form(data) if data else None
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                resp = self.session.request(
                    method, url, data=body if method != "GET" else None, params=body if method == "GET" else None,
                    headers=headers, auth=(self.secret_key, ""), timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"{type(exc).__name__}"
                log.warning("payments API %s %s failed (attempt %s): %s", method, path, attempt + 1, last_problem)
                continue
            if resp.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {resp.status_code}"
                log.warning("payments API %s %s answered %s (attempt %s)", method, path, resp.status_code, attempt + 1)
                continue
            try:
                payload = resp.json()
            except ValueError:
                payload = {}
            if resp.status_code >= 400:
                error = payload.get("error") or {}
                raise StripeError(
                    error.get("message") or f"HTTP {resp.status_code}", status=resp.status_code,
                    code=error.get("code") or error.get("decline_code"), payload=error,
                )
            return payload
        raise PaymentsUnavailable(f"{method} {path}: {last_problem}")

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
