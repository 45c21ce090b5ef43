"""The help desk pages: mentor enrolment, cases with suggestions, answering asks, each
difficulty and the case log, and the staff dashboard, proposed cases, assignment and export.
Thin: each view reads the request, calls one service, and renders or redirects."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import areas, audit
from market.auth import role_required, staff_required
from market.ids import parse_id
from market.lazy import LazyList
from market.mentoring import groups, services, states
from market.mentoring.blueprint import _error, _int, bp
from market.mentoring.forms import (
    BUSINESS_SIZE_LABELS,
    CHANNEL_LABELS,
    CONSENT_METHOD_LABELS,
    CONSENT_SCOPE_LABELS,
    DECLINE_LABELS,
    MENTOR_STATUS_LABELS,
    CloseForm,
    ConsentForm,
    ContactNoteForm,
    DeclineForm,
    DifficultyForm,
    DismissForm,
    EntryForm,
    MentorForm,
    NeedPhraseForm,
    OnBehalfForm,
    RequestForm,
    ResolveForm,
    lang,
)
from market.mentoring.matcher import reason_texts
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

    def staff_links() -> list[dict]:  # read only by pages that show the staff menu
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
            "nav_items": [{"url": url_for("mentoring.index"), "label": _("Mutual aid")}],
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


# ---- cases ---------------------------------------------------------------------------

@bp.route("/mentoring/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    form = RequestForm()
    if request.method == "GET" and current_user.artisan is not None:
        form.district.data = current_user.artisan.district
        form.business_name.data = current_user.artisan.display_name
    if form.validate_on_submit():
        try:
            case = services.file_case(current_user, _case_data(form), form_sent_again_ok=True)
        except services.MentoringError as e:
            form.form_errors.append(str(e))
        else:
            flash(_("Your request is filed. Here are the mentors who suit it best."), "success")
            return redirect(url_for("mentoring.case_page", case_id=case.id))
    return render_template("mentoring/request_form.html", form=form)


def _case_data(form) -> services.CaseData:
    return services.CaseData(form.business_name.data, form.industry.data, form.stage.data, form.district.data,
                             form.difficulties.data, form.description.data, form.consent_to_share.data,
                             getattr(form, "link_shop", None) and form.link_shop.data, form.business_size.data,
                             form.contact_phone.data or "", form.contact_wechat.data or "",
                             form.consent_contact.data, form.consent_sms.data)


@bp.route("/mentoring/cases/new-for-her", methods=["GET", "POST"])
@role_required("committee")
def new_on_behalf():
    """Staff or a committee member (执委) files for a woman without an account."""
    channels = services.ON_BEHALF_CHANNELS if current_user.is_staff else ("committee",)
    form = OnBehalfForm(channels=channels)
    if request.method == "GET":
        form.channel.data = "committee" if not current_user.is_staff else "visit"
    if form.validate_on_submit():
        profile = services.ProfileData(form.name.data, form.phone.data, form.area_id.data or None,
                                       form.district.data, form.business_kind.data)
        try:
            case = services.file_on_behalf(current_user, _case_data(form), channel=form.channel.data,
                                           consent_method=form.consent_method.data, profile_data=profile,
                                           form_sent_again_ok=True)
        except services.MentoringError as e:
            form.form_errors.append(str(e))
        else:
            flash(_("The case is filed on her behalf. Here are the mentors who suit it best."), "success")
            return redirect(url_for("mentoring.case_page", case_id=case.id))
    return render_template("mentoring/on_behalf_form.html", form=form)


@bp.post("/mentoring/cases/<int:case_id>/consent")
@login_required
def consent(case_id: int):
    form = ConsentForm()
    given = request.form.get("given") == "1"
    try:
        services.set_consent(current_user, case_id, request.form.get("scope") or "", given,
                             request.form.get("method") or "online")
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("Consent recorded.") if given else _("Consent withdrawn."), "success")
    del form
    return _back(case_id, "#consent")


def _visible(case_id: int):
    try:
        return services.visible_case(current_user, case_id)
    except services.NotFound:
        abort(404)


def _back(case_id: int, anchor: str = ""):
    return redirect(url_for("mentoring.case_page", case_id=case_id) + anchor)


@bp.get("/mentoring/requests/<int:request_id>")
@login_required
def request_page(request_id: int):
    """Where the older help desk's mails and bookmarks point."""
    return redirect(url_for("mentoring.case_page", case_id=request_id), code=301)


@bp.get("/mentoring/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    case, acc = _visible(case_id)
    entry_form = EntryForm()
    kinds = services.TYPED_KINDS if acc.log_kinds_all else ("note",)
    entry_form.kind.choices = [(k, services.LOG_LABELS[k]) for k in kinds]
    entry_form.happened_on.data = services.common.today()
    services.record_read(current_user, case, acc)
    # Staff may ask any approved mentor by name, but not one whose account is suspended.
    mentors = [m for m in services.mentors_for_staff("approved") if m.user.active] if acc.is_staff else []
    pending_needs = services.pending_needs(case) if (acc.is_author or acc.is_filer) and case.status == "open" else []
    teams = services.team_suggestions(case) if acc.is_staff and case.status == "open" else []
    viewers = audit.viewers(case) if audit.may_audit(current_user) else None
    return render_template("mentoring/case.html", case=case, req=case, acc=acc, entry_form=entry_form,
                           mentors=mentors, pending_needs=pending_needs, teams=teams,
                           consent_form=ConsentForm(), consents=services.consent_history(case),
                           resolve_form=ResolveForm(), close_form=CloseForm(), timeline=services.timeline(case),
                           contact_form=ContactNoteForm(), dismiss_form=DismissForm(),
                           asked=next((i for i in case.introductions if i.status == "asked"), None),
                           viewers=viewers, viewer_names=audit.actor_names(viewers or []),
                           action_label=audit.action_label)


@bp.post("/mentoring/cases/<int:case_id>/ask/<int:introduction_id>")
@login_required
def ask(case_id: int, introduction_id: int):
    try:
        intro = services.ask_mentor(current_user, case_id, introduction_id)
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("We have asked %(name)s. You will see her answer here.", name=intro.mentor.display_name), "success")
    return _back(case_id)


@bp.post("/mentoring/cases/<int:case_id>/log")
@login_required
def log_entry(case_id: int):
    form = EntryForm()
    happened = form.happened_on.data if form.happened_on.validate(form) else None
    next_date = form.next_follow_up_on.data if form.next_follow_up_on.validate(form) else None
    if form.happened_on.raw_data and form.happened_on.raw_data[0] and happened is None \
            or form.next_follow_up_on.raw_data and form.next_follow_up_on.raw_data[0] and next_date is None:
        flash(_("Enter dates as YYYY-MM-DD."), "error")
        return _back(case_id, "#case-log")
    try:
        services.add_entry(current_user, case_id, form.kind.data or "", form.body.data or "", happened, next_date)
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(_("Added to the case log."), "success")
    return _back(case_id, "#case-log")


@bp.post("/mentoring/cases/<int:case_id>/difficulties/<int:difficulty_id>")
@login_required
def update_difficulty(case_id: int, difficulty_id: int):
    form = DifficultyForm()
    try:
        services.update_difficulty(current_user, case_id, difficulty_id, request.form.get("status") or "",
                                   form.measures.data or "", form.result.data or "")
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(_("Saved."), "success")
    return _back(case_id, "#difficulties")


@bp.post("/mentoring/cases/<int:case_id>/resolve")
@login_required
def resolve(case_id: int):
    form = ResolveForm()
    try:
        rating = int(form.rating.data) if form.rating.data is not None else 0
    except (TypeError, ValueError):
        rating = 0
    try:
        services.resolve(current_user, case_id, rating, form.outcome.data or "")
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(_("Congratulations! The case is resolved. Thank you for your rating."), "success")
    return _back(case_id)


@bp.post("/mentoring/cases/<int:case_id>/close")
@login_required
def close(case_id: int):
    form = CloseForm()
    try:
        services.close_unresolved(current_user, case_id, form.reason.data or "")
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(_("The case is closed."), "info")
    return _back(case_id)


# ---- the loop: staff unstick a case, the mentor proposes closure, she confirms -------------

def _act(case_id: int, action, success: str, anchor: str = ""):
    try:
        action()
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(success, "success")
    return _back(case_id, anchor)


def _form_text(name: str) -> str:
    return (request.form.get(name) or "")[:5000]


@bp.post("/staff/mentoring/cases/<int:case_id>/withdraw-ask")
@staff_required
def withdraw_ask(case_id: int):
    return _act(case_id, lambda: services.withdraw_ask(current_user, case_id, _int(request.form.get("introduction_id")),
                                                       _form_text("reason")), _("The ask is withdrawn."))


@bp.post("/staff/mentoring/cases/<int:case_id>/ask-mentor")
@staff_required
def ask_named_mentor(case_id: int):
    return _act(case_id, lambda: services.ask_named_mentor(current_user, case_id, _int(request.form.get("mentor_id"))),
                _("The mentor is asked."))


@bp.post("/staff/mentoring/cases/<int:case_id>/second-mentor")
@staff_required
def add_second_mentor(case_id: int):
    return _act(case_id, lambda: services.add_second_mentor(current_user, case_id,
                                                            _int(request.form.get("mentor_id"))),
                _("The mentor is asked to join as a second mentor."))


@bp.post("/staff/mentoring/cases/<int:case_id>/reassign")
@staff_required
def reassign(case_id: int):
    return _act(case_id, lambda: services.reassign(current_user, case_id, _form_text("reason")),
                _("The mentor is released; the case is looking for a new mentor."))


@bp.post("/staff/mentoring/cases/<int:case_id>/reopen")
@staff_required
def reopen(case_id: int):
    return _act(case_id, lambda: services.reopen(current_user, case_id, _form_text("reason")),
                _("The case is reopened."))


@bp.post("/staff/mentoring/cases/<int:case_id>/verify")
@staff_required
def verify_closure(case_id: int):
    return _act(case_id, lambda: services.verify_closure(current_user, case_id, _form_text("note")),
                _("Signed off: the case is closed as solved."))


@bp.post("/mentoring/cases/<int:case_id>/propose-closure")
@login_required
def propose_closure(case_id: int):
    results = []
    for key in request.form:
        if key.startswith("status_"):
            difficulty_id = _int(key.removeprefix("status_"))
            results.append(services.DifficultyResult(difficulty_id, request.form.get(key) or "",
                                                     _form_text(f"result_{difficulty_id}")))
    return _act(case_id, lambda: services.propose_closure(current_user, case_id, results, _form_text("summary")),
                _("Thank you! She is asked to confirm that the case can be closed."))


@bp.post("/mentoring/cases/<int:case_id>/confirm-closure")
@login_required
def confirm_closure(case_id: int):
    return _act(case_id, lambda: services.confirm_closure(current_user, case_id, _int(request.form.get("rating")),
                                                          _form_text("outcome")),
                _("Congratulations! The case is resolved. Thank you for your rating."))


@bp.post("/mentoring/cases/<int:case_id>/not-yet")
@login_required
def not_yet(case_id: int):
    return _act(case_id, lambda: services.not_yet(current_user, case_id, _form_text("reason")),
                _("Your mentor will carry on."))


@bp.post("/staff/mentoring/cases/<int:case_id>/open")
@staff_required
def open_proposed(case_id: int):
    try:
        services.open_proposed(current_user, case_id, ContactNoteForm().note.data or "")
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(_("The case is open and is being matched."), "success")
    return _back(case_id)


@bp.post("/staff/mentoring/cases/<int:case_id>/dismiss")
@staff_required
def dismiss_proposed(case_id: int):
    try:
        services.dismiss_proposed(current_user, case_id, DismissForm().reason.data or "")
    except services.NotFound:
        abort(404)
    except (services.MentoringError, states.InvalidTransition) as e:
        _error(e)
    else:
        flash(_("The proposed case is dismissed."), "info")
    return _back(case_id)




# ---- needs read from her text -------------------------------------------------------------

@bp.post("/mentoring/cases/<int:case_id>/needs")
@login_required
def answer_need(case_id: int):
    answer = request.form.get("answer")
    code = request.form.get("code") or ""
    if answer not in ("yes", "no"):
        flash(_("Say whether you need it."), "error")
        return _back(case_id, "#understood")
    try:
        services.answer_need(current_user, case_id, code, answer == "yes")
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("Thank you. The suggestions now take it into account.") if answer == "yes"
              else _("Removed. The suggestions no longer count it."), "success")
    return _back(case_id, "#suggestions")


@bp.route("/staff/mentoring/phrases", methods=["GET", "POST"])
@staff_required
def need_phrases():
    from matching.text import default_phrases

    form = NeedPhraseForm()
    if form.validate_on_submit():
        try:
            services.add_phrase(current_user, form.code.data, form.phrase.data)
        except services.MentoringError as e:
            form.phrase.errors.append(str(e))
        else:
            flash(_("Saved. The matcher is refitted with it."), "success")
            return redirect(url_for("mentoring.need_phrases"))
    return render_template("mentoring/phrases.html", form=form, phrases=services.phrases(),
                           defaults=default_phrases())


@bp.post("/staff/mentoring/phrases/<int:phrase_id>/delete")
@staff_required
def delete_need_phrase(phrase_id: int):
    try:
        services.delete_phrase(current_user, phrase_id)
    except services.NotFound:
        abort(404)
    flash(_("Removed. The matcher is refitted without it."), "success")
    return redirect(url_for("mentoring.need_phrases"))


@bp.post("/mentoring/cases/<int:case_id>/ask-team")
@staff_required
def ask_team(case_id: int):
    ids = [parse_id(v) for v in request.form.getlist("mentor_id")]
    if not ids or any(i is None for i in ids):
        flash(_("Choose a team of up to three different mentors."), "error")
        return _back(case_id, "#staff-actions")
    try:
        services.ask_team(current_user, case_id, ids)
    except services.NotFound:
        abort(404)
    except services.MentoringError as e:
        _error(e)
    else:
        flash(_("The first member is asked; ask the others to join once she has accepted."), "success")
    return _back(case_id, "#staff-actions")


# The staff pages live beside this module, on the same blueprint.
from market.mentoring import staff_views  # noqa: E402, F401
