"""Checkout, paying, the buyer's orders, the artisan's sub-orders and sales, staff orders.

No GET page here calls the payments API: checkout only places the order, the pay page only
renders; the PaymentIntent is created (or reused) when the buyer presses pay (a POST from
the pay page's script), and the reconcile job settles whatever the browser never reported.
"""
from __future__ import annotations

import json
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
from market.ids import MAX_ID, parse_int, parse_page
from market.orders import (
    addresses,
    guests,
    notifications,  # noqa: F401  (connects the order mails to the signals)
    operations,
    services,
    states,
)
from market.orders.forms import AddressForm, CheckoutForm, GuestCheckoutForm, GuestLinkForm, RefundForm, ShipForm
from market.payments import gateway_errors
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
    if request.method == "POST":
        # The same cart submitted again (double click, a second tab): its order exists.
        placed = services.order_for_checkout_token(buyer, request.form.get("checkout_token", ""), guests.remembered())
        if placed is not None:
            return redirect(url_for("orders.pay", order_id=placed.id))
    view = cart.view_cart(current_user)
    if not view.lines:
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


def _buyer_order(order_id: int):
    """The order if this visitor may see it: her own, staff, or a guest order of this browser."""
    try:
        return services.order_for_viewer(current_user, order_id, guests.remembered())
    except services.NotFound:
        abort(404)


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


# ---- the address book --------------------------------------------------------------------

@bp.route("/addresses/", methods=["GET", "POST"])
@login_required
def address_book():
    form = AddressForm()
    if form.validate_on_submit():
        try:
            addresses.add(current_user, services.Address(form.name.data, form.phone.data, form.address.data),
                          default=bool(form.is_default.data))
        except services.OrderError as e:
            form.address.errors.append(str(e))
        else:
            flash(_("The address is saved."), "success")
            return redirect(url_for("orders.address_book"))
    return render_template("orders/addresses.html", form=form, entries=addresses.for_user(current_user)), (
        400 if form.errors else 200)


def _own_address(address_id: int):
    try:
        return addresses.get(current_user, address_id)
    except services.NotFound:
        abort(404)


@bp.route("/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
def edit_address(address_id: int):
    entry = _own_address(address_id)
    form = AddressForm(obj=entry)
    if form.validate_on_submit():
        try:
            addresses.edit(current_user, entry.id, services.Address(form.name.data, form.phone.data, form.address.data),
                           default=bool(form.is_default.data))
        except services.OrderError as e:
            form.address.errors.append(str(e))
        else:
            flash(_("The address is saved."), "success")
            return redirect(url_for("orders.address_book"))
    return render_template("orders/address_form.html", form=form, entry=entry), (400 if form.errors else 200)


@bp.post("/addresses/<int:address_id>/delete")
@login_required
def delete_address(address_id: int):
    addresses.remove(current_user, _own_address(address_id).id)
    flash(_("The address is deleted."), "success")
    return redirect(url_for("orders.address_book"))


@bp.post("/addresses/<int:address_id>/default")
@login_required
def default_address(address_id: int):
    addresses.make_default(current_user, _own_address(address_id).id)
    flash(_("This is now your default address."), "success")
    return redirect(url_for("orders.address_book"))


# ---- the buyer's orders -----------------------------------------------------------------

@bp.get("/orders/")
@login_required
def my_orders():
    return render_template("orders/list.html", orders=services.buyer_orders(current_user))


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    from market.returns import operations as returns
    from market.returns import services as requests

    order = _buyer_order(order_id)
    own = current_user.is_authenticated and order.buyer_id == current_user.id
    return render_template("orders/order.html", order=order, requests=requests.for_order(order),
                           may_request=own and returns.may_request(order), own=own,
                           guest_view=order.buyer_id is None)


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
