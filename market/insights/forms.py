from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

PLATFORM_LABELS = {"taobao": _l("Taobao"), "pinduoduo": _l("Pinduoduo"), "douyin": _l("Douyin"),
                   "wechat": _l("WeChat shop"), "other": _l("Other platform")}
CONSENT_METHOD_LABELS = {"spoken": _l("Spoken (phone or visit)"), "paper": _l("On signed paper")}


class OpenForm(FlaskForm):
    note = TextAreaField(_l("How you contacted her and what she said"), validators=[DataRequired(), Length(max=4000)])
    consent_method = RadioField(_l("How she gave her consent"), choices=list(CONSENT_METHOD_LABELS.items()),
                                default="spoken", validators=[InputRequired()])
    consent_details = BooleanField(_l("She agrees that her mentor sees her business and story"))
    consent_contact = BooleanField(_l("She agrees that her mentor gets her phone or WeChat"))


class DismissWarningForm(FlaskForm):
    reason = TextAreaField(_l("Why dismiss it?"), validators=[DataRequired(), Length(max=2000)])


class MapShopForm(FlaskForm):
    external_id = StringField(_l("Shop id in the platform's export"), validators=[DataRequired(), Length(max=64)])
    platform = SelectField(_l("Platform"), choices=list(PLATFORM_LABELS.items()))
    profile_id = SelectField(_l("Her profile"), coerce=str, validators=[DataRequired()])
    name = StringField(_l("Shop name"), validators=[Length(max=80)])


class ImportForm(FlaskForm):
    file = FileField(_l("Daily sales (CSV: shop_id,date,orders,revenue_fen,refunded_fen)"))


class WatchForm(FlaskForm):
    watched = BooleanField(_l("Let the federation watch my sales to offer help"))


class ResultsForm(FlaskForm):
    new_channel = StringField(_l("New sales channel opened (e.g. Douyin shop, a supermarket)"),
                              validators=[Length(max=80)])
    loan_obtained = BooleanField(_l("Loan obtained"))
    loan_yuan = IntegerField(_l("Loan amount (yuan)"), validators=[Optional(), NumberRange(min=1, max=10 ** 9)])
    jobs_created = IntegerField(_l("Jobs created"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)])
    jobs_kept = IntegerField(_l("Jobs kept"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)])
    certificate = StringField(_l("Certificate obtained (e.g. food licence, organic)"), validators=[Length(max=80)])
