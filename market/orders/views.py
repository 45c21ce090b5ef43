"""Checkout, paying and guests' order links. The buyer's orders and address book
(buyer_views.py), the artisan's sub-orders and sales (shop_views.py) and staff orders
(staff_views.py) live beside this module on the same blueprint; this module imports them to
register them.

No GET page here calls the payments API: checkout only places the order, the pay page only
renders; the PaymentIntent is created (or reused) when the buyer presses pay (a POST from
the pay page's script), and the reconcile job settles whatever the browser never reported.
"""
from __future__ import annotations

import json

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market import security
from market.cart import services as cart
from market.extensions import limiter
from market.ids import MAX_ID, parse_int
from market.orders import (
    addresses,
    guests,
    notifications,  # noqa: F401  (connects the order mails to the signals)
    operations,
    services,
    states,
)
from market.orders.blueprint import _buyer_order, bp
from market.orders.forms import CheckoutForm, GuestCheckoutForm, GuestLinkForm
from market.payments import gateway_errors
from market.payments import services as payments
from market.payments.stripe_client import PaymentsUnavailable, StripeError

UNAVAILABLE = lambda: _(  # noqa: E731
    "The payment service cannot be reached right now. Your order is saved and nothing was charged; "
    "please try again in a moment."
)


@bp.app_context_processor
def order_labels():
    return {"order_state_labels": states.ORDER_STATE_LABELS, "sub_order_state_labels": states.SUB_ORDER_STATE_LABELS,
            "payment_error_message": states.cancel_reason_message, "refund_state_labels": states.REFUND_STATE_LABELS}


def _buyer_key() -> str:
    if current_user.is_authenticated:
        return f"checkout:{current_user.get_id()}"
    return f"checkout-guest:{request.remote_addr}"


def _signed_in():
    return current_user._get_current_object() if current_user.is_authenticated else None


# ---- checkout --------------------------------------------------------------------------

@bp.route("/checkout", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CHECKOUT_RATE_LIMIT"], key_func=_buyer_key, methods=["POST"])
def checkout():
    """Signed in or not: a guest gives her email instead of an account (market.orders.guests)."""
    buyer = _signed_in()

    def already_placed():
        """The same cart submitted again (double click, a second tab): its order exists. Asked
        again before any refusal, since the other tab may have placed it meanwhile (emptying
        the cart, moving the token on)."""
        if request.method != "POST":
            return None
        placed = services.order_for_checkout_token(buyer, request.form.get("checkout_token", ""),
                                                   guests.remembered())
        return redirect(url_for("orders.pay", order_id=placed.id)) if placed is not None else None

    if (done := already_placed()) is not None:
        return done
    view = cart.view_cart(current_user)
    if not view.lines:
        if (done := already_placed()) is not None:
            return done
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("cart.view"))
    items = {line.product.id: line.quantity for line in view.lines}
    token = services.checkout_token(buyer, items, None if buyer else guests.browser_key())
    form = CheckoutForm() if buyer else GuestCheckoutForm()
    saved = addresses.for_user(buyer) if buyer else []
    if request.method == "GET":
        picked = None
        pick = parse_int(request.args.get("address"), low=1, high=MAX_ID)
        if buyer and pick:
            picked = next((a for a in saved if a.id == pick), None)
        last = services.Address(picked.name, picked.phone, picked.address) if picked else (
            services.last_address(buyer) if buyer else None)
        if last:
            form.ship_name.data, form.ship_phone.data, form.ship_address.data = last.name, last.phone, last.address
        elif buyer:
            form.ship_name.data, form.ship_phone.data = buyer.name, buyer.phone
    if form.validate_on_submit():
        if form.checkout_token.data != token:
            if (done := already_placed()) is not None:
                return done
            flash(_("Your cart changed since this page was opened. Please check the order and place it again."),
                  "error")
        else:
            address = services.Address(form.ship_name.data, form.ship_phone.data, form.ship_address.data)
            try:
                order = operations.place_order(buyer, items, address, token,
                                               guest_email=None if buyer else form.email.data)
            except services.OutOfStock as e:
                flash(str(e), "error")
                return redirect(url_for("cart.view"))
            except services.LimitReached as e:
                flash(str(e), "error")
                return redirect(url_for("orders.my_orders") if buyer else url_for("cart.view"))
            except services.OrderError as e:
                form.ship_address.errors.append(str(e))
            else:
                cart.clear(current_user)
                if buyer is None:
                    guests.remember(order.id)
                elif form.save_address.data:
                    try:
                        addresses.add(buyer, address)
                    except services.OrderError as e:  # the book is full: the order stands
                        flash(str(e), "info")
                return redirect(url_for("orders.pay", order_id=order.id))
    form.checkout_token.data = token
    return render_template("orders/checkout.html", form=form, cart=view, saved_addresses=saved)


def _stripe_js_url() -> str:
    return security.stripe_js_url(current_app.config)


@bp.get("/orders/<int:order_id>/pay")
def pay(order_id: int):
    order = _buyer_order(order_id)  # no API call: the PaymentIntent is made when she pays
    if order.status != "pending_payment":
        return redirect(url_for("orders.order", order_id=order.id))
    return render_template("orders/pay.html", order=order, stripe_js_url=_stripe_js_url(),
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
                           card_errors=json.dumps(gateway_errors.browser_messages(), ensure_ascii=False))


@bp.post("/orders/<int:order_id>/pay")
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
    except payments.PaymentError as e:
        return jsonify(status="error", message=str(e), redirect=order_url), 400
    except StripeError as e:  # the API's English text goes to the log, the reader gets her language
        current_app.logger.info("payments API refused order %s: %s %s", order.id, e.code, e.message)
        return jsonify(status="error", message=str(gateway_errors.message_of(e)), redirect=order_url), 400
    if outcome.status == "paid":
        order_url = url_for("orders.thanks", order_id=order.id)
    return jsonify(status=outcome.status, message=str(outcome.message), client_secret=outcome.client_secret,
                   redirect=order_url, cart_url=url_for("cart.view"))


@bp.post("/orders/<int:order_id>/refresh")
def refresh(order_id: int):
    """After 3-D Secure in the browser: ask the API what happened to the payment."""
    order = _buyer_order(order_id)
    try:
        order = payments.refresh(order)
    except PaymentsUnavailable:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(status="unavailable", message=UNAVAILABLE()), 503
        flash(UNAVAILABLE(), "error")
    target = url_for("orders.thanks" if order.status == "paid" else "orders.order", order_id=order.id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status=order.status, redirect=target)
    return redirect(target)


@bp.post("/orders/<int:order_id>/cancel")
def cancel(order_id: int):
    order = _buyer_order(order_id)
    if payments.cancel_order(order, "cancelled_by_buyer", restore_cart=True):
        flash(_("The order is cancelled and its items are back in your cart."), "success")
    else:
        flash(_("This order can no longer be cancelled."), "error")
    return redirect(url_for("orders.order", order_id=order.id))


@bp.get("/orders/<int:order_id>/thanks")
def thanks(order_id: int):
    """After paying: the confirmation page (the mail goes out when the payment is recorded)."""
    order = _buyer_order(order_id)
    if order.status == "pending_payment":
        return redirect(url_for("orders.pay", order_id=order.id))
    from market.accounts.forms import RegisterForm
    from market.accounts.services import find_user_by_email

    offer = None
    if (order.buyer_id is None and not current_user.is_authenticated and order.guest_email
            and find_user_by_email(order.guest_email) is None):
        offer = RegisterForm(formdata=None, email=order.guest_email, name=order.ship_name)
    return render_template("orders/thanks.html", order=order, offer=offer)


# ---- guests: the signed link and asking for a new one ------------------------------------

@bp.get("/orders/guest/<token>")
def guest_link(token: str):
    try:
        order = guests.open_link(token)
    except guests.LinkInvalid as e:
        return render_template("orders/guest_link.html", message=str(e), form=GuestLinkForm()), 400
    if order.buyer_id is not None:
        if current_user.is_authenticated and order.buyer_id == current_user.id:
            return redirect(url_for("orders.order", order_id=order.id))
        flash(_("This order is now in your account. Please log in to see it."), "info")
        return redirect(url_for("accounts.login", next=url_for("orders.order", order_id=order.id)))
    guests.remember(order.id)
    return redirect(url_for("orders.order", order_id=order.id))


@bp.route("/orders/guest/resend", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["GUEST_LINK_RESEND_RATE_LIMIT"], methods=["POST"])
def guest_resend():
    form = GuestLinkForm()
    if form.validate_on_submit():
        guests.resend_link(form.email.data, form.number.data)
        # The same answer whether or not such an order exists.
        flash(_("If an order with this number was placed with %(email)s, a new link to it is on its way there.",
                email=form.email.data), "success")
        return redirect(url_for("orders.guest_resend"))
    return render_template("orders/guest_link.html", message=None, form=form), (400 if form.errors else 200)



# The other pages live beside this module, on the same blueprint.
from market.orders import buyer_views, shop_views, staff_views  # noqa: E402, F401
