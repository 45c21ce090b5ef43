"""Notices to the buyer and the artisans when an order is paid or a parcel ships: receivers of
the order signals (sent after the operation's commit), so market.orders.operations knows
nothing about notices. Each event reaches each person once (event ids)."""
from __future__ import annotations

from flask import url_for

from market import signals
from market.extensions import db
from market.models import Artisan, Order, SubOrder
from market.notifications.service import after_the_fact, notify


def _url(endpoint: str, fallback: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request (CLI, jobs): the path is still useful
        return fallback


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


@after_the_fact
def notify_paid(order: Order, **_extra) -> None:
    if not isinstance(order, Order):  # someone else's signal of the same name (tests, tools)
        return
    if order.buyer_id is None:  # a guest: her confirmation and the link to her order, by mail
        from market.orders import guests

        guests.send_link(order, paid=True)
    notify(order.buyer, "order_paid", {"number": order.number, "amount": _yuan(order.total_fen),
                                       "url": _url("orders.order", f"/orders/{order.id}", order_id=order.id)},
           event=f"order_paid:{order.id}")
    for sub in order.sub_orders:
        artisan = db.session.get(Artisan, sub.artisan_id)
        items = "\n".join(f"- {ln.title} × {ln.quantity}" for ln in sub.lines)
        notify(artisan.user, "order_to_ship", {"number": sub.number, "name": order.ship_name, "items": items,
                                               "url": _url("artisans.dashboard", "/shop/")},
               event=f"order_to_ship:{sub.id}")
    db.session.commit()


@after_the_fact
def notify_shipped(sub: SubOrder, **_extra) -> None:
    if not isinstance(sub, SubOrder):
        return
    order = sub.order
    if order.buyer_id is None and order.guest_email:
        from market.orders import guests

        guests.send_shipped(order, sub)
    notify(order.buyer, "order_shipped", {"number": order.number, "shop": sub.artisan_name, "carrier": sub.carrier,
                                          "tracking": sub.tracking_number,
                                          "url": _url("orders.order", f"/orders/{order.id}", order_id=order.id)},
           event=f"order_shipped:{sub.id}")
    db.session.commit()


def connect() -> None:
    # weak=False: the receivers are module functions, kept for the life of the process anyway.
    signals.order_paid.connect(notify_paid, weak=False)
    signals.sub_order_shipped.connect(notify_shipped, weak=False)
    from market.orders import guests

    guests.connect()  # guest orders join an account when its email is verified


connect()
