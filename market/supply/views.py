"""Supply-chain matchmaking pages: organisations, the board of needs and offers, quotes and
deals, events (matchmaking days). Each POST calls one operation of market.supply.operations."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market import charts, clock
from market.artisans.services import yuan_to_fen
from market.auth import staff_required
from market.models import Event, EventMeeting, Organisation, Quote, Registration, SupplyPost
from market.supply import operations as ops
from market.supply import services
from market.supply.forms import (
    CancelForm,
    DealForm,
    EventForm,
    FeedbackForm,
    MemberForm,
    OrganisationForm,
    PostForm,
    QuoteForm,
    RegisterForm,
    StaffMeetingForm,
)
from matching.supply import CERTIFICATIONS, SUPPLY_CATEGORIES

bp = Blueprint("supply", __name__)

POST_KIND_LABELS = {"need": _l("Need"), "offer": _l("Offer")}
POST_STATE_LABELS = {"open": _l("Open"), "awarded": _l("Quote accepted"), "closed": _l("Closed")}
QUOTE_STATE_LABELS = {"sent": _l("Sent"), "accepted": _l("Accepted"), "declined": _l("Not chosen"),
                      "withdrawn": _l("Withdrawn")}
DEAL_STATE_LABELS = {"pending": _l("Waiting for both sides"), "signed": _l("Signed"),
                     "not_signed": _l("Not signed")}
ORG_STATE_LABELS = {"pending": _l("Awaiting approval"), "approved": _l("Approved"), "rejected": _l("Rejected")}
REGION_LABELS = {"any": _l("Anywhere"), "city": _l("Ningbo only"), "district": _l("My district only")}
EVENT_KIND_LABELS = {"matchmaking": _l("Matchmaking day"), "training": _l("Training"), "lecture": _l("Lecture"),
                     "job_fair": _l("Job fair")}
ELIGIBILITY_LABELS = {"all": _l("Everyone"), "organisations": _l("Approved organisations"),
                      "women": _l("Women entrepreneurs and artisans")}
EVENT_STATE_LABELS = {"open": _l("Open"), "cancelled": _l("Cancelled"), "finished": _l("Finished")}
REGISTRATION_LABELS = {"registered": _l("Registered"), "waiting": _l("On the waiting list"),
                       "cancelled": _l("Cancelled")}


def _lang() -> str:
    from market.areas.services import _lang as lang

    return lang()


@bp.app_context_processor
def supply_labels():
    lang = _lang()
    i = 0 if lang == "zh" else 1
    return {"supply_category_labels": {c: v[i] for c, v in SUPPLY_CATEGORIES.items()},
            "certification_labels": {c: v[i] for c, v in CERTIFICATIONS.items()},
            "post_kind_labels": POST_KIND_LABELS, "post_state_labels": POST_STATE_LABELS,
            "quote_state_labels": QUOTE_STATE_LABELS, "deal_state_labels": DEAL_STATE_LABELS,
            "org_state_labels": ORG_STATE_LABELS, "region_labels": REGION_LABELS,
            "event_kind_labels": EVENT_KIND_LABELS, "eligibility_labels": ELIGIBILITY_LABELS,
            "event_state_labels": EVENT_STATE_LABELS, "registration_labels": REGISTRATION_LABELS,
            "supply_lang": lang, "supply_case_deals": services.case_deals, "supply_nav": _supply_nav(),
            "supply_staff_links": _supply_staff_links()}


def _supply_nav() -> list[dict]:
    """Menu links for signed-in users: the events for everyone, the board for those who trade
    (artisans, entrepreneurs) and staff."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    items = []
    if current_user.is_staff or current_user.has_role("artisan") or current_user.has_role("entrepreneur"):
        items.append({"url": url_for("supply.index"), "label": _("Supply chain"), "id": "nav-supply"})
    items.append({"url": url_for("supply.events"), "label": _("Events"), "id": "nav-events"})
    return items


def _supply_staff_links() -> list[dict]:
    if not (getattr(current_user, "is_authenticated", False) and current_user.is_staff):
        return []
    return [{"url": url_for("supply.staff_organisations"), "label": _("Organisations")},
            {"url": url_for("supply.events"), "label": _("Matchmaking days")},
            {"url": url_for("supply.new_event"), "label": _("Create an event")}]


def _fen(value) -> int | None:
    return yuan_to_fen(value) if value is not None else None


def _field_error(form, e: ops.SupplyError, default: str) -> None:
    field = getattr(form, e.field, None) if e.field else None
    if field is None:
        field = getattr(form, default)
    field.errors = list(field.errors) + [str(e)]


def _get(model, ident):
    try:
        return ops.get(model, ident)
    except ops.NotFound:
        abort(404)


def _category_choices():
    i = 0 if _lang() == "zh" else 1
    return [(c, v[i]) for c, v in SUPPLY_CATEGORIES.items()]


def _cert_choices():
    i = 0 if _lang() == "zh" else 1
    return [(c, v[i]) for c, v in CERTIFICATIONS.items()]


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
    if form.validate_on_submit():
        try:
            org = ops.save_organisation(current_user, _org_data(form))
        except ops.SupplyError as e:
            _field_error(form, e, "name")
        else:
            flash(_("Your organisation is registered. The federation's staff will review it."), "success")
            return redirect(url_for("supply.organisation", org_id=org.id))
    return render_template("supply/organisation_form.html", form=form, org=None)


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
    if form.validate_on_submit():
        try:
            ops.save_organisation(current_user, _org_data(form), org)
        except ops.SupplyError as e:
            _field_error(form, e, "name")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("supply.organisation", org_id=org.id))
    return render_template("supply/organisation_form.html", form=form, org=org)


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
    if form.validate_on_submit():
        try:
            ops.add_member(current_user, org_id, form.email.data)
            flash(_("Added."), "success")
        except ops.NotFound:
            abort(404)
        except ops.SupplyError as e:
            flash(str(e), "error")
    else:
        flash(_("Enter the e-mail address of an account."), "error")
    return redirect(url_for("supply.organisation", org_id=org_id))


@bp.get("/staff/organisations")
@staff_required
def staff_organisations():
    return render_template("supply/staff_organisations.html", orgs=services.pending_organisations())


@bp.post("/staff/organisations/<int:org_id>/review")
@staff_required
def review_organisation(org_id: int):
    try:
        ops.review_organisation(current_user, org_id, request.form.get("decision", ""))
        flash(_("Saved."), "success")
    except ops.NotFound:
        abort(404)
    except ops.SupplyError as e:
        flash(str(e), "error")
    return redirect(url_for("supply.staff_organisations"))


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
    if form.validate_on_submit():
        data = ops.PostData(kind=form.kind.data or "", title=form.title.data or "",
                            description=form.description.data or "", categories=form.categories.data or [],
                            quantity=form.quantity.data, unit=form.unit.data or "", timing=form.timing.data or "",
                            budget_min_fen=_fen(form.budget_min.data), budget_max_fen=_fen(form.budget_max.data),
                            region_preference=form.region_preference.data or "any",
                            required_certifications=form.required_certifications.data or [],
                            open_until=form.open_until.data, case_id=form.case_id.data)
        try:
            row = ops.post(current_user, form.organisation.data, data)
        except ops.SupplyError as e:
            _field_error(form, e, "title")
        else:
            flash(_("Posted on the board."), "success")
            return redirect(url_for("supply.post", post_id=row.id))
    return render_template("supply/post_form.html", form=form)


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
    if form.validate_on_submit():
        try:
            ops.send_quote(current_user, row.id, form.organisation.data, price_fen=_fen(form.price.data),
                           quantity=form.quantity.data, lead_days=form.lead_days.data or 0, note=form.note.data or "")
            flash(_("Your quote is sent."), "success")
        except ops.SupplyError as e:
            flash(str(e), "error")
    else:
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
    return redirect(url_for("supply.post", post_id=row.id))


@bp.post("/supply/posts/<int:post_id>/close")
@login_required
def close_post(post_id: int):
    try:
        ops.close_post(current_user, post_id)
        flash(_("Closed."), "success")
    except ops.NotFound:
        abort(404)
    return redirect(url_for("supply.post", post_id=post_id))


@bp.post("/supply/quotes/<int:quote_id>/accept")
@login_required
def accept_quote(quote_id: int):
    quote = _get(Quote, quote_id)
    try:
        ops.accept_quote(current_user, quote.id)
        flash(_("Quote accepted. You can now see each other's contact details."), "success")
    except ops.NotFound:
        abort(404)
    except ops.SupplyError as e:
        flash(str(e), "error")
    return redirect(url_for("supply.post", post_id=quote.post_id))


@bp.post("/supply/quotes/<int:quote_id>/deal")
@login_required
def record_deal(quote_id: int):
    quote = _get(Quote, quote_id)
    form = DealForm()
    form.outcome.choices = [("signed", _("Signed")), ("not_signed", _("Not signed"))]
    if form.validate_on_submit() and form.outcome.data in ("signed", "not_signed"):
        try:
            ops.record_deal(current_user, quote.id, form.outcome.data == "signed", _fen(form.value.data),
                            form.note.data or "")
            flash(_("Saved."), "success")
        except ops.NotFound:
            abort(404)
        except ops.SupplyError as e:
            flash(str(e), "error")
    else:
        flash(_("Say whether the deal was signed."), "error")
    return redirect(url_for("supply.post", post_id=quote.post_id))


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
    if form.validate_on_submit():
        try:
            reg = ops.register(current_user, ev.id, form.organisation.data or None, form.available.data or [])
            flash(_("You are registered.") if reg.status == "registered"
                  else _("The event is full: you are on the waiting list."), "success")
        except ops.SupplyError as e:
            flash(str(e), "error")
    else:
        flash(_("Check the form."), "error")
    return redirect(url_for("supply.event", event_id=ev.id))


@bp.post("/events/<int:event_id>/withdraw")
@login_required
def withdraw(event_id: int):
    _get(Event, event_id)
    try:
        ops.withdraw(current_user, event_id)
        flash(_("Your registration is cancelled."), "success")
    except ops.SupplyError as e:
        flash(str(e), "error")
    return redirect(url_for("supply.event", event_id=event_id))


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
    try:
        ops.request_meeting(current_user, event_id, reg_id, decision, score)
        flash(_("Saved."), "success")
    except ops.NotFound:
        abort(404)
    except ops.SupplyError as e:
        flash(str(e), "error")
    return redirect(url_for("supply.event", event_id=event_id))


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
    if form.validate_on_submit():
        try:
            ops.give_feedback(current_user, meeting.id, met=form.met.data, interesting=form.interesting.data,
                              deal_expected=form.deal_expected.data, deal_signed=form.deal_signed.data,
                              value_fen=_fen(form.value.data))
            flash(_("Thank you for your feedback."), "success")
        except ops.NotFound:
            abort(404)
        except ops.SupplyError as e:
            flash(str(e), "error")
    else:
        flash(_("Check the form."), "error")
    return redirect(url_for("supply.agenda", event_id=event_id))


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
    if form.validate_on_submit():
        data = ops.EventData(title=form.title.data or "", kind=form.kind.data or "", description=form.description.data
                             or "", venue=form.venue.data or "", starts_on=form.starts_on.data, days=form.days.data,
                             first_slot=(form.first_slot.data or "").strip(), slot_minutes=form.slot_minutes.data,
                             slot_count=form.slot_count.data, tables=form.tables.data,
                             registration_deadline=_deadline_utc(form.registration_deadline.data),
                             capacity=form.capacity.data, eligibility=form.eligibility.data or "")
        try:
            ev = ops.create_event(current_user, data)
        except ops.SupplyError as e:
            _field_error(form, e, "title")
        else:
            flash(_("The event is created."), "success")
            return redirect(url_for("supply.staff_event", event_id=ev.id))
    return render_template("supply/event_form.html", form=form)


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
    try:
        result = ops.schedule_event(current_user, event_id)
        flash(_("%(n)s meetings scheduled, %(u)s could not be placed.", n=len(result.meetings),
                u=len(result.unscheduled)), "success")
    except ops.SupplyError as e:
        flash(str(e), "error")
    return redirect(url_for("supply.staff_event", event_id=event_id))


@bp.post("/staff/events/<int:event_id>/cancel")
@staff_required
def cancel(event_id: int):
    _get(Event, event_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            ops.cancel_event(current_user, event_id, form.reason.data)
            flash(_("The event is cancelled and every participant is told."), "success")
        except ops.SupplyError as e:
            flash(str(e), "error")
    else:
        flash(_("Say why the event is cancelled."), "error")
    return redirect(url_for("supply.staff_event", event_id=event_id))


@bp.post("/staff/events/<int:event_id>/meetings")
@staff_required
def add_meeting(event_id: int):
    ev = _get(Event, event_id)
    form = _staff_meeting_form(ev)
    if form.validate_on_submit():
        try:
            ops.staff_add_meeting(current_user, ev.id, form.a.data, form.b.data)
            flash(_("The meeting is added; schedule again to place it."), "success")
        except (ops.SupplyError, ops.NotFound) as e:
            flash(str(e) if isinstance(e, ops.SupplyError) else _("Choose two different participants of this event."),
                  "error")
    else:
        flash(_("Choose two different participants of this event."), "error")
    return redirect(url_for("supply.staff_event", event_id=ev.id))


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
