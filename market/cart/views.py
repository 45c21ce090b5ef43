from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from market.cart import services
from market.core.views import _safe_next
from market.ids import MAX_ID, parse_int

bp = Blueprint("cart", __name__, url_prefix="/cart")


def _int(name: str, default: int = 0) -> int:
    """A product id or quantity from the form; 0 (no such product, remove) when malformed."""
    value = parse_int(request.form.get(name), low=0, high=MAX_ID)
    return default if value is None else value


@bp.get("/")
def view():
    cart = services.view_cart(current_user)
    if cart.dropped:
        flash(_("Some products are no longer available and were removed from your cart."), "info")
    return render_template("cart/cart.html", cart=cart)


@bp.post("/add")
def add():
    product_id = _int("product_id")
    try:
        product = services.add_item(current_user, product_id, max(_int("quantity", 1), 1))
    except services.CartError as e:
        flash(str(e), "error")
        return redirect(_safe_next(request.form.get("next")) if request.form.get("next") else url_for("cart.view"))
    flash(_("“%(title)s” is in your cart.", title=product.title), "success")
    return redirect(url_for("cart.view"))


@bp.post("/update")
def update():
    try:
        services.set_quantity(current_user, _int("product_id"), _int("quantity"))
    except services.CartError as e:
        flash(str(e), "error")
    return redirect(url_for("cart.view"))


@bp.post("/remove")
def remove():
    services.remove_item(current_user, _int("product_id"))
    return redirect(url_for("cart.view"))


@bp.app_context_processor
def cart_count():
    # The header shows the count on every page; a guest's cart costs no query.
    def count() -> int:
        try:
            return services.count_items(current_user)
        except Exception:  # the header must never break a page
            current_app.logger.exception("cart count failed")
            return 0

    return {"cart_count": count}


@user_logged_in.connect
def _merge_on_login(sender, user=None, **extra):
    # Flask-Login sends this from every login_user: logging in, registering, a password reset.
    services.merge_guest_cart(user)
