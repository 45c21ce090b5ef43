"""Supply-chain matchmaking pages: organisations, the board of needs and offers, quotes and
deals. Events (matchmaking days) are in event_views.py, imported at the bottom (same
blueprint). Each POST calls one operation of market.supply.operations."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import clock
from market.auth import staff_required
from market.models import Organisation, Quote, SupplyPost
from market.supply import operations as ops
from market.supply import services
from market.supply.blueprint import (
    POST_KIND_LABELS,
    REGION_LABELS,
    _category_choices,
    _cert_choices,
    _fen,
    _get,
    _save_form,
    bp,
)
from market.supply.forms import DealForm, MemberForm, OrganisationForm, PostForm, QuoteForm
from market.views_common import run_and_redirect
from matching.supply import SUPPLY_CATEGORIES

# ---- the board -------------------------------------------------------------------------------

@bp.get("/supply/")
def index():
    kind = request.args.get("kind") or ""
    category = request.args.get("category") or ""
    mine = ops.organisations_of(current_user)
    suggestions = {}
    for org in mine:
        if org.status == "approved":
            suggestions[org.id] = services.needs_for(org, k=5)
    return render_template("supply/index.html", posts=services.board(kind, category if category in SUPPLY_CATEGORIES
                                                                     else None),
                           kind=kind, category=category, mine=mine, suggestions=suggestions)


# ---- organisations ---------------------------------------------------------------------------

def _org_form(form: OrganisationForm) -> None:
    from market.areas.services import district_choices

    form.categories.choices = _category_choices()
    form.certifications.choices = _cert_choices()
    form.district.choices = [("", "—")] + district_choices()


def _org_data(form) -> ops.OrgData:
    return ops.OrgData(name=form.name.data or "", categories=form.categories.data or [],
                       description=form.description.data or "", materials=form.materials.data or "",
                       capacity_month=form.capacity_month.data, capacity_unit=form.capacity_unit.data or "",
                       min_order=form.min_order.data, certifications=form.certifications.data or [],
                       district=form.district.data or "")


@bp.route("/supply/organisations/new", methods=["GET", "POST"])
@login_required
def new_organisation():
    form = OrganisationForm()
    _org_form(form)
    if request.method == "GET" and current_user.artisan is not None:
        form.name.data = current_user.artisan.display_name
        form.district.data = current_user.artisan.district
    saved = _save_form(form, lambda: ops.save_organisation(current_user, _org_data(form)), field="name",
                       done=_("Your organisation is registered. The federation's staff will review it."),
                       to=lambda org: url_for("supply.organisation", org_id=org.id))
    return saved if saved is not None else render_template("supply/organisation_form.html", form=form, org=None)


@bp.route("/supply/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id: int):
    org = _get(Organisation, org_id)
    if not (ops.is_member(current_user, org) or current_user.is_staff):
        abort(404)
    form = OrganisationForm(obj=org) if request.method == "GET" else OrganisationForm()
    _org_form(form)
    if request.method == "GET":
        form.categories.data = org.category_codes
        form.certifications.data = org.certification_codes
    saved = _save_form(form, lambda: ops.save_organisation(current_user, _org_data(form), org), field="name",
                       done=_("Saved."), to=lambda row: url_for("supply.organisation", org_id=row.id))
    return saved if saved is not None else render_template("supply/organisation_form.html", form=form, org=org)


@bp.get("/supply/organisations/<int:org_id>")
def organisation(org_id: int):
    org = _get(Organisation, org_id)
    member = ops.is_member(current_user, org)
    if org.status != "approved" and not (member or (current_user.is_authenticated and current_user.is_staff)):
        abort(404)
    return render_template("supply/organisation.html", org=org, member=member,
                           show_contact=services.may_see_contact(current_user, org), member_form=MemberForm(),
                           suggestions=services.needs_for(org, k=10) if member and org.status == "approved" else [])


@bp.post("/supply/organisations/<int:org_id>/members")
@login_required
def add_member(org_id: int):
    form = MemberForm()
    return run_and_redirect(lambda: ops.add_member(current_user, org_id, form.email.data), done=_("Added."),
                            to=url_for("supply.organisation", org_id=org_id), errors=ops.SupplyError,
                            missing=ops.NotFound, valid=form.validate_on_submit(),
                            invalid=_("Enter the e-mail address of an account."))


@bp.get("/staff/organisations")
@staff_required
def staff_organisations():
    return render_template("supply/staff_organisations.html", orgs=services.pending_organisations())


@bp.post("/staff/organisations/<int:org_id>/review")
@staff_required
def review_organisation(org_id: int):
    return run_and_redirect(lambda: ops.review_organisation(current_user, org_id, request.form.get("decision", "")),
                            done=_("Saved."), to=url_for("supply.staff_organisations"), errors=ops.SupplyError,
                            missing=ops.NotFound)


# ---- posts, quotes, deals --------------------------------------------------------------------

@bp.route("/supply/posts/new", methods=["GET", "POST"])
@login_required
def new_post():
    orgs = [o for o in ops.organisations_of(current_user) if o.status == "approved"]
    if not orgs:
        flash(_("Register an organisation and wait for its approval before posting."), "info")
        return redirect(url_for("supply.index"))
    form = PostForm()
    form.organisation.choices = [(o.id, o.name) for o in orgs]
    form.kind.choices = list(POST_KIND_LABELS.items())
    form.categories.choices = _category_choices()
    form.required_certifications.choices = _cert_choices()
    form.region_preference.choices = list(REGION_LABELS.items())
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in POST_KIND_LABELS else "need"
        form.open_until.data = clock.today() + timedelta(days=30)
        if (request.args.get("case") or "").isdigit() and len(request.args["case"]) < 10:
            form.case_id.data = int(request.args["case"])

    def post_it():
        data = ops.PostData(kind=form.kind.data or "", title=form.title.data or "",
                            description=form.description.data or "", categories=form.categories.data or [],
                            quantity=form.quantity.data, unit=form.unit.data or "", timing=form.timing.data or "",
                            budget_min_fen=_fen(form.budget_min.data), budget_max_fen=_fen(form.budget_max.data),
                            region_preference=form.region_preference.data or "any",
                            required_certifications=form.required_certifications.data or [],
                            open_until=form.open_until.data, case_id=form.case_id.data)
        return ops.post(current_user, form.organisation.data, data)

    saved = _save_form(form, post_it, field="title", done=_("Posted on the board."),
                       to=lambda row: url_for("supply.post", post_id=row.id))
    return saved if saved is not None else render_template("supply/post_form.html", form=form)


def _quote_form(orgs) -> QuoteForm:
    form = QuoteForm()
    form.organisation.choices = [(o.id, o.name) for o in orgs]
    return form


@bp.get("/supply/posts/<int:post_id>")
def post(post_id: int):
    row = _get(SupplyPost, post_id)
    if not services.may_see_post(current_user, row):
        abort(404)
    owner = ops.is_member(current_user, row.organisation)
    staff = current_user.is_authenticated and current_user.is_staff
    my_orgs = [o for o in ops.organisations_of(current_user) if o.status == "approved" and o.id != row.organisation_id]
    my_ids = {o.id for o in my_orgs}
    quotes = [q for q in row.quotes if owner or staff or q.organisation_id in my_ids]
    deal_form = DealForm()
    deal_form.outcome.choices = [("signed", _("Signed")), ("not_signed", _("Not signed"))]
    return render_template("supply/post.html", row=row, owner=owner, staff=staff, quotes=quotes,
                           quote_form=_quote_form(my_orgs) if my_orgs and row.kind == "need" and row.status == "open"
                           else None, deal_form=deal_form,
                           suggestions=services.suppliers_for(row, k=10) if (owner or staff) and row.kind == "need"
                           else [],
                           answered_needs=services.needs_for_offer(row, k=10) if (owner or staff) and row.kind == "offer"
                           else [],
                           my_org_ids={o.id for o in ops.organisations_of(current_user)},
                           show_owner_contact=services.may_see_contact(current_user, row.organisation),
                           may_see_contact=services.may_see_contact)


@bp.post("/supply/posts/<int:post_id>/quote")
@login_required
def send_quote(post_id: int):
    row = _get(SupplyPost, post_id)
    orgs = [o for o in ops.organisations_of(current_user) if o.status == "approved"]
    form = _quote_form(orgs)
    valid = form.validate_on_submit()
    if not valid:
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
    return run_and_redirect(lambda: ops.send_quote(current_user, row.id, form.organisation.data,
                                                   price_fen=_fen(form.price.data), quantity=form.quantity.data,
                                                   lead_days=form.lead_days.data or 0, note=form.note.data or ""),
                            done=_("Your quote is sent."), to=url_for("supply.post", post_id=row.id),
                            errors=ops.SupplyError, valid=valid)


@bp.post("/supply/posts/<int:post_id>/close")
@login_required
def close_post(post_id: int):
    return run_and_redirect(lambda: ops.close_post(current_user, post_id), done=_("Closed."),
                            to=url_for("supply.post", post_id=post_id), missing=ops.NotFound)


@bp.post("/supply/quotes/<int:quote_id>/accept")
@login_required
def accept_quote(quote_id: int):
    quote = _get(Quote, quote_id)
    return run_and_redirect(lambda: ops.accept_quote(current_user, quote.id),
                            done=_("Quote accepted. You can now see each other's contact details."),
                            to=url_for("supply.post", post_id=quote.post_id), errors=ops.SupplyError,
                            missing=ops.NotFound)


@bp.post("/supply/quotes/<int:quote_id>/deal")
@login_required
def record_deal(quote_id: int):
    quote = _get(Quote, quote_id)
    form = DealForm()
    form.outcome.choices = [("signed", _("Signed")), ("not_signed", _("Not signed"))]
    return run_and_redirect(lambda: ops.record_deal(current_user, quote.id, form.outcome.data == "signed",
                                                    _fen(form.value.data), form.note.data or ""),
                            done=_("Saved."), to=url_for("supply.post", post_id=quote.post_id),
                            errors=ops.SupplyError, missing=ops.NotFound,
                            valid=form.validate_on_submit() and form.outcome.data in ("signed", "not_signed"),
                            invalid=_("Say whether the deal was signed."))



from market.supply import event_views  # noqa: E402,F401  (same blueprint)
