"""The help desk's staff pages: dashboard, the case list, mentor review, global assignment,
the CSV export, profiles of women without an account, and the team (roles and areas).
Same blueprint as market/mentoring/views.py, which imports this module to register them."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market import areas
from market.auth import role_required, staff_required
from market.ids import parse_id
from market.mentoring import services, states
from market.mentoring.blueprint import _error, _int, bp
from market.mentoring.forms import CHANNEL_LABELS, lang
from matching import schema

# ---- staff ---------------------------------------------------------------------------


@bp.get("/staff/mentoring/")
@staff_required
def dashboard():
    d = services.dashboard()
    i = 0 if lang() == "zh" else 1
    charts = {
        "status": [(str(states.CASE_LABELS[k]), n) for k, n in d.by_status.items()],
        "district": [(areas.district_label(k), n) for k, n in d.by_district.items()],
        "channel": [(str(CHANNEL_LABELS.get(k, k)), n) for k, n in d.by_channel.items()],
        "difficulty": sorted(((schema.DIFFICULTIES[k][i], n) for k, n in d.by_difficulty.items()),
                             key=lambda row: -row[1]),
    }
    return render_template("mentoring/dashboard.html", d=d, charts=charts, overdue_days=services.overdue_days())


@bp.get("/staff/mentoring/requests")
@staff_required
def staff_requests():
    status = request.args.get("status") or None
    return render_template("mentoring/staff_requests.html", requests=services.all_cases(status), status=status,
                           overdue_ids=services.overdue_ids())


@bp.get("/staff/mentoring/mentors")
@staff_required
def staff_mentors():
    status = request.args.get("status") or None
    status = status if status in ("pending", "approved", "rejected") else None
    return render_template("mentoring/staff_mentors.html", mentors=services.mentors_for_staff(status), status=status)


@bp.post("/staff/mentoring/mentors/<int:mentor_id>/review")
@staff_required
def review_mentor(mentor_id: int):
    try:
        services.review_mentor(current_user, mentor_id, request.form.get("decision", ""))
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("mentoring.staff_mentors", status=request.form.get("back") or None))


@bp.get("/staff/mentoring/assign")
@staff_required
def assign():
    proposal, mentors = services.propose_assignment()
    return render_template("mentoring/assign.html", proposal=proposal, mentors=mentors)


@bp.post("/staff/mentoring/assign")
@staff_required
def confirm_assign():
    pairs: dict[int, int | None] = {}
    for key, value in request.form.items():
        if key.startswith("mentor_for_"):
            request_id = parse_id(key.removeprefix("mentor_for_"))
            if request_id is not None:
                pairs[request_id] = parse_id(value)
    sent, skipped = services.confirm_assignment(current_user, pairs)
    flash(_("%(n)s introduction(s) sent to mentors.", n=sent), "success")
    if skipped:
        flash(_("%(n)s request(s) changed meanwhile or their mentor is full; please review them again.",
                n=len(skipped)), "error")
    return redirect(url_for("mentoring.staff_requests"))


@bp.get("/staff/mentoring/cases.csv")
@staff_required
def cases_csv():
    """The older address of the export (bookmarks): every case, one row per difficulty."""
    from market import audit
    from market.staff import exports, reports

    filters = reports.Filters(lang=lang())
    body = exports.cases_csv(filters)
    audit.record_read(current_user, "cases.export.csv", ("cases", None))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=mutual-aid-difficulties.csv"})



# ---- staff: profiles of women without an account, the team ----------------------------

@bp.get("/staff/mentoring/profiles")
@role_required("committee")
def profiles():
    return render_template("mentoring/profiles.html", profiles=services.profiles_for(current_user),
                           duplicates=services.duplicate_phones() if current_user.is_staff else {})


@bp.get("/staff/mentoring/profiles/<int:profile_id>")
@role_required("committee")
def profile_page(profile_id: int):
    try:
        profile = services.read_profile(current_user, profile_id)
    except services.NotFound:
        abort(404)
    return render_template("mentoring/profile.html", profile=profile,
                           cases=services.cases_of_profile(profile))


@bp.post("/staff/mentoring/profiles/<int:profile_id>/link")
@staff_required
def link_profile(profile_id: int):
    try:
        services.link_account(current_user, profile_id, request.form.get("email", ""))
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("Her account is linked: her cases are now hers."), "success")
    return redirect(url_for("mentoring.profile_page", profile_id=profile_id))


@bp.post("/staff/mentoring/profiles/merge")
@staff_required
def merge_profiles():
    try:
        keep = services.merge_profiles(current_user, _int(request.form.get("keep")), _int(request.form.get("merge")))
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
        return redirect(url_for("mentoring.profiles"))
    flash(_("The profiles are merged."), "success")
    return redirect(url_for("mentoring.profile_page", profile_id=keep.id))


@bp.get("/staff/mentoring/profiles/<int:profile_id>/export.json")
@staff_required
def export_profile(profile_id: int):
    import json

    try:
        data = services.export_profile(current_user, profile_id)
    except services.NotFound:
        abort(404)
    return Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=profile-{profile_id}.json"})


@bp.post("/staff/mentoring/profiles/<int:profile_id>/anonymise")
@staff_required
def anonymise_profile(profile_id: int):
    if request.form.get("confirm") != "1":
        flash(_("Tick the box to confirm: this cannot be undone."), "error")
        return redirect(url_for("mentoring.profile_page", profile_id=profile_id))
    try:
        services.anonymise_profile(current_user, profile_id)
    except services.NotFound:
        abort(404)
    flash(_("Her personal data is erased; the case counts are kept."), "success")
    return redirect(url_for("mentoring.profile_page", profile_id=profile_id))


@bp.route("/staff/mentoring/team", methods=["GET", "POST"])
@staff_required
def team():
    from market.accounts.services import AccountError, find_user_by_email, grant_role, revoke_role
    from market.models.accounts import STAFF_GRANTED_ROLES

    if request.method == "POST":
        user = find_user_by_email(request.form.get("email", ""))
        role, action = request.form.get("role", ""), request.form.get("action", "grant")
        area_id = _int(request.form.get("area_id"))
        try:
            if user is None:
                raise services.MentoringError(_("No account has this email."))
            if role not in STAFF_GRANTED_ROLES:
                raise AccountError(_("Unknown role."))
            if action == "revoke":
                revoke_role(current_user, user, role)
            else:
                if area_id:
                    areas.grant_responsibility(current_user, user, area_id)
                grant_role(current_user, user, role)
        except (AccountError, services.MentoringError, areas.AreaError) as e:
            _error(e)
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("mentoring.team"))
    return render_template("mentoring/team.html", members=services.team_members(),
                           area_choices=areas.area_choices())
