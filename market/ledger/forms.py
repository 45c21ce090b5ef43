from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from market.formfields import YuanField


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    rate_percent = DecimalField(_l("Percentage of each line (%)"), places=2,
                                validators=[Optional(), NumberRange(min=0, max=100)])
    percent_min = YuanField(_l("Minimum per parcel (yuan)"), places=2,
                               validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    percent_max = YuanField(_l("Maximum per parcel (yuan)"), places=2,
                               validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    fixed = YuanField(_l("Fixed fee per parcel (yuan)"), places=2,
                         validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    category = SelectField(_l("Only for this category"), validate_choice=False)


class BatchForm(FlaskForm):
    minimum = YuanField(_l("Pay balances of at least (yuan)"), places=2,
                           validators=[Optional(), NumberRange(min=0, max=10_000_000)])


class PaidForm(FlaskForm):
    reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=80)])


class FailedForm(FlaskForm):
    reason = StringField(_l("Why it failed"), validators=[DataRequired(), Length(max=500)])


class AdjustForm(FlaskForm):
    artisan = SelectField(_l("Artisan"), validate_choice=False)
    amount = YuanField(_l("Amount (yuan; negative takes from the balance)"), places=2,
                          validators=[DataRequired(), NumberRange(min=-1_000_000, max=1_000_000)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class DetailsForm(FlaskForm):
    method = SelectField(_l("Paid by"), validate_choice=False)
    account = StringField(_l("Account number or id"), validators=[DataRequired(), Length(max=60)])
    holder = StringField(_l("Account holder's name"), validators=[DataRequired(), Length(max=40)])
    bank_name = StringField(_l("Bank (for a bank account)"), validators=[Length(max=60)])
