"""Refund and return requests: the buyer's form and answers, the artisan's answers, staff's
decisions. Each POST calls one operation of market.returns.operations."""
from __future__ import annotations

import click
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.artisans.services import yuan_to_fen
from market.auth import role_required, staff_required
from market.orders import services as orders
from market.orders.errors import NotFound, OrderError
from market.payments.services import PaymentError
from market.payments.stripe_client import PaymentsUnavailable
from market.returns import operations, services, states
from market.returns.forms import DecisionForm, RequestForm

bp = Blueprint("returns", __name__)


@bp.app_context_processor
def request_labels():
    return {"request_state_labels": states.LABELS, "request_kind_labels": states.KIND_LABELS,
            "request_reason_labels": states.REASON_LABELS}


def _unavailable() -> str:
    return _("The payment service did not answer. The refund is kept reserved and will be completed "
             "automatically.")


def _run(action, *args, **kwargs):
    """Run one operation; a broken rule becomes a message, an unknown id a 404."""
    try:
        return action(*args, **kwargs)
    except NotFound:
        abort(404)
    except PaymentsUnavailable:
        flash(_unavailable(), "error")
    except (OrderError, PaymentError) as e:  # a broken rule, a refused refund
        flash(str(e), "error")
    return None


def _fen(value) -> int | None:
    return yuan_to_fen(value) if value is not None else None


# ---- the buyer --------------------------------------------------------------------------

@bp.route("/orders/<int:order_id>/request", methods=["GET", "POST"])
@login_required
def new_request(order_id: int):
    try:
        order = orders.order_for_buyer(current_user, order_id)
    except NotFound:
        abort(404)
    if order.buyer_id != current_user.id:
        abort(404)
    choices = [(t.key, _("Parcel from %(shop)s", shop=t.sub.artisan_name) if t.line is None
                else f"{t.line.title} × {t.line.quantity}") for t in operations.open_targets(order)]
    if not choices or not operations.may_request(order):
        flash(_("Nothing on this order can be refunded now."), "info")
        return redirect(url_for("orders.order", order_id=order.id))
    form = RequestForm()
    form.target.choices = choices
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args.get("target")
    if form.validate_on_submit():
        try:
            operations.open_request(current_user, order.id, target=form.target.data or "", kind=form.kind.data or "",
                                    reason=form.reason.data or "", note=form.note.data or "",
                                    amount=_fen(form.amount.data), photos=form.photos.data)
        except NotFound:
            abort(404)
        except operations.RequestError as e:
            field = getattr(form, e.field, None) if e.field else None
            (field.errors if field is not None else form.note.errors).append(str(e))
        else:
            flash(_("Your request is sent to the shop. You will hear from us by mail."), "success")
            return redirect(url_for("orders.order", order_id=order.id))
    return render_template("returns/request_form.html", order=order, form=form,
                           window_days=operations._cfg("RETURN_WINDOW_DAYS", 7))


def _buyer_post(action, request_id: int, message: str):
    record = _run(action, current_user, request_id)
    if record is not None:
        flash(message, "success")
        return redirect(url_for("orders.order", order_id=record.order_id))
    try:
        record = services.visible_request(current_user, request_id)
    except NotFound:
        abort(404)
    return redirect(url_for("orders.order", order_id=record.order_id))


@bp.post("/orders/requests/<int:request_id>/take-offer")
@login_required
def take_offer(request_id: int):
    return _buyer_post(operations.take_offer, request_id, _("Thank you. The refund is on its way."))


@bp.post("/orders/requests/<int:request_id>/refuse-offer")
@login_required
def refuse_offer(request_id: int):
    return _buyer_post(operations.refuse_offer, request_id, _("The federation's staff will decide."))


@bp.post("/orders/requests/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    return _buyer_post(operations.withdraw, request_id, _("Your request is withdrawn."))


# ---- the artisan ------------------------------------------------------------------------

ARTISAN_DECISIONS = ("accept", "offer", "decline")


@bp.get("/shop/requests")
@role_required("artisan")
def shop_requests():
    if current_user.artisan is None:
        abort(403)
    return render_template("returns/shop_requests.html", requests=services.for_artisan(current_user.artisan))


@bp.route("/shop/requests/<int:request_id>", methods=["GET", "POST"])
@role_required("artisan")
def shop_request(request_id: int):
    try:
        record = services.visible_request(current_user, request_id)
    except NotFound:
        abort(404)
    if current_user.artisan is None or current_user.artisan.id != record.artisan_id:
        abort(404)
    form = DecisionForm()
    form.decision.choices = [("accept", _("Accept")), ("offer", _("Offer a partial refund")),
                             ("decline", _("Decline"))]
    if form.validate_on_submit():
        decision, note = form.decision.data, form.note.data or ""
        if decision == "accept":
            done = _run(operations.accept, current_user, record.id, note)
        elif decision == "offer":
            done = _run(operations.offer, current_user, record.id, _fen(form.amount.data), note)
        elif decision == "decline":
            done = _run(operations.decline, current_user, record.id, note)
        else:
            form.decision.errors.append(_("Choose a decision."))
            done = None
        if done is not None:
            flash(_("Your answer is saved and the buyer is told."), "success")
            return redirect(url_for("returns.shop_request", request_id=record.id))
        if decision in ARTISAN_DECISIONS:
            return redirect(url_for("returns.shop_request", request_id=record.id))
    return render_template("returns/request.html", record=record, form=form, role="artisan")


@bp.post("/shop/requests/<int:request_id>/returned")
@role_required("artisan")
def returned(request_id: int):
    if _run(operations.return_received, current_user, request_id) is not None:
        flash(_("The returned parcel is recorded and the buyer is refunded."), "success")
    return redirect(url_for("returns.shop_request", request_id=request_id))


# ---- staff ------------------------------------------------------------------------------

@bp.get("/staff/refund-requests")
@staff_required
def staff_requests():
    show = request.args.get("status") or ""
    statuses = (show,) if show in states.LABELS else ("open", "offered", "escalated", "awaiting_return")
    return render_template("returns/staff_requests.html", requests=services.for_staff(statuses), status=show)


@bp.route("/staff/refund-requests/<int:request_id>", methods=["GET", "POST"])
@staff_required
def staff_request(request_id: int):
    try:
        record = services.visible_request(current_user, request_id)
    except NotFound:
        abort(404)
    form = DecisionForm()
    form.decision.choices = [("refund", _("Refund")), ("return", _("Accept the return")),
                             ("decline", _("Decline"))]
    if form.validate_on_submit():
        if form.decision.data not in operations.STAFF_DECISIONS:
            form.decision.errors.append(_("Choose a decision."))
        else:
            done = _run(operations.staff_decide, current_user, record.id, form.decision.data,
                        amount=_fen(form.amount.data), note=form.note.data or "")
            if done is not None:
                flash(_("The decision is saved and both sides are told."), "success")
            return redirect(url_for("returns.staff_request", request_id=record.id))
    return render_template("returns/request.html", record=record, form=form, role="staff")


@bp.post("/staff/refund-requests/<int:request_id>/returned")
@staff_required
def staff_returned(request_id: int):
    if _run(operations.return_received, current_user, request_id) is not None:
        flash(_("The returned parcel is recorded and the buyer is refunded."), "success")
    return redirect(url_for("returns.staff_request", request_id=request_id))


@click.command("escalate-refund-requests")
def escalate_command() -> None:
    """Send refund requests the artisan did not answer in time to staff (the scheduler runs it
    every ten minutes)."""
    click.echo(f"escalated {operations.escalate_overdue()} request(s)")


bp.record_once(lambda state: state.app.cli.add_command(escalate_command))
