"""The help desk's case pages: filing a case (her own, or on her behalf), consent, the case page
with its suggestions, asking a mentor, the case log, each difficulty, resolving and closing, and
staff opening or dismissing a proposed case. Same blueprint as market/mentoring/views.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import audit
from market.auth import role_required, staff_required
from market.mentoring import services, states
from market.mentoring.blueprint import _back, _error, bp
from market.mentoring.forms import (
    CloseForm,
    ConsentForm,
    ContactNoteForm,
    DifficultyForm,
    DismissForm,
    EntryForm,
    OnBehalfForm,
    RequestForm,
    ResolveForm,
)


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
