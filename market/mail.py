"""Outgoing mail: logged to the console in development, sent over SMTP when MAIL_SERVER is
set, from a background job when REDIS_URL is set (market.jobs). Sending never raises into
the caller: a notification must not undo a payment."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from market import jobs

log = logging.getLogger(__name__)


def outbox() -> list[EmailMessage]:
    """Messages sent while the app is TESTING (for assertions)."""
    return current_app.extensions.setdefault("mail_outbox", [])


def build_message(to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def send_mail(to: str, subject: str, body: str) -> bool:
    """Queue a message (a background job with retries when REDIS_URL is set; sent at once
    otherwise). True when it was sent or queued."""
    if not to:
        return False
    if current_app.testing:
        outbox().append(build_message(to, subject, body))
    try:
        result = jobs.enqueue("send_mail", to, subject, body)
    except jobs.JobFailed:
        return False  # sent inline and failed: already logged
    return bool(result)


def deliver_mail(to: str, subject: str, body: str, headers: dict[str, str] | None = None, keep: bool = True) -> bool:
    """Send one message now: to the console without MAIL_SERVER, else over SMTP. `keep`: list
    it on the development page (notices are listed there from their own table)."""
    msg = build_message(to, subject, body, headers)
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        from market import devmail

        log.warning("mail (console backend, not sent: MAIL_SERVER is empty) to=%s subject=%s\n%s", to, subject, body)
        if keep:
            devmail.keep(to, subject, body)
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


@jobs.task("send_mail", retry=jobs.MAIL_RETRY_INTERVALS)
def _send_mail_job(to: str, subject: str, body: str) -> bool:
    if not deliver_mail(to, subject, body):
        raise jobs.JobFailed(f"mail to {to} not delivered")
    return True
