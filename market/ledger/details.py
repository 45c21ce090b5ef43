"""Payout details: entered by the artisan, encrypted at rest (Fernet: AES-128-CBC with an
HMAC), readable only by her (masked) and finance staff (masked, in full on a payout batch)."""
from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db
from market.models import Artisan, PayoutDetails, User

log = logging.getLogger(__name__)

METHODS = {"bank": _l("Bank account"), "wechat": _l("WeChat Pay"), "alipay": _l("Alipay")}


class DetailsError(ValueError):
    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def _fernet() -> Fernet:
    key = current_app.config.get("PAYOUT_DETAILS_KEY") or ""
    if not key:  # derived from SECRET_KEY (never the development one in production)
        key = base64.urlsafe_b64encode(hashlib.sha256(
            b"payout-details|" + str(current_app.config["SECRET_KEY"]).encode()).digest()).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        log.error("payout details cannot be decrypted: PAYOUT_DETAILS_KEY changed?")
        return ""


def mask_account(account: str) -> str:
    return ("*" * max(0, len(account) - 4) + account[-4:]) if len(account) > 4 else "*" * len(account)


def mask_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1) if name else ""


@dataclass
class Details:
    method: str
    bank_name: str
    account: str
    holder: str

    def masked(self) -> Details:
        return Details(self.method, self.bank_name, mask_account(self.account), mask_name(self.holder))


def details_of(artisan_id: int) -> Details | None:
    row = db.session.scalar(select(PayoutDetails).where(PayoutDetails.artisan_id == artisan_id))
    if row is None:
        return None
    return Details(row.method, row.bank_name, decrypt(row.account_encrypted), decrypt(row.holder_encrypted))


def masked_details(artisan_id: int) -> Details | None:
    found = details_of(artisan_id)
    return found.masked() if found else None


def save_details(user: User, *, method: str, account: str, holder: str, bank_name: str = "") -> None:
    artisan: Artisan | None = user.artisan
    if artisan is None:
        raise DetailsError(_l("Only artisans have payout details."))
    account = re.sub(r"\s", "", account or "")
    holder = " ".join((holder or "").split())
    bank_name = " ".join((bank_name or "").split())
    if method not in METHODS:
        raise DetailsError(_l("Choose how you are paid."), field="method")
    if method == "bank" and not re.fullmatch(r"\d{12,30}", account):
        raise DetailsError(_l("Enter the bank account number (12 to 30 digits)."), field="account")
    if method != "bank" and not re.fullmatch(r"[A-Za-z0-9_\-@.+]{5,60}", account):
        raise DetailsError(_l("Enter the account id (5 to 60 letters, digits, or a phone number)."), field="account")
    if not 1 <= len(holder) <= 40:
        raise DetailsError(_l("Enter the account holder's name."), field="holder")
    if method == "bank" and not 2 <= len(bank_name) <= 60:
        raise DetailsError(_l("Enter the bank's name."), field="bank_name")
    row = db.session.scalar(select(PayoutDetails).where(PayoutDetails.artisan_id == artisan.id))
    if row is None:
        row = PayoutDetails(artisan_id=artisan.id)
        db.session.add(row)
    row.method, row.bank_name = method, bank_name if method == "bank" else ""
    row.account_encrypted, row.holder_encrypted = encrypt(account), encrypt(holder)
    db.session.commit()
    log.info("payout details of artisan %s changed by user=%s", artisan.id, user.id)
