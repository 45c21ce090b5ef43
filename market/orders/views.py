"""Checkout, paying, the buyer's orders, the artisan's sub-orders and sales, staff orders.

No GET page here calls the payments API: checkout only places the order, the pay page only
renders; the PaymentIntent is created (or reused) when the buyer presses pay (a POST from
the pay page's script), and the reconcile job settles whatever the browser never reported.
"""
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
from market.extensions import limiter
from market.ids import parse_page
from market.orders import (
    notifications,  # noqa: F401  (connects the order mails to the signals)
    operations,
    services,
    states,
)
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
            "payment_error_message": states.cancel_reason_message, "refund_state_labels": states.REFUND_STATE_LABELS}


def _buyer_key() -> str:
    return f"checkout:{current_user.get_id()}"


# ---- checkout --------------------------------------------------------------------------

@bp.route("/checkout", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["CHECKOUT_RATE_LIMIT"], key_func=_buyer_key, methods=["POST"])
def checkout():
    if request.method == "POST":
        # The same cart submitted again (double click, a second tab): its order exists.
        placed = services.order_for_checkout_token(current_user, request.form.get("checkout_token", ""))
        if placed is not None:
            return redirect(url_for("orders.pay", order_id=placed.id))
    view = cart.view_cart(current_user)
    if not view.lines:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("cart.view"))
    items = {line.product.id: line.quantity for line in view.lines}
    token = services.checkout_token(current_user, items)
    form = CheckoutForm()
    if request.method == "GET":
        last = services.last_address(current_user)
        if last:
            form.ship_name.data, form.ship_phone.data, form.ship_address.data = last.name, last.phone, last.address
        else:
            form.ship_name.data, form.ship_phone.data = current_user.name, current_user.phone
    if form.validate_on_submit():
        if form.checkout_token.data != token:
            flash(_("Your cart changed since this page was opened. Please check the order and place it again."),
                  "error")
        else:
            address = services.Address(form.ship_name.data, form.ship_phone.data, form.ship_address.data)
            try:
                order = operations.place_order(current_user, items, address, token)
            except services.OutOfStock as e:
                flash(str(e), "error")
                return redirect(url_for("cart.view"))
            except services.LimitReached as e:
                flash(str(e), "error")
                return redirect(url_for("orders.my_orders"))
            except services.OrderError as e:
                form.ship_address.errors.append(str(e))
            else:
                cart.clear(current_user)
                return redirect(url_for("orders.pay", order_id=order.id))
    form.checkout_token.data = token
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
    order = _buyer_order(order_id)  # no API call: the PaymentIntent is made when she pays
    if order.status != "pending_payment":
        return redirect(url_for("orders.order", order_id=order.id))
    return render_template("orders/pay.html", order=order, stripe_js_url=_stripe_js_url(),
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"])


@bp.post("/orders/<int:order_id>/pay")
@login_required
def pay_submit(order_id: int):
    """JSON from checkout.js: a card token made by Stripe.js (card data never comes here).
    Creates or reuses the order's PaymentIntent and confirms it, within one budget."""
    order = _buyer_order(order_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):  # a list, a string, a number, or a form post
        data = request.form
    token, card_id = str(data.get("token") or ""), str(data.get("card") or "")
    order_url = url_for("orders.order", order_id=order.id)
    if not token.startswith("tok_") or len(token) > 255 or len(card_id) > 255:
        return jsonify(error={"code": 400, "message": _("The card details are incomplete.")}), 400
    try:
        outcome = payments.pay_with_token(order, token, card_id)
    except PaymentsUnavailable:
        return jsonify(status="unavailable", message=UNAVAILABLE(), redirect=order_url), 503
    except (payments.PaymentError, StripeError) as e:
        return jsonify(status="error", message=str(getattr(e, "message", e)), redirect=order_url), 400
    return jsonify(status=outcome.status, message=str(outcome.message), client_secret=outcome.client_secret,
                   redirect=order_url, cart_url=url_for("cart.view"))


@bp.post("/orders/<int:order_id>/refresh")
@login_required
def refresh(order_id: int):
    """After 3-D Secure in the browser: ask the API what happened to the payment."""
    order = _buyer_order(order_id)
    try:
        order = payments.refresh(order)
    except PaymentsUnavailable:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(status="unavailable", message=UNAVAILABLE()), 503
        flash(UNAVAILABLE(), "error")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status=order.status, redirect=url_for("orders.order", order_id=order.id))
    return redirect(url_for("orders.order", order_id=order.id))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id: int):
    order = _buyer_order(order_id)
    if payments.cancel_order(order, "cancelled_by_buyer", restore_cart=True):
        flash(_("The order is cancelled and its items are back in your cart."), "success")
    else:
        flash(_("This order can no longer be cancelled."), "error")
    return redirect(url_for("orders.order", order_id=order.id))


# ---- the buyer's orders -----------------------------------------------------------------

@bp.get("/orders/")
@login_required
def my_orders():
    return render_template("orders/list.html", orders=services.buyer_orders(current_user))


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    from market.returns import operations as returns
    from market.returns import services as requests

    order = _buyer_order(order_id)
    return render_template("orders/order.html", order=order, requests=requests.for_order(order),
                           may_request=order.buyer_id == current_user.id and returns.may_request(order))


@bp.post("/orders/parcels/<int:sub_order_id>/received")
@login_required
def received(sub_order_id: int):
    try:
        sub = operations.deliver(current_user, sub_order_id)
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
    from market.returns import services as requests

    return render_template("orders/shop_orders.html", sub_orders=subs, status=status, ship_form=ShipForm(),
                           requests_by_sub=requests.for_sub_orders([s.id for s in subs]))


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
        if kind not in ("order", "sub", "line") or (kind != "order" and not (ident.isdigit() and len(ident) <= 9)):
            abort(404)  # ids are 32-bit in the database: anything longer names nothing
        amount = yuan_to_fen(form.amount.data) if form.amount.data is not None else None
        try:
            payments.refund(current_user, order.id, amount=amount,
                            sub_order_id=int(ident) if kind == "sub" else None,
                            line_id=int(ident) if kind == "line" else None, reason=form.reason.data or "",
                            request_token=form.request_token.data or None)
        except (payments.PaymentError, services.OrderError, states.InvalidTransition) as e:
            flash(str(e), "error")
        except PaymentsUnavailable:
            flash(_("The payment service did not answer. The refund is kept reserved and will be checked "
                    "with the payment service automatically; do not refund again."), "error")
        except services.NotFound:
            abort(404)
        else:
            flash(_("Refunded."), "success")
        return redirect(url_for("orders.staff_order", order_id=order.id))
    form.request_token.data = secrets.token_urlsafe(24)
    return render_template("orders/staff_order.html", order=order, form=form)


# ---- command line -----------------------------------------------------------------------

@click.command("reconcile-payments")
def reconcile_payments_command() -> None:
    """Ask the payments API about pending payments, release expired reservations and settle
    unanswered refunds (the scheduler runs it every minute; cron may too)."""
    counts = payments.reconcile()
    click.echo(f"checked {counts['checked']} payment(s), released {counts['expired']} expired reservation(s), "
               f"resolved {counts['refunds']} refund(s)")


bp.record_once(lambda state: state.app.cli.add_command(reconcile_payments_command))
