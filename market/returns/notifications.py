"""Notices about refund requests: to the artisan when one is opened or withdrawn, to the buyer
when it is answered, to staff when it is escalated. Through the one notification service
(market.notifications.notify: in-app and mail, in each reader's language, once per event).
Called after the request's own commit, so each records and commits its notices itself."""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from market.extensions import db
from market.models import Artisan, RefundRequest, User
from market.notifications import after_the_fact, notify, notify_many, staff_members
from market.returns import states
from market.timefmt import localtime


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request (CLI, jobs)
        with current_app.test_request_context():
            return url_for(endpoint, **values)


def _yuan(fen: int | None) -> str:
    return f"¥{(fen or 0) / 100:.2f}"


@after_the_fact
def opened(record: RefundRequest) -> None:
    artisan = db.session.get(Artisan, record.artisan_id)
    notify(artisan.user, "refund_request_opened",
           {"number": record.number, "order": record.order.number, "kind": states.KIND_LABELS[record.kind],
            "amount": _yuan(record.amount_fen), "reason": states.REASON_LABELS[record.reason],
            "date": localtime(record.respond_by), "url": _url("returns.shop_request", request_id=record.id)},
           event=f"refund_request_opened:{record.id}")
    db.session.commit()


def _to_buyer(record: RefundRequest, message, step: str) -> None:
    buyer = db.session.get(User, record.buyer_id)
    notify(buyer, "refund_request_update",
           {"number": record.number, "state": states.LABELS[record.status], "message": message,
            "url": _url("orders.order", order_id=record.order_id)},
           event=f"refund_request_update:{record.id}:{step}:{record.status}")


@after_the_fact
def decided(record: RefundRequest) -> None:
    if record.status == "refunded":
        message = _l("Your request %(number)s was accepted: %(amount)s is refunded to your card.",
                     number=record.number, amount=_yuan(record.refund_fen))
    elif record.status == "awaiting_return":
        message = _l("Your return %(number)s was accepted. Please send the parcel back; the refund of %(amount)s "
                     "is made when it arrives.", number=record.number, amount=_yuan(record.refund_fen))
    else:
        message = _l("Your request %(number)s was declined: %(note)s", number=record.number,
                     note=record.decision_note)
    _to_buyer(record, message, "decided")
    _to_shop(record)
    db.session.commit()


def _to_shop(record: RefundRequest) -> None:
    """Staff decided, or the buyer took the shop's offer: the shop hears the outcome (her own
    answers she knows already)."""
    artisan = db.session.get(Artisan, record.artisan_id)
    if artisan is None or record.decided_by_id == artisan.user_id:
        return
    if record.status == "refunded":
        message = _l("Refund request %(number)s on order %(order)s: %(amount)s is refunded to the buyer.",
                     number=record.number, order=record.order.number, amount=_yuan(record.refund_fen))
    elif record.status == "awaiting_return":
        message = _l("Refund request %(number)s on order %(order)s: the return is accepted and the buyer sends the "
                     "parcel back to you. When it arrives, record it on the request's page; the buyer is then "
                     "refunded %(amount)s.", number=record.number, order=record.order.number,
                     amount=_yuan(record.refund_fen))
    else:
        message = _l("Refund request %(number)s on order %(order)s was declined: %(note)s", number=record.number,
                     order=record.order.number, note=record.decision_note)
    notify(artisan.user, "refund_request_decided",
           {"number": record.number, "state": states.LABELS[record.status], "message": message,
            "url": _url("returns.shop_request", request_id=record.id)},
           event=f"refund_request_decided:{record.id}:{record.status}")


@after_the_fact
def withdrawn(record: RefundRequest) -> None:
    """The buyer withdrew her request: the shop, asked to answer it, hears it needs no answer."""
    artisan = db.session.get(Artisan, record.artisan_id)
    if artisan is None:
        return
    notify(artisan.user, "refund_request_decided",
           {"number": record.number, "state": states.LABELS[record.status],
            "message": _l("The buyer withdrew refund request %(number)s on order %(order)s; it needs no answer.",
                          number=record.number, order=record.order.number),
            "url": _url("returns.shop_request", request_id=record.id)},
           event=f"refund_request_decided:{record.id}:{record.status}")
    db.session.commit()


@after_the_fact
def offered(record: RefundRequest) -> None:
    _to_buyer(record, _l("The shop offers a partial refund of %(amount)s: %(note)s. Accept it or send the request "
                         "to the federation's staff on your order page.", amount=_yuan(record.offered_fen),
                         note=record.decision_note), f"offered-{record.offered_fen}")
    db.session.commit()


@after_the_fact
def escalated(record: RefundRequest) -> None:
    notify_many(staff_members(), "refund_request_escalated",
                {"number": record.number, "order": record.order.number, "amount": _yuan(record.amount_fen),
                 "url": _url("returns.staff_requests")}, event=f"refund_request_escalated:{record.id}")
    _to_buyer(record, _l("The federation's staff will decide on your request %(number)s.", number=record.number),
              "escalated")
    db.session.commit()
