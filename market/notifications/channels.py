"""The mail channel: the notice's text through market.mail (SMTP, or the console), with a
one-click unsubscribe link and List-Unsubscribe headers on every mail that is not essential."""
from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from market import mail
from market.models import Notice
from market.notifications.kinds import KINDS

SALT = "notice-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    return _serializer().dumps([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        value = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
            or value[1] not in KINDS or KINDS[value[1]].essential):
        return None
    return value[0], value[1]


def public_url(path: str) -> str:
    if not path or "://" in path:
        return path
    base = current_app.config.get("PUBLIC_URL") or (request.host_url if has_request_context() else "")
    return base.rstrip("/") + path if base else path


class DeliveryError(RuntimeError):
    pass


def send_mail(notice: Notice) -> None:
    body, headers = notice.body, {}
    spec = KINDS.get(notice.kind)
    if notice.user_id and spec is not None and not spec.essential:
        link = public_url(f"/notices/unsubscribe/{unsubscribe_token(notice.user_id, notice.kind)}")
        with force_locale(notice.locale):
            body += "\n\n-- \n" + _("You receive this mail because of your notice settings. "
                                    "Stop these mails with one click: %(url)s", url=link)
        headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    if current_app.testing:
        mail.outbox().append(mail.build_message(notice.address, notice.subject, body, headers))
    if not mail.deliver_mail(notice.address, notice.subject, body, headers=headers, keep=False):
        raise DeliveryError(f"mail to {notice.address} not delivered")
