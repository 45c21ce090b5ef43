"""Staff orders (the list, one order and its refunds) and the reconcile-payments command.
Same blueprint as market/orders/views.py."""
from __future__ import annotations

import secrets

import click
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.artisans.services import yuan_to_fen
from market.auth import staff_required
from market.ids import parse_page
from market.orders import (
    services,
    states,
)
from market.orders.blueprint import bp
from market.orders.forms import RefundForm
from market.payments import services as payments
from market.payments.stripe_client import PaymentsUnavailable


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


@click.command("reconcile-payments")
def reconcile_payments_command() -> None:
    """Ask the payments API about pending payments, release expired reservations and settle
    unanswered refunds (the scheduler runs it every minute; cron may too)."""
    counts = payments.reconcile()
    click.echo(f"checked {counts['checked']} payment(s), released {counts['expired']} expired reservation(s), "
               f"resolved {counts['refunds']} refund(s)")


bp.record_once(lambda state: state.app.cli.add_command(reconcile_payments_command))
