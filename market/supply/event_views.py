"""Events (matchmaking days, training, lectures, job fairs): the pages participants use
(register, ask for meetings, agenda, feedback) and the staff's (create, schedule, cancel,
floor plan, check-in, report). Each POST calls one operation of market.supply.operations."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import charts, clock
from market.auth import staff_required
from market.models import Event, EventMeeting, Registration
from market.supply import operations as ops
from market.supply import services
from market.supply.blueprint import ELIGIBILITY_LABELS, EVENT_KIND_LABELS, _fen, _get, _lang, _save_form, bp
from market.supply.forms import CancelForm, EventForm, FeedbackForm, RegisterForm, StaffMeetingForm
from market.views_common import run_and_redirect

# ---- events: participants --------------------------------------------------------------------

@bp.get("/events/")
def events():
    return render_template("supply/events.html", events=services.upcoming_events())


def _register_form(event: Event) -> RegisterForm:
    form = RegisterForm()
    orgs = [o for o in ops.organisations_of(current_user) if o.status == "approved"]
    form.organisation.choices = [(0, _("Myself"))] + [(o.id, o.name) for o in orgs]
    labels = services.slot_labels(event)
    form.available.choices = list(labels.items())
    return form


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    ev = _get(Event, event_id)
    mine = services.registration_of(current_user, ev)
    suggestions, everyone, asked, asking = [], [], {}, set()
    if mine is not None and mine.status == "registered" and ev.kind == "matchmaking" and ev.status == "open":
        suggestions = services.event_suggestions(ev, mine, k=10)
        everyone = [r for r in ev.registrations if r.status == "registered" and r.id != mine.id]
        asked, asking = services.requests_of(ev, mine), services.requests_to(ev, mine)
    return render_template("supply/event.html", ev=ev, mine=mine, register_form=_register_form(ev)
                           if current_user.is_authenticated else None, suggestions=suggestions, everyone=everyone,
                           asked=asked, asking=asking, label=services.participant_label,
                           open_for_registration=ev.status == "open" and clock.now() <= ev.registration_deadline)


@bp.post("/events/<int:event_id>/register")
@login_required
def register(event_id: int):
    ev = _get(Event, event_id)
    form = _register_form(ev)
    return run_and_redirect(lambda: ops.register(current_user, ev.id, form.organisation.data or None,
                                                 form.available.data or []),
                            done=lambda reg: _("You are registered.") if reg.status == "registered"
                            else _("The event is full: you are on the waiting list."),
                            to=url_for("supply.event", event_id=ev.id), errors=ops.SupplyError,
                            valid=form.validate_on_submit(), invalid=_("Check the form."))


@bp.post("/events/<int:event_id>/withdraw")
@login_required
def withdraw(event_id: int):
    _get(Event, event_id)
    return run_and_redirect(lambda: ops.withdraw(current_user, event_id), done=_("Your registration is cancelled."),
                            to=url_for("supply.event", event_id=event_id), errors=ops.SupplyError)


@bp.post("/events/<int:event_id>/meet/<int:reg_id>")
@login_required
def request_meeting(event_id: int, reg_id: int):
    ev = _get(Event, event_id)
    decision = request.form.get("decision", "wanted")
    mine = services.registration_of(current_user, ev)
    # The matcher's score weighs the request in the schedule: computed here, never taken from the form.
    score = 0.0
    if decision == "wanted" and mine is not None and mine.status == "registered":
        score = next((m.score for r, m in services.event_suggestions(ev, mine, k=50) if r.id == reg_id), 0.0)
    return run_and_redirect(lambda: ops.request_meeting(current_user, event_id, reg_id, decision, score),
                            done=_("Saved."), to=url_for("supply.event", event_id=event_id), errors=ops.SupplyError,
                            missing=ops.NotFound)


@bp.get("/events/<int:event_id>/agenda")
@login_required
def agenda(event_id: int):
    ev = _get(Event, event_id)
    mine = services.registration_of(current_user, ev)
    if mine is None:
        abort(404)
    return render_template("supply/agenda.html", ev=ev, mine=mine, meetings=services.agenda(ev, mine),
                           labels=services.slot_labels(ev), label=services.participant_label,
                           feedback=services.feedback_of(mine), feedback_open=clock.today() >= ev.starts_on,
                           form=FeedbackForm(), may_see_contact=services.may_see_contact,
                           may_see_user_contact=services.may_see_user_contact)


@bp.post("/events/<int:event_id>/feedback/<int:meeting_id>")
@login_required
def feedback(event_id: int, meeting_id: int):
    meeting = _get(EventMeeting, meeting_id)
    if meeting.event_id != event_id:
        abort(404)
    form = FeedbackForm()
    return run_and_redirect(lambda: ops.give_feedback(current_user, meeting.id, met=form.met.data,
                                                      interesting=form.interesting.data,
                                                      deal_expected=form.deal_expected.data,
                                                      deal_signed=form.deal_signed.data,
                                                      value_fen=_fen(form.value.data)),
                            done=_("Thank you for your feedback."), to=url_for("supply.agenda", event_id=event_id),
                            errors=ops.SupplyError, missing=ops.NotFound, valid=form.validate_on_submit(),
                            invalid=_("Check the form."))


# ---- events: staff ---------------------------------------------------------------------------

def _deadline_utc(day) -> datetime:
    """The end of `day` in Beijing, as naive UTC."""
    return datetime.combine(day + timedelta(days=1), time()) - clock.BEIJING


@bp.route("/staff/events/new", methods=["GET", "POST"])
@staff_required
def new_event():
    form = EventForm()
    form.kind.choices = list(EVENT_KIND_LABELS.items())
    form.eligibility.choices = list(ELIGIBILITY_LABELS.items())
    if request.method == "GET":
        form.starts_on.data = clock.today() + timedelta(days=14)
        form.registration_deadline.data = clock.today() + timedelta(days=10)

    def create():
        data = ops.EventData(title=form.title.data or "", kind=form.kind.data or "", description=form.description.data
                             or "", venue=form.venue.data or "", starts_on=form.starts_on.data, days=form.days.data,
                             first_slot=(form.first_slot.data or "").strip(), slot_minutes=form.slot_minutes.data,
                             slot_count=form.slot_count.data, tables=form.tables.data,
                             registration_deadline=_deadline_utc(form.registration_deadline.data),
                             capacity=form.capacity.data, eligibility=form.eligibility.data or "")
        return ops.create_event(current_user, data)

    saved = _save_form(form, create, field="title", done=_("The event is created."),
                       to=lambda ev: url_for("supply.staff_event", event_id=ev.id))
    return saved if saved is not None else render_template("supply/event_form.html", form=form)


def _staff_meeting_form(ev: Event) -> StaffMeetingForm:
    form = StaffMeetingForm()
    choices = [(r.id, services.participant_label(r)) for r in ev.registrations if r.status == "registered"]
    form.a.choices = choices
    form.b.choices = choices
    return form


@bp.get("/staff/events/<int:event_id>")
@staff_required
def staff_event(event_id: int):
    ev = _get(Event, event_id)
    return render_template("supply/staff_event.html", ev=ev, cancel_form=CancelForm(),
                           meeting_form=_staff_meeting_form(ev), meetings=services.meetings(ev),
                           labels=services.slot_labels(ev), label=services.participant_label)


@bp.post("/staff/events/<int:event_id>/schedule")
@staff_required
def schedule(event_id: int):
    _get(Event, event_id)
    return run_and_redirect(lambda: ops.schedule_event(current_user, event_id),
                            done=lambda result: _("%(n)s meetings scheduled, %(u)s could not be placed.",
                                                  n=len(result.meetings), u=len(result.unscheduled)),
                            to=url_for("supply.staff_event", event_id=event_id), errors=ops.SupplyError)


@bp.post("/staff/events/<int:event_id>/cancel")
@staff_required
def cancel(event_id: int):
    _get(Event, event_id)
    form = CancelForm()
    return run_and_redirect(lambda: ops.cancel_event(current_user, event_id, form.reason.data),
                            done=_("The event is cancelled and every participant is told."),
                            to=url_for("supply.staff_event", event_id=event_id), errors=ops.SupplyError,
                            valid=form.validate_on_submit(), invalid=_("Say why the event is cancelled."))


@bp.post("/staff/events/<int:event_id>/meetings")
@staff_required
def add_meeting(event_id: int):
    ev = _get(Event, event_id)
    form = _staff_meeting_form(ev)
    two = _("Choose two different participants of this event.")

    def add():
        try:
            return ops.staff_add_meeting(current_user, ev.id, form.a.data, form.b.data)
        except ops.NotFound:
            raise ops.SupplyError(two) from None

    return run_and_redirect(add, done=_("The meeting is added; schedule again to place it."),
                            to=url_for("supply.staff_event", event_id=ev.id), errors=ops.SupplyError,
                            valid=form.validate_on_submit(), invalid=two)


@bp.get("/staff/events/<int:event_id>/floor")
@staff_required
def floor(event_id: int):
    ev = _get(Event, event_id)
    return render_template("supply/floor.html", ev=ev, plan=services.floor_plan(ev), labels=services.slot_labels(ev),
                           label=services.participant_label)


@bp.route("/staff/events/<int:event_id>/checkin", methods=["GET", "POST"])
@staff_required
def checkin(event_id: int):
    ev = _get(Event, event_id)
    if request.method == "POST":
        reg_id = request.form.get("registration", "")
        if not (reg_id.isdigit() and len(reg_id) < 10):
            flash(_("Choose a participant."), "error")
        else:
            reg = _get(Registration, int(reg_id))
            if reg.event_id != ev.id:
                abort(404)
            ops.check_in(current_user, reg.id)
            flash(_("%(name)s is checked in.", name=services.participant_label(reg)), "success")
        return redirect(url_for("supply.checkin", event_id=ev.id))
    return render_template("supply/checkin.html", ev=ev, label=services.participant_label,
                           regs=[r for r in ev.registrations if r.status == "registered"])


@bp.get("/staff/events/<int:event_id>/report")
@staff_required
def report(event_id: int):
    ev = _get(Event, event_id)
    rep = services.report(ev, _lang())
    return render_template("supply/report.html", ev=ev, report=rep, charts=_report_charts(rep))


def _report_charts(rep: services.Report) -> list:
    """The report's four bar charts, drawn by market/charts.py like every chart of the site."""
    yuan = current_app.jinja_env.filters["yuan"]
    out = []
    for rows, what, css in ((rep.by_category, "sector", "sector"), (rep.by_district, "district", "district")):
        held = [(label, n) for label, n, _v in rows]
        value = [(label, v) for label, _n, v in rows]
        out.append(charts.bar_chart(held, css_id=f"chart-held-{css}",
                                    title=_("Meetings held by sector") if what == "sector"
                                    else _("Meetings held by district")))
        out.append(charts.bar_chart(value, css_id=f"chart-value-{css}", fmt=yuan,
                                    title=_("Deal value by sector") if what == "sector"
                                    else _("Deal value by district")))
    return out
