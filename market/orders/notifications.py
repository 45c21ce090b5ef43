"""Mail to the buyer and the artisans when an order is paid or a parcel ships: receivers of
the order signals, so market.orders.operations knows nothing about mail."""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from market import signals
from market.extensions import db
from market.mail import send_mail
from market.models import Artisan, Order, SubOrder


def _locale():
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


def _order_url(order: Order) -> str:
    try:
        return url_for("orders.order", order_id=order.id, _external=True)
    except RuntimeError:  # no request (CLI, jobs): a path is still useful
        return f"/orders/{order.id}"


def notify_paid(order: Order, **_extra) -> None:
    if not isinstance(order, Order):  # someone else's signal of the same name (tests, tools)
        return
    with force_locale(_locale()):
        send_mail(order.buyer.email, _("Order %(number)s is paid", number=order.number),
                  _("Thank you! We have received your payment of %(amount)s. Follow your order at %(url)s",
                    amount=f"¥{order.total_fen / 100:.2f}", url=_order_url(order)))
        for sub in order.sub_orders:
            artisan = db.session.get(Artisan, sub.artisan_id)
            items = "\n".join(f"- {ln.title} × {ln.quantity}" for ln in sub.lines)
            send_mail(artisan.user.email, _("New order %(number)s to ship", number=sub.number),
                      _("Please ship these items to %(name)s:", name=order.ship_name) + "\n" + items)


def notify_shipped(sub: SubOrder, **_extra) -> None:
    if not isinstance(sub, SubOrder):
        return
    order = sub.order
    with force_locale(_locale()):
        send_mail(order.buyer.email, _("Your order %(number)s has shipped", number=order.number),
                  _("%(shop)s has shipped your items with %(carrier)s, tracking number %(tracking)s.",
                    shop=sub.artisan_name, carrier=sub.carrier, tracking=sub.tracking_number))


def connect() -> None:
    # weak=False: the receivers are module functions, kept for the life of the process anyway.
    signals.order_paid.connect(notify_paid, weak=False)
    signals.sub_order_shipped.connect(notify_shipped, weak=False)


connect()
