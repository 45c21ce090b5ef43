"""The help desk pages for women and mentors: the landing page, mentor enrolment, pause, and
answering asks; the helpers every help-desk template uses. The other pages live beside this
module on the same blueprint (this module imports them to register them): case_views.py (filing,
the case page and its forms), loop_views.py (staff unstick a case, closure), need_views.py
(needs read from her text) and staff_views.py (the staff pages).
Thin: each view reads the request, calls one service, and renders or redirects."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import areas, audit
from market.auth import role_required
from market.mentoring import groups, services, states
from market.mentoring.blueprint import _error, bp
from market.mentoring.forms import (
    BUSINESS_SIZE_LABELS,
    CHANNEL_LABELS,
    CONSENT_METHOD_LABELS,
    CONSENT_SCOPE_LABELS,
    DECLINE_LABELS,
    MENTOR_STATUS_LABELS,
    DeclineForm,
    MentorForm,
    lang,
)
from market.mentoring.matcher import reason_texts
from market.views_common import LazyList
from matching import schema


@bp.app_context_processor
def mentoring_helpers():
    def vocab_label(kind: str, code: str) -> str:
        if kind == "district":
            return areas.district_label(code, lang())
        if kind == "group":
            return groups.label(code, lang())
        vocabulary = {"industry": schema.INDUSTRIES, "difficulty": schema.DIFFICULTIES,
                      "stage": schema.BUSINESS_STAGES}[kind]
        return schema.label(vocabulary, code, lang())

    def staff_links() -> list[dict]:
        links = [{"url": url_for("staff_cases.queue_page"), "label": _("Case queue")},
                 {"url": url_for("staff_cases.reports_page"), "label": _("Reports")},
                 {"url": url_for("mentoring.dashboard"), "label": _("Mutual-aid dashboard")},
                 {"url": url_for("mentoring.profiles"), "label": _("Women without an account")},
                 {"url": url_for("mentoring.team"), "label": _("Committee members and supervisors")},
                 {"url": url_for("insights.dashboard"), "label": _("Insights and early warnings")}] \
            if current_user.is_authenticated and current_user.is_staff else []
        if links:
            links.append({"url": url_for("mentoring.need_phrases"), "label": _("How women describe needs")})
        if current_user.is_authenticated and audit.may_audit(current_user):
            links.append({"url": url_for("staff_cases.audit_log"), "label": _("Audit log")})
        return links

    return {"case_labels": states.CASE_LABELS, "intro_labels": states.INTRODUCTION_LABELS,
            "status_log_labels": states.STATUS_LOG_LABELS,
            "difficulty_labels": states.DIFFICULTY_LABELS, "channel_labels": CHANNEL_LABELS,
            "size_labels": BUSINESS_SIZE_LABELS, "decline_labels": DECLINE_LABELS,
            "consent_scope_labels": CONSENT_SCOPE_LABELS, "consent_method_labels": CONSENT_METHOD_LABELS,
            "log_labels": services.LOG_LABELS, "vocab_label": vocab_label,
            "reason_texts": lambda reasons, audience="her": reason_texts(reasons, lang(), audience),
            "mentor_status_labels": MENTOR_STATUS_LABELS,
            "nav_items": LazyList(lambda: [{"url": url_for("mentoring.index"), "label": _("Mutual aid")}]),
            "staff_links": LazyList(staff_links)}


# ---- landing -------------------------------------------------------------------------

@bp.get("/mentoring/")
def index():
    if not current_user.is_authenticated:
        return render_template("mentoring/index.html", profile=None, requests=[], asks=[], cases=[])
    profile, asks, cases = services.mentor_home(current_user)
    return render_template("mentoring/index.html", profile=profile, asks=asks, cases=cases,
                           requests=services.my_cases(current_user), decline_form=DeclineForm(),
                           filed=services.filed_by(current_user), due=services.due_this_week(current_user))


# ---- mentors -------------------------------------------------------------------------

@bp.route("/mentoring/mentor/profile", methods=["GET", "POST"])
@login_required
def mentor_profile():
    profile = services.mentor_profile(current_user)
    form = MentorForm(obj=profile)
    if request.method == "GET" and profile is None:
        form.display_name.data = current_user.name
    if form.validate_on_submit():
        data = services.MentorData(form.display_name.data, form.group.data, form.industries.data, form.skills.data,
                                   form.bio.data, form.district.data, form.capacity.data, form.availability.data)
        try:
            services.save_mentor_profile(current_user, data)
        except services.MentoringError as e:
            form.form_errors.append(str(e))
        else:
            flash(_("Your mentor profile is saved.") if profile else
                  _("Thank you for joining! Federation staff will review your profile shortly."), "success")
            return redirect(url_for("mentoring.index"))
    return render_template("mentoring/mentor_form.html", form=form, profile=profile)


@bp.post("/mentoring/mentor/pause")
@role_required("mentor")
def pause():
    try:
        services.set_paused(current_user, request.form.get("paused") == "1")
    except services.NotFound:
        abort(404)
    return redirect(url_for("mentoring.index"))


@bp.post("/mentoring/asks/<int:introduction_id>/accept")
@role_required("mentor")
def accept(introduction_id: int):
    try:
        case = services.accept(current_user, introduction_id)
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
        return redirect(url_for("mentoring.index"))
    flash(_("Thank you! You are now this entrepreneur's mentor."), "success")
    return redirect(url_for("mentoring.case_page", case_id=case.id))


@bp.post("/mentoring/asks/<int:introduction_id>/decline")
@role_required("mentor")
def decline(introduction_id: int):
    form = DeclineForm()
    try:
        services.decline(current_user, introduction_id, form.reason.data or "", request.form.get("code") or "busy")
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("Declined. The request goes to the next suggested mentor."), "info")
    return redirect(url_for("mentoring.index"))



# The other pages live beside this module, on the same blueprint.
from market.mentoring import case_views, loop_views, need_views, staff_views  # noqa: E402, F401
