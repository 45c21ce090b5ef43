"""Mail to mentors and entrepreneurs (the notifications issue replaces this with notify())."""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from market.extensions import db
from market.mail import send_mail
from market.models import Case, Introduction, MentorProfile


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, _external=True, **values)
    except RuntimeError:  # no request (CLI, demo seed): the help desk's path is still useful
        return "/mentoring/"


def notify_asked(intro: Introduction) -> None:
    mentor = db.session.get(MentorProfile, intro.mentor_id)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        send_mail(mentor.user.email, _("An entrepreneur asks for your help"),
                  _("An entrepreneur has asked you to be her mentor. Please accept or decline at %(url)s",
                    url=_url("mentoring.index")))


def notify_matched(case: Case, mentor: MentorProfile) -> None:
    if case.author is None or not case.author.email:
        return  # filed for a woman without an account: the person who filed it tells her
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        send_mail(case.author.email, _("%(name)s will be your mentor", name=mentor.display_name),
                  _("%(name)s has accepted your request for help. Follow your case at %(url)s",
                    name=mentor.display_name, url=_url("mentoring.case_page", case_id=case.id)))
