"""The loop on the case page: staff unstick a case (withdraw an ask, ask a named mentor or a
team, a second mentor, reassign, reopen, verify), the mentor proposes closure, she confirms or
says not yet. Same blueprint as market/mentoring/views.py."""
from __future__ import annotations

from flask import abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.auth import staff_required
from market.ids import parse_id
from market.mentoring import services, states
from market.mentoring.blueprint import _back, _error, _int, bp


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
