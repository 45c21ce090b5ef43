"""The artisan's sub-orders (ship, delivered) and sales. Same blueprint as market/orders/views.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.auth import role_required
from market.orders import (
    operations,
    services,
    states,
)
from market.orders.blueprint import bp
from market.orders.forms import ShipForm


def _artisan():
    artisan = current_user.artisan
    if artisan is None:
        abort(403)
    return artisan


@bp.get("/shop/orders")
@role_required("artisan")
def shop_orders():
    status = request.args.get("status") or None
    status = status if status in states.SUB_ORDER_STATE_LABELS else None
    subs = services.artisan_sub_orders(_artisan(), status)
    from market.artisans import dashboard
    from market.returns import services as requests

    return render_template("orders/shop_orders.html", sub_orders=subs, status=status, ship_form=ShipForm(),
                           requests_by_sub=requests.for_sub_orders([s.id for s in subs]),
                           refunds_by_sub=dashboard.refunds_by_sub_order(subs))


@bp.post("/shop/orders/<int:sub_order_id>/ship")
@role_required("artisan")
def ship(sub_order_id: int):
    form = ShipForm()
    try:
        operations.ship(current_user, sub_order_id, form.carrier.data or "", form.tracking_number.data or "")
    except services.NotFound:
        abort(404)
    except (services.OrderError, states.InvalidTransition) as e:
        flash(str(e), "error")
    else:
        flash(_("Marked as shipped. The buyer has been notified."), "success")
    return redirect(url_for("orders.shop_orders"))


@bp.post("/shop/orders/<int:sub_order_id>/delivered")
@role_required("artisan")
def delivered(sub_order_id: int):
    try:
        operations.deliver(current_user, sub_order_id)
    except services.NotFound:
        abort(404)
    except states.InvalidTransition as e:
        flash(str(e), "error")
    else:
        flash(_("Marked as delivered."), "success")
    return redirect(url_for("orders.shop_orders"))


@bp.get("/shop/sales")
@role_required("artisan")
def sales():
    months, total = services.sales_summary(_artisan())
    return render_template("orders/sales.html", months=months, total=total)
