"""Checkout, paying, the buyer's orders, the artisan's sub-orders and sales, staff orders."""
from __future__ import annotations

import secrets

import click
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import security
from market.artisans.services import yuan_to_fen
from market.auth import role_required, staff_required
from market.cart import services as cart
from market.ids import parse_page
from market.orders import services, states
from market.orders.forms import CheckoutForm, RefundForm, ShipForm
from market.payments import services as payments
from market.payments.stripe_client import PaymentsUnavailable, StripeError

bp = Blueprint("orders", __name__)

UNAVAILABLE = lambda: _(  # noqa: E731
    "The payment service cannot be reached right now. Your order is saved and nothing was charged; "
    "please try again in a moment."
)


@bp.app_context_processor
def order_labels():
    return {"order_state_labels": states.ORDER_STATE_LABELS, "sub_order_state_labels": states.SUB_ORDER_STATE_LABELS,
            "payment_error_message": payments.payment_error_message}


# ---- checkout --------------------------------------------------------------------------

@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout():
    if request.method == "POST":
        # A double-submitted form: the first submit placed the order and emptied the cart;
        # the second lands on the same order instead of an empty cart.
        placed = services.order_for_checkout_token(current_user, request.form.get("checkout_token", ""))
        if placed is not None:
            return redirect(url_for("orders.pay", order_id=placed.id))
    view = cart.view_cart(current_user)
    if not view.lines:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("cart.view"))
    form = CheckoutForm()
    if request.method == "GET":
        last = services.last_address(current_user)
        if last:
            form.ship_name.data, form.ship_phone.data, form.ship_address.data = last.name, last.phone, last.address
        else:
            form.ship_name.data, form.ship_phone.data = current_user.name, current_user.phone
        form.checkout_token.data = secrets.token_urlsafe(24)
    if form.validate_on_submit():
        address = services.Address(form.ship_name.data, form.ship_phone.data, form.ship_address.data)
        items = {line.product.id: line.quantity for line in view.lines}
        try:
            order = services.place_order(current_user, items, address, form.checkout_token.data)
        except services.OutOfStock as e:
            flash(str(e), "error")
            return redirect(url_for("cart.view"))
        except services.OrderError as e:
            form.ship_address.errors.append(str(e))
        else:
            cart.clear(current_user)
            try:
                payments.ensure_payment_intent(order)
            except PaymentsUnavailable:
                flash(UNAVAILABLE(), "error")
            return redirect(url_for("orders.pay", order_id=order.id))
    return render_template("orders/checkout.html", form=form, cart=view)


def _buyer_order(order_id: int):
    try:
        return services.order_for_buyer(current_user, order_id)
    except services.NotFound:
        abort(404)


def _stripe_js_url() -> str:
    return security.stripe_js_url(current_app.config)


@bp.get("/orders/<int:order_id>/pay")
@login_required
def pay(order_id: int):
    order = payments.reconcile(_buyer_order(order_id))
    if order.status != "pending_payment":
        return redirect(url_for("orders.order", order_id=order.id))
    unavailable = False
    if not order.payment_intent_id:
        try:
            payments.ensure_payment_intent(order)
        except PaymentsUnavailable:
            unavailable = True
    return render_template("orders/pay.html", order=order, unavailable=unavailable, stripe_js_url=_stripe_js_url(),
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"])


@bp.post("/orders/<int:order_id>/pay")
@login_required
def pay_submit(order_id: int):
    """JSON from checkout.js: a card token made by Stripe.js (card data never comes here)."""
    order = _buyer_order(order_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):  # a list, a string, a number, or a form post
        data = request.form
    token, card_id = str(data.get("token") or ""), str(data.get("card") or "")
    order_url = url_for("orders.order", order_id=order.id)
    if not token.startswith("tok_"):
        return jsonify(error={"code": 400, "message": _("The card details are incomplete.")}), 400
    try:
        outcome = payments.pay(order, payments.payment_method_for_token(token, card_id))
    except PaymentsUnavailable:
        return jsonify(status="unavailable", message=UNAVAILABLE(), redirect=order_url), 503
    except (payments.PaymentError, StripeError) as e:
        return jsonify(status="error", message=str(getattr(e, "message", e)), redirect=order_url), 400
    return jsonify(status=outcome.status, message=str(outcome.message), client_secret=outcome.client_secret,
                   redirect=order_url, cart_url=url_for("cart.view"))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id: int):
    order = _buyer_order(order_id)
    try:
        if not payments.fail_order(order, reason="cancelled_by_buyer", code="cancelled_by_buyer"):
            flash(_("This order can no longer be cancelled."), "error")
        else:
            flash(_("The order is cancelled and its items are back in your cart."), "success")
    except PaymentsUnavailable:
        flash(UNAVAILABLE(), "error")
    return redirect(url_for("orders.order", order_id=order.id))


# ---- the buyer's orders -----------------------------------------------------------------

@bp.get("/orders/")
@login_required
def my_orders():
    return render_template("orders/list.html", orders=services.buyer_orders(current_user))


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    order = payments.reconcile(_buyer_order(order_id))
    return render_template("orders/order.html", order=order)


@bp.post("/orders/parcels/<int:sub_order_id>/received")
@login_required
def received(sub_order_id: int):
    try:
        sub = services.mark_delivered(current_user, sub_order_id)
    except services.NotFound:
        abort(404)
    except states.InvalidTransition as e:
        flash(str(e), "error")
        return redirect(url_for("orders.my_orders"))
    flash(_("Thank you for confirming receipt."), "success")
    return redirect(url_for("orders.order", order_id=sub.order_id))


# ---- artisans ---------------------------------------------------------------------------

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
    return render_template("orders/shop_orders.html", sub_orders=subs, status=status, ship_form=ShipForm())


@bp.post("/shop/orders/<int:sub_order_id>/ship")
@role_required("artisan")
def ship(sub_order_id: int):
    form = ShipForm()
    try:
        services.mark_shipped(current_user, sub_order_id, form.carrier.data or "", form.tracking_number.data or "")
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
        services.mark_delivered(current_user, sub_order_id)
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


# ---- staff ------------------------------------------------------------------------------

@bp.get("/staff/orders")
@staff_required
def staff_orders():
    status = request.args.get("status") or None
    page_no = parse_page(request.args.get("page"))
    page = services.all_orders(status, page_no)
    return render_template("orders/staff_orders.html", page=page, status=status)


@bp.route("/staff/orders/<int:order_id>", methods=["GET", "POST"])
@staff_required
def staff_order(order_id: int):
    try:
        order = services.get_order(order_id)
    except services.NotFound:
        abort(404)
    form = RefundForm()
    form.target.choices = [("order", _("The rest of the order"))] + [
        (f"sub-{s.id}", _("Parcel from %(shop)s", shop=s.artisan_name)) for s in order.sub_orders
    ] + [(f"line-{ln.id}", f"{ln.title} × {ln.quantity}") for ln in order.lines]
    if form.validate_on_submit():
        kind, _sep, ident = (form.target.data or "order").partition("-")
        amount = yuan_to_fen(form.amount.data) if form.amount.data is not None else None
        try:
            payments.refund(current_user, order.id, amount=amount,
                            sub_order_id=int(ident) if kind == "sub" else None,
                            line_id=int(ident) if kind == "line" else None, reason=form.reason.data or "")
        except (payments.PaymentError, services.OrderError, states.InvalidTransition) as e:
            flash(str(e), "error")
        except PaymentsUnavailable:
            flash(_("The payment service cannot be reached right now. Nothing was refunded; please try again."), "error")
        except (services.NotFound, ValueError):
            abort(404)
        else:
            flash(_("Refunded."), "success")
        return redirect(url_for("orders.staff_order", order_id=order.id))
    return render_template("orders/staff_order.html", order=order, form=form)


# ---- command line -----------------------------------------------------------------------

@click.command("expire-reservations")
def expire_reservations_command() -> None:
    """Release the stock of unpaid orders whose reservation has expired (run from cron)."""
    released = payments.expire_reservations()
    click.echo(f"released {released} expired reservation(s)")


bp.record_once(lambda state: state.app.cli.add_command(expire_reservations_command))
