from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional

from market.auth import role_required
from market.extensions import csrf
from market.notifications import channels, inbox, service, sms

bp = Blueprint("notices", __name__, url_prefix="/notices")


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language of my notices"), choices=[("zh", "中文"), ("en", "English")])
    phone = StringField(_l("Mobile phone for SMS"), validators=[Optional(), Length(max=20)])

    def validate_phone(self, field):
        if field.data and not sms.valid_phone(field.data):
            raise ValidationError(_l("Enter a mobile number of 7 to 15 digits, such as 13805742266."))


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


@bp.get("/")
@login_required
def index():
    page = _page()
    notices = inbox.inbox(current_user, page)
    return render_template("notices/index.html", notices=notices[:inbox.PAGE], page=page,
                           more=len(notices) > inbox.PAGE)


@bp.get("/<int:notice_id>")
@login_required
def open_notice(notice_id: int):
    notice = inbox.open_notice(current_user, notice_id)
    if notice is None:
        abort(404)
    return render_template("notices/show.html", notice=notice)


@bp.post("/read-all")
@login_required
def read_all():
    if not FlaskForm().validate():
        abort(400)
    inbox.read_all(current_user)
    flash(_("All notices are marked read."), "success")
    return redirect(url_for(".index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(locale=current_user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
                           phone=current_user.phone or "")
    if form.validate_on_submit():
        checked = set()
        for name in request.form:
            parts = name.split(":")
            if len(parts) == 3 and parts[0] == "pref":
                checked.add((parts[1], parts[2]))
        inbox.save_preferences(current_user, checked, form.locale.data, sms.normalise_phone(form.phone.data))
        flash(_("Your notice settings are saved."), "success")
        return redirect(url_for(".preferences"))
    return render_template("notices/preferences.html", form=form, rows=inbox.preference_table(current_user))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here without our form; the signed token is the key
def unsubscribe(token: str):
    """One click from a mail: GET shows a button (mail scanners open links), POST (the button,
    or a mail client's List-Unsubscribe-Post) turns the mails of that kind off."""
    found = channels.read_unsubscribe_token(token) if len(token) < 200 else None
    if found is None:
        return render_template("notices/unsubscribe.html", invalid=True), 404
    user_id, kind = found
    done = False
    if request.method == "POST":
        if not inbox.unsubscribe(user_id, kind):
            return render_template("notices/unsubscribe.html", invalid=True), 404
        done = True
    return render_template("notices/unsubscribe.html", invalid=False, done=done, kind=service.KINDS[kind],
                           token=token)


@bp.get("/failed")
@role_required("staff")
def failed():
    return render_template("notices/failed.html", notices=inbox.failed_notices())


@bp.post("/failed/<int:notice_id>/retry")
@role_required("staff")
def retry(notice_id: int):
    if not FlaskForm().validate():
        abort(400)
    if inbox.retry_failed(notice_id):
        service.deliver(notice_id)
        flash(_("The notice is being sent again."), "success")
    else:
        flash(_("That notice is not waiting to be sent again."), "error")
    return redirect(url_for(".failed"))
