from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts import admin
from market.auth import staff_required
from market.catalog import services as catalog
from market.extensions import db
from market.ids import parse_id, parse_page
from market.models import Brand
from market.staff import digest, services  # noqa: F401  (digest registers its job)
from market.staff.forms import BrandForm, SuspendForm, SynonymGroupForm, UnsuspendForm, UserRolesForm, UserSearchForm
from market.staff.reports import overview

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def index():
    return render_template("staff/overview.html", o=overview.overview())


@bp.get("/moderation")
@staff_required
def moderation():
    """Hidden products and hidden reviews with their reasons; each restored with one button
    (the catalog's and the reviews' own restore actions, which write the audit log)."""
    from market.catalog.moderation import hidden_products
    from market.reviews.services import hidden_reviews, reviewer_name

    return render_template("staff/moderation.html", products=hidden_products(), reviews=hidden_reviews(),
                           reviewer_name=reviewer_name)


@bp.get("/artisans")
@staff_required
def artisans():
    status = request.args.get("status", "pending")
    status = status if status in ("pending", "approved", "rejected", "all") else "pending"
    items = services.artisans_by_status(None if status == "all" else status)
    return render_template("staff/artisans.html", artisans=items, status=status, brands=catalog.all_brands())


@bp.post("/artisans/<int:artisan_id>/review")
@staff_required
def review(artisan_id: int):
    try:
        services.review_artisan(current_user, artisan_id, request.form.get("decision", ""))
    except LookupError:
        abort(404)
    except services.StaffError as e:
        flash(str(e), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("staff.artisans", status=request.form.get("back", "pending")))


@bp.get("/brands")
@staff_required
def brands():
    return render_template("staff/brands.html", brands=catalog.all_brands())


@bp.route("/brands/new", methods=["GET", "POST"])
@bp.route("/brands/<int:brand_id>", methods=["GET", "POST"])
@staff_required
def edit_brand(brand_id: int | None = None):
    brand = db.session.get(Brand, brand_id) if brand_id else None
    if brand_id and brand is None:
        abort(404)
    form = BrandForm(obj=brand)
    if form.validate_on_submit():
        try:
            brand = services.save_brand(
                current_user, slug=form.slug.data, name=form.name.data, name_en=form.name_en.data,
                story=form.story.data, district=form.district.data, featured=form.featured.data, brand=brand,
            )
        except services.StaffError as e:
            form.slug.errors.append(str(e))
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("staff.edit_brand", brand_id=brand.id))
    candidates = services.artisans_by_status("approved") if brand else []
    return render_template("staff/brand_form.html", form=form, brand=brand, candidates=candidates)


@bp.post("/brands/<int:brand_id>/members")
@staff_required
def brand_member(brand_id: int):
    artisan_id = parse_id(request.form.get("artisan_id"))
    if artisan_id is None:
        abort(404)
    try:
        services.set_membership(current_user, brand_id, artisan_id, request.form.get("member") == "1")
    except (LookupError, ValueError):
        abort(404)
    return redirect(url_for("staff.edit_brand", brand_id=brand_id))


@bp.route("/synonyms", methods=["GET", "POST"])
@staff_required
def synonyms():
    from synonyms import Thesaurus

    form = SynonymGroupForm()
    if form.validate_on_submit():
        try:
            services.add_synonym_group(current_user, form.terms.data)
        except services.StaffError as e:
            form.terms.errors.append(str(e))
        else:
            flash(_("Saved. Searches use the new group within a minute."), "success")
            return redirect(url_for("staff.synonyms"))
    return render_template("staff/synonyms.html", form=form, groups=services.synonym_groups(),
                           defaults=Thesaurus.default().groups)


@bp.post("/synonyms/<int:group_id>/delete")
@staff_required
def delete_synonym_group(group_id: int):
    try:
        services.remove_synonym_group(current_user, group_id)
    except LookupError:
        abort(404)
    flash(_("Removed."), "success")
    return redirect(url_for("staff.synonyms"))


# ---- user management (issue 16c): find, suspend, roles; rules in market.accounts.admin ------------

@bp.get("/users")
@staff_required
def users():
    form = UserSearchForm(request.args)
    form.validate()
    page = admin.find_users(form.q.data or "", role=form.role.data or None, status=form.status.data or None,
                            page=parse_page(request.args.get("page")))
    return render_template("staff/users.html", form=form, page=page,
                           args={k: v for k, v in (("q", form.q.data), ("role", form.role.data),
                                                   ("status", form.status.data)) if v})


def _user_page(user_id: int, *, roles_form=None, suspend_form=None, status: int = 200):
    from market import audit
    from market.models import User

    try:
        user = admin.get_user(user_id)
    except LookupError:
        abort(404)
    grantable = admin.staff_grantable_roles()
    if roles_form is None:
        roles_form = UserRolesForm(formdata=None, roles=sorted(user.role_names),
                                   shown=",".join(r for r in grantable if r in user.role_names))
    entries = audit.entries_for(user)[-20:][::-1]
    actor_ids = {e.actor_id for e in entries if e.actor_id}
    actors = dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(actor_ids))).all()) \
        if actor_ids else {}
    return render_template("staff/user.html", user=user, grantable=grantable, roles_form=roles_form,
                           suspend_form=suspend_form or SuspendForm(formdata=None),
                           unsuspend_form=UnsuspendForm(formdata=None), entries=entries, actors=actors), status


@bp.get("/users/<int:user_id>")
@staff_required
def user(user_id: int):
    return _user_page(user_id)


@bp.post("/users/<int:user_id>/roles")
@staff_required
def user_roles(user_id: int):
    form = UserRolesForm()
    if not form.validate():
        return _user_page(user_id, roles_form=form, status=400)
    try:
        change = admin.change_roles(current_user, user_id, form.roles.data or [], form.shown_roles())
    except LookupError:
        abort(404)
    except admin.AdminError as e:
        form.roles.errors.append(str(e))
        return _user_page(user_id, roles_form=form, status=400)
    flash(_("Roles saved.") if change else _("Nothing changed."), "success" if change else "info")
    return redirect(url_for("staff.user", user_id=user_id))


@bp.post("/users/<int:user_id>/suspend")
@staff_required
def user_suspend(user_id: int):
    form = SuspendForm()
    if not form.validate():
        return _user_page(user_id, suspend_form=form, status=400)
    try:
        admin.suspend(current_user, user_id, form.reason.data)
    except LookupError:
        abort(404)
    except admin.AdminError as e:
        form.reason.errors.append(str(e))
        return _user_page(user_id, suspend_form=form, status=400)
    flash(_("The account is suspended: she is signed out everywhere and cannot sign in."), "success")
    return redirect(url_for("staff.user", user_id=user_id))


@bp.post("/users/<int:user_id>/unsuspend")
@staff_required
def user_unsuspend(user_id: int):
    form = UnsuspendForm()
    if form.validate():
        try:
            admin.unsuspend(current_user, user_id)
        except LookupError:
            abort(404)
        except admin.AdminError as e:
            flash(str(e), "error")
        else:
            flash(_("The suspension is lifted: she can sign in again."), "success")
    return redirect(url_for("staff.user", user_id=user_id))
