"""Outgoing mail: logged to the console in development, sent over SMTP when MAIL_SERVER is
set. Sending never raises into the caller: a notification must not undo a payment."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def outbox() -> list[EmailMessage]:
    """Messages sent while the app is TESTING (for assertions)."""
    return current_app.extensions.setdefault("mail_outbox", [])


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def send_mail(to: str, subject: str, body: str) -> bool:
    if not to:
        return False
    msg = build_message(to, subject, body)
    cfg = current_app.config
    if current_app.testing:
        outbox().append(msg)
    if not cfg.get("MAIL_SERVER"):
        log.info("mail (console backend) to=%s subject=%s\n%s", to, subject, body)
        return True
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.exception("mail to %s failed (subject %s)", to, subject)
        return False
    log.info("mail sent to=%s subject=%s", to, subject)
    return True
