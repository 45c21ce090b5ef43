"""The front line's pages: a cadre's contact list (her home page, works offline), the visit
form and its idempotent JSON endpoint, the archive per woman, and the staff's coverage, grid
and assignment pages. Questionnaires, events and job posts are in the modules this one imports
at the bottom (same blueprint)."""
from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import areas, clock
from market.auth import role_required, staff_required
from market.mentoring.forms import labelled, lang
from market.models.outreach import VISIT_METHODS
from market.outreach import services
from market.outreach.blueprint import _error_json, _id, bp
from market.outreach.labels import METHOD_LABELS, STEP_LABELS
from market.views_common import run_and_redirect
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES


def _vocab() -> dict:
    return {"difficulties": labelled(DIFFICULTIES), "industries": labelled(INDUSTRIES),
            "stages": labelled(BUSINESS_STAGES), "methods": [(m, METHOD_LABELS[m]) for m in VISIT_METHODS],
            "steps": list(STEP_LABELS.items())}


# ---- the cadre's home: her list ------------------------------------------------------------

@bp.get("/outreach/")
@role_required("committee")
def home():
    cov = services.coverage(current_user.id)
    mine = services.my_area_ids(current_user)
    return render_template("outreach/home.html", cov=cov, size=services.list_size(),
                           grids=services.my_grids(current_user),
                           area_choices=[(i, label) for i, label in areas.area_choices()
                                         if current_user.is_staff or i in mine],
                           today=clock.today(), **_vocab())


@bp.get("/outreach/visit")
@role_required("committee")
def visit_form():
    cov = services.coverage(current_user.id)
    chosen = _id(request.args.get("profile"))
    return render_template("outreach/visit.html", cov=cov, chosen=chosen, today=clock.today(), **_vocab())


def _visit_data(source, json: bool) -> services.VisitData:
    def get(name, default=""):
        return source.get(name, default)

    if json:
        # JSON bodies hold plain fields only (market/__init__.py): the codes come space separated.
        difficulties = get("difficulties", "")
        difficulties = difficulties.split() if isinstance(difficulties, str) else [None]
        consent, photos = get("consent") is True, get("consent_photos") is True
        step = get("step", 0)
        profile_id = get("profile_id", 0)
    else:
        difficulties = source.getlist("difficulties")
        consent, photos = get("consent") in ("1", "y", "on"), get("consent_photos") in ("1", "y", "on")
        step = _id(get("step"))
        profile_id = _id(get("profile_id"))
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        profile_id = 0
    if not isinstance(step, int) or isinstance(step, bool):
        step = 0
    text = {k: (get(k) if isinstance(get(k), str) else "") for k in (
        "client_id", "method", "happened_on", "situation", "difficulty_notes", "measures", "consent_method",
        "industry", "stage", "written_at")}
    return services.VisitData(text["client_id"], profile_id, text["method"], text["happened_on"], step,
                              text["situation"], difficulties if isinstance(difficulties, list) else [None],
                              text["difficulty_notes"], text["measures"], consent, text["consent_method"], photos,
                              text["industry"], text["stage"], text["written_at"] or None)


@bp.post("/outreach/visits")
@login_required
def record_visit():
    """The visit form (HTML) and the phone's queue (JSON) both post here. Sending the same
    visit twice stores it once: the answer then says `created: false`."""
    as_json = request.is_json
    if not services.is_cadre(current_user):
        return _error_json("forbidden", _("Only cadres record visits."), 403) if as_json else abort(403)
    source = request.get_json(silent=True) if as_json else request.form
    if as_json and not isinstance(source, dict):
        return _error_json("bad_request", _("Send the visit as a JSON object."), 400)
    try:
        photo = None if as_json else request.files.get("photo")
        photo = photo if photo is not None and photo.filename else None
        visit, created = services.record_visit(current_user, _visit_data(source, as_json), photo)
    except services.NotFound:
        return _error_json("not_found", _("She is not on your list."), 404) if as_json else abort(404)
    except services.OutreachError as e:
        if as_json:
            return _error_json("invalid", str(e), 422)
        flash(str(e), "error")
        return redirect(url_for("outreach.visit_form", profile=_id(request.form.get("profile_id"))))
    if as_json:
        return jsonify({"id": visit.id, "client_id": visit.client_id, "created": created, "stale": visit.stale,
                        "case_id": visit.case_id}), 201 if created else 200
    if visit.case_id:
        flash(_("The visit is recorded; her difficulties went to the case desk (case %(id)s).", id=visit.case_id),
              "success")
    else:
        flash(_("The visit is recorded."), "success")
    return redirect(url_for("outreach.home"))


@bp.get("/outreach/visits/<int:visit_id>/photo")
@login_required
def visit_photo(visit_id: int):
    from flask import send_from_directory

    try:
        folder, name = services.visit_photo(current_user, visit_id)
    except services.NotFound:
        abort(404)
    resp = send_from_directory(folder, name, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/outreach/sw.js")
def service_worker():
    """The service worker, served from /outreach/ so that its scope is the front line's pages."""
    path = Path(current_app.static_folder) / "js" / "outreach-sw.js"
    resp = Response(path.read_text(encoding="utf-8"), mimetype="application/javascript")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Service-Worker-Allowed"] = "/outreach/"
    return resp


@bp.get("/outreach/manifest.webmanifest")
def manifest():
    return jsonify({"name": _("Front line"), "short_name": _("Front line"), "start_url": "/outreach/",
                    "scope": "/outreach/", "display": "standalone", "background_color": "#ffffff",
                    "theme_color": "#b0306a"})


@bp.post("/outreach/women/new")
@role_required("committee")
def add_woman():
    from market.mentoring.services import ProfileData

    data = ProfileData(request.form.get("name", ""), request.form.get("phone", ""),
                       _id(request.form.get("area_id")) or None, "", request.form.get("business_kind", ""))
    return run_and_redirect(lambda: services.add_woman(current_user, data), done=_("She is on your list."),
                            to=url_for("outreach.home"), errors=services.OutreachError, missing=services.NotFound)


@bp.post("/outreach/take-from-grids")
@role_required("committee")
def take_from_grids():
    return run_and_redirect(lambda: services.take_from_grids(current_user),
                            done=lambda n: _("%(n)s women from your grids joined your list.", n=n),
                            to=url_for("outreach.home"))


@bp.get("/outreach/women/<int:profile_id>")
@login_required
def archive(profile_id: int):
    try:
        arc = services.archive(current_user, profile_id)
    except services.NotFound:
        abort(404)
    return render_template("outreach/archive.html", a=arc, lang=lang(), **_vocab())


# ---- staff -----------------------------------------------------------------------------------

@bp.get("/staff/outreach/")
@staff_required
def staff_home():
    area_id = _id(request.args.get("area"))
    area_ids = areas.subtree_ids({area_id}) if area_id else None
    return render_template("outreach/staff.html", cov=services.coverage(area_ids=area_ids),
                           by_cadre=services.coverage_by_cadre(), cadres=services.cadres(),
                           grids=services.grids(), villages=services.villages(), area_choices=areas.area_choices(),
                           area_id=area_id,
                           profiles=services.assignable_profiles())


@bp.post("/staff/outreach/grids")
@staff_required
def add_grid():
    return run_and_redirect(lambda: services.add_grid(current_user, _id(request.form.get("village_id")),
                                                      request.form.get("name", "")),
                            done=_("Grid added."), to=url_for("outreach.staff_home"), errors=services.OutreachError)


@bp.post("/staff/outreach/grids/assign")
@staff_required
def assign_grid():
    return run_and_redirect(lambda: services.assign_grid(current_user, _id(request.form.get("cadre_id")),
                                                         _id(request.form.get("grid_id"))),
                            done=_("The grid is hers."), to=url_for("outreach.staff_home"),
                            errors=services.OutreachError)


@bp.post("/staff/outreach/assign")
@staff_required
def assign_contact():
    email = (request.form.get("email") or "").strip()
    cadre_id = _id(request.form.get("cadre_id"))
    if email:
        def assign():
            return services.assign_account(current_user, cadre_id, email)
    else:
        def assign():
            return services.assign_contact(current_user, cadre_id, _id(request.form.get("profile_id")))
    return run_and_redirect(assign, done=_("She is on the list."), to=url_for("outreach.staff_home"),
                            errors=services.OutreachError)


@bp.post("/staff/outreach/contacts/<int:contact_id>/remove")
@staff_required
def remove_contact(contact_id: int):
    return run_and_redirect(lambda: services.remove_contact(current_user, contact_id), done=_("She is off the list."),
                            to=url_for("outreach.staff_home"), missing=services.NotFound)


from market.outreach import events_views, questionnaire_views  # noqa: E402,F401  (same blueprint)
