"""The artisan's statement; finance staff's balances, commission rules, adjustments and
payout batches. Every POST calls one operation of market.ledger.operations."""
from __future__ import annotations

from functools import wraps

import click
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.artisans.services import yuan_to_fen
from market.auth import role_required
from market.ledger import details, operations, services
from market.ledger.forms import AdjustForm, BatchForm, DetailsForm, FailedForm, PaidForm, RuleForm
from market.models import Artisan, CommissionRule
from market.vocab import CATEGORIES

bp = Blueprint("ledger", __name__)


@bp.app_context_processor
def ledger_labels():
    from flask_babel import lazy_gettext as _l

    return {"entry_kind_labels": {
        "sale": _l("Sale"), "commission": _l("Commission"), "refund": _l("Refund"),
        "commission_reversal": _l("Commission given back"), "adjustment": _l("Adjustment"),
        "payout": _l("Payout"), "payout_failed": _l("Failed payout returned")},
        "payout_state_labels": {"pending": _l("To pay"), "paid": _l("Paid"), "failed": _l("Failed")},
        "payout_method_labels": details.METHODS}


def finance_required(view):
    """Staff holding the finance permission (granted through market.accounts.services)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has_role("finance"):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


# ---- the artisan ------------------------------------------------------------------------

@bp.get("/shop/statement")
@role_required("artisan")
def statement():
    if current_user.artisan is None:
        abort(403)
    return render_template("ledger/statement.html", s=services.statement(current_user.artisan),
                           details=details.masked_details(current_user.artisan.id))


@bp.route("/shop/payout-details", methods=["GET", "POST"])
@role_required("artisan")
def payout_details():
    if current_user.artisan is None:
        abort(403)
    form = DetailsForm()
    form.method.choices = [(k, str(v)) for k, v in details.METHODS.items()]
    if form.validate_on_submit():
        try:
            details.save_details(current_user, method=form.method.data or "", account=form.account.data or "",
                                 holder=form.holder.data or "", bank_name=form.bank_name.data or "")
        except details.DetailsError as e:
            getattr(form, e.field or "account").errors.append(str(e))
        else:
            flash(_("Your payout details are saved."), "success")
            return redirect(url_for("ledger.statement"))
    return render_template("ledger/details.html", form=form, current=details.masked_details(current_user.artisan.id),
                           methods=details.METHODS)


@bp.get("/shop/statement.csv")
@role_required("artisan")
def statement_csv():
    if current_user.artisan is None:
        abort(403)
    body = services.statement_csv(services.statement(current_user.artisan))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=statement.csv"})


# ---- finance ----------------------------------------------------------------------------

@bp.route("/staff/ledger", methods=["GET", "POST"])
@finance_required
def overview():
    form = AdjustForm()
    artisans = services.all_balances()
    form.artisan.choices = [(str(a.id), a.display_name) for a in
                            Artisan.query.order_by(Artisan.id).limit(500)]
    if form.validate_on_submit():
        ident = form.artisan.data or ""
        if not (ident.isdigit() and len(ident) <= 9):
            form.artisan.errors.append(_("Choose an artisan."))
        else:
            try:
                operations.adjust(current_user, int(ident), yuan_to_fen(form.amount.data), form.reason.data or "")
            except operations.LedgerError as e:
                form.reason.errors.append(str(e))
            else:
                flash(_("The adjustment is in the ledger."), "success")
                return redirect(url_for("ledger.overview"))
    return render_template("ledger/overview.html", balances=artisans, income=services.commission_income(),
                           form=form)


@bp.get("/staff/ledger/artisans/<int:artisan_id>")
@finance_required
def artisan_statement(artisan_id: int):
    from market.extensions import db

    artisan = db.session.get(Artisan, artisan_id)
    if artisan is None:
        abort(404)
    return render_template("ledger/statement.html", s=services.statement(artisan), staff_view=True,
                           details=details.masked_details(artisan.id))


@bp.route("/staff/commission", methods=["GET", "POST"])
@finance_required
def rules():
    form = RuleForm()
    form.category.choices = [("", _("All categories"))] + [(k, str(v)) for k, v in CATEGORIES.items()]
    if form.validate_on_submit():
        category = form.category.data if form.category.data in CATEGORIES else None
        components = []
        if form.rate_percent.data:
            components.append({"name": _("Percentage"), "kind": "percent",
                               "rate_bp": int(form.rate_percent.data * 100), "category": category,
                               "min_fen": yuan_to_fen(form.percent_min.data) if form.percent_min.data is not None
                               else None,
                               "max_fen": yuan_to_fen(form.percent_max.data) if form.percent_max.data is not None
                               else None})
        if form.fixed.data:
            components.append({"name": _("Fixed fee"), "kind": "fixed_per_order",
                               "fixed_fen": yuan_to_fen(form.fixed.data), "category": category})
        try:
            operations.create_rule(current_user, form.name.data or "", components)
        except operations.LedgerError as e:
            form.name.errors.append(str(e))
        else:
            flash(_("The new commission applies to orders paid from now on."), "success")
            return redirect(url_for("ledger.rules"))
    all_rules = CommissionRule.query.order_by(CommissionRule.active_from.desc()).limit(50).all()
    return render_template("ledger/rules.html", rules=all_rules, form=form, categories=CATEGORIES)


@bp.route("/staff/payouts", methods=["GET", "POST"])
@finance_required
def payouts():
    form = BatchForm()
    if form.validate_on_submit():
        minimum = yuan_to_fen(form.minimum.data) if form.minimum.data is not None else None
        try:
            batch = operations.create_batch(current_user, minimum_fen=minimum)
        except operations.LedgerError as e:
            form.minimum.errors.append(str(e))
        else:
            flash(_("Batch %(number)s made with %(n)s payout(s).", number=batch.number, n=len(batch.payouts)),
                  "success")
            return redirect(url_for("ledger.batch", batch_id=batch.id))
    return render_template("ledger/payouts.html", batches=services.batches(), form=form)


@bp.get("/staff/payouts/<int:batch_id>")
@finance_required
def batch(batch_id: int):
    found = services.batch(batch_id)
    if found is None:
        abort(404)
    payouts_ = services.batch_payouts(batch_id)
    # The one page (with its export) where the details are shown in full: a payout is made here.
    return render_template("ledger/batch.html", batch=found, payouts=payouts_, methods=details.METHODS,
                           details={p.artisan_id: details.details_of(p.artisan_id) for p in payouts_},
                           paid_form=PaidForm(), failed_form=FailedForm())


@bp.get("/staff/payouts/<int:batch_id>.csv")
@finance_required
def batch_csv(batch_id: int):
    if services.batch(batch_id) is None:
        abort(404)
    return Response(services.batch_csv(batch_id), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=payouts-{batch_id}.csv"})


def _payout_batch(payout_id: int) -> int:
    from market.extensions import db
    from market.models import Payout

    payout = db.session.get(Payout, payout_id)
    if payout is None:
        abort(404)
    return payout.batch_id


@bp.post("/staff/payouts/pay/<int:payout_id>")
@finance_required
def pay(payout_id: int):
    batch_id = _payout_batch(payout_id)
    form = PaidForm()
    if not form.validate_on_submit():
        flash(_("Enter the bank's reference (at most 80 characters)."), "error")
    else:
        try:
            done = operations.mark_paid(current_user, payout_id, form.reference.data or "")
        except operations.LedgerError as e:
            flash(str(e), "error")
        else:
            flash(_("Marked as paid.") if done else _("This payout was settled already."),
                  "success" if done else "error")
    return redirect(url_for("ledger.batch", batch_id=batch_id))


@bp.post("/staff/payouts/fail/<int:payout_id>")
@finance_required
def fail(payout_id: int):
    batch_id = _payout_batch(payout_id)
    form = FailedForm()
    if not form.validate_on_submit():
        flash(_("Say why the payout failed."), "error")
    else:
        try:
            done = operations.mark_failed(current_user, payout_id, form.reason.data or "")
        except operations.LedgerError as e:
            flash(str(e), "error")
        else:
            flash(_("Marked as failed; the amount is back on the balance.") if done
                  else _("This payout was settled already."), "success" if done else "error")
    return redirect(url_for("ledger.batch", batch_id=batch_id))


@click.command("sync-ledger")
def sync_command() -> None:
    """Post every sale and refund the artisan ledger does not have yet (idempotent)."""
    click.echo(f"posted {operations.sync()} fact(s)")


bp.record_once(lambda state: state.app.cli.add_command(sync_command))
