"""Training, lectures and job fairs (sign-up, waiting list and check-in are the supply module's
event pages), their feedback; job posts; and the front line's figures for staff."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import areas, charts
from market.auth import staff_required
from market.mentoring.forms import lang
from market.outreach import events as ev
from market.outreach.blueprint import _id, bp
from market.outreach.labels import EVENT_KIND_LABELS, JOB_KIND_LABELS, METHOD_LABELS, STEP_LABELS
from market.outreach.services import NotFound, OutreachError, cadres
from market.staff.reports import outreach as report
from market.views_common import run_and_redirect


@bp.get("/outreach/events")
def events():
    kind = request.args.get("kind") or None
    return render_template("outreach/events.html", events=ev.upcoming(kind), kind=kind,
                           kinds=list(EVENT_KIND_LABELS.items()), mine=ev.my_registrations(current_user))


@bp.post("/outreach/events/<int:event_id>/feedback")
@login_required
def event_feedback(event_id: int):
    form = request.form
    return run_and_redirect(lambda: ev.give_feedback(current_user, event_id, _id(form.get("rating")) or 0,
                                                     form.get("useful") in ("1", "y", "on"), form.get("comment", "")),
                            done=_("Thank you for your feedback."), to=url_for("outreach.events"),
                            errors=OutreachError, missing=NotFound)


def _yuan(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 7:
        return None
    return int(value) * 100


@bp.route("/jobs", methods=["GET"])
def jobs():
    area_id = _id(request.args.get("area")) or None
    kind = request.args.get("kind") or None
    return render_template("outreach/jobs.html", posts=ev.browse_jobs(area_id, kind), area_id=area_id, kind=kind,
                           kinds=list(JOB_KIND_LABELS.items()), area_choices=areas.area_choices(),
                           orgs=ev.employer_organisations(current_user))


@bp.route("/jobs/new", methods=["GET", "POST"])
@login_required
def new_job():
    orgs = ev.employer_organisations(current_user)
    if not orgs:
        abort(403)
    if request.method == "POST":
        f = request.form
        low, high = _yuan(f.get("pay_min")), _yuan(f.get("pay_max"))
        try:
            valid = date.fromisoformat(f.get("valid_until") or "")
        except ValueError:
            valid = None
        try:
            ev.post_job(current_user, ev.JobData(_id(f.get("organisation_id")), f.get("position", ""),
                                                 f.get("kind", ""), _id(f.get("area_id")) or None, f.get("place", ""),
                                                 -1 if low is None else low, -1 if high is None else high,
                                                 f.get("hours", ""), f.get("contact", ""), valid))
        except OutreachError as e:
            flash(str(e), "error")
        else:
            flash(_("The job is posted."), "success")
            return redirect(url_for("outreach.jobs"))
    return render_template("outreach/job_form.html", orgs=orgs, kinds=list(JOB_KIND_LABELS.items()),
                           area_choices=areas.area_choices())


@bp.get("/staff/outreach/report")
@staff_required
def staff_report():
    def day(name):
        try:
            return date.fromisoformat(request.args.get(name) or "")
        except ValueError:
            return None

    area_id = _id(request.args.get("area")) or None
    cadre_id = _id(request.args.get("cadre")) or None
    f = report.figures(day("start"), day("end"), area_id, cadre_id)
    people = {u.id: u.name for u in cadres()}
    figs = {
        "method": charts.bar_chart([(str(METHOD_LABELS[m]), f.by_method.get(m, 0)) for m in METHOD_LABELS],
                                   title=_("Visits by method"), css_id="by-method"),
        "step": charts.bar_chart([(str(STEP_LABELS[s]), f.by_step.get(s, 0)) for s in STEP_LABELS],
                                 title=_("Visits by step reached"), css_id="by-step"),
        "loop": charts.bar_chart([(_("Difficulties found"), f.difficulties_found),
                                  (_("Sent to the case desk"), f.difficulties_sent),
                                  (_("Solved"), f.difficulties_solved)],
                                 title=_("Difficulties: found, sent, solved"), css_id="loop"),
    }
    return render_template("outreach/report.html", f=f, figs=figs, area_id=area_id, cadre_id=cadre_id,
                           area_choices=areas.area_choices(), people=people, lang=lang())
