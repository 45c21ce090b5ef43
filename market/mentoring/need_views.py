"""Needs read from her text: she answers "right?", staff keep the example phrasings of needs.
Same blueprint as market/mentoring/views.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.auth import staff_required
from market.mentoring import services
from market.mentoring.blueprint import _back, _error, bp
from market.mentoring.forms import (
    NeedPhraseForm,
)


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
