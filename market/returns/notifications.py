"""Mail about refund requests: to the artisan when one is opened, to the buyer when it is
answered, to staff when it is escalated. Sent through market.mail.send_mail for now (the
notification service will carry them later)."""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from market.extensions import db
from market.mail import send_mail
from market.models import Artisan, RefundRequest, User, UserRole
from market.returns import states
from market.timefmt import localtime


def _locale():
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, _external=True, **values)
    except RuntimeError:  # no request (CLI, jobs): a path is still useful
        with current_app.test_request_context():
            return url_for(endpoint, **values)


def _yuan(fen: int | None) -> str:
    return f"¥{(fen or 0) / 100:.2f}"


def opened(record: RefundRequest) -> None:
    artisan = db.session.get(Artisan, record.artisan_id)
    with force_locale(_locale()):
        send_mail(artisan.user.email, _("Refund request %(number)s for order %(order)s", number=record.number,
                                        order=record.order.number),
                  _("A buyer asks for %(kind)s of %(amount)s (%(reason)s). Please answer by %(date)s at %(url)s",
                    kind=states.KIND_LABELS[record.kind], amount=_yuan(record.amount_fen),
                    reason=states.REASON_LABELS[record.reason], date=localtime(record.respond_by),
                    url=_url("returns.shop_request", request_id=record.id)))


def _to_buyer(record: RefundRequest, subject: str, body: str) -> None:
    buyer = db.session.get(User, record.buyer_id)
    send_mail(buyer.email, subject, body + "\n" + _url("orders.order", order_id=record.order_id))


def decided(record: RefundRequest) -> None:
    with force_locale(_locale()):
        if record.status == "refunded":
            body = _("Your request %(number)s was accepted: %(amount)s is refunded to your card.",
                     number=record.number, amount=_yuan(record.refund_fen))
        elif record.status == "awaiting_return":
            body = _("Your return %(number)s was accepted. Please send the parcel back; the refund of %(amount)s "
                     "is made when it arrives.", number=record.number, amount=_yuan(record.refund_fen))
        else:
            body = _("Your request %(number)s was declined: %(note)s", number=record.number,
                     note=record.decision_note)
        _to_buyer(record, _("Your refund request %(number)s: %(state)s", number=record.number,
                            state=states.LABELS[record.status]), body)


def offered(record: RefundRequest) -> None:
    with force_locale(_locale()):
        _to_buyer(record, _("Your refund request %(number)s: %(state)s", number=record.number,
                            state=states.LABELS[record.status]),
                  _("The shop offers a partial refund of %(amount)s: %(note)s. Accept it or send the request to "
                    "the federation's staff on your order page.", amount=_yuan(record.offered_fen),
                    note=record.decision_note))


def escalated(record: RefundRequest) -> None:
    staff = db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                               .where(UserRole.role == "staff")).unique().all()
    with force_locale(_locale()):
        subject = _("Refund request %(number)s needs a decision", number=record.number)
        body = _("Refund request %(number)s on order %(order)s (%(amount)s) waits for staff: %(url)s",
                 number=record.number, order=record.order.number, amount=_yuan(record.amount_fen),
                 url=_url("returns.staff_requests"))
        for user in staff:
            send_mail(user.email, subject, body)
        _to_buyer(record, _("Your refund request %(number)s: %(state)s", number=record.number,
                            state=states.LABELS[record.status]),
                  _("The federation's staff will decide on your request %(number)s.", number=record.number))
