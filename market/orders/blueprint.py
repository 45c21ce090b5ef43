"""The orders blueprint and the helper its view modules share (market/orders/views.py for
checkout and paying, which registers buyer_views.py, shop_views.py and staff_views.py)."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from market.orders import guests, services

bp = Blueprint("orders", __name__)


def _buyer_order(order_id: int):
    """The order if this visitor may see it: her own, staff, or a guest order of this browser."""
    try:
        return services.order_for_viewer(current_user, order_id, guests.remembered())
    except services.NotFound:
        abort(404)
