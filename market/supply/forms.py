from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from market.accounts.forms import MultiCheckboxField
from market.formfields import YuanField

MONEY = dict(places=2, validators=[Optional(), NumberRange(min=0.01, max=1_000_000_000)])


def _count(label, required=False):
    return IntegerField(label, validators=[DataRequired() if required else Optional(),
                                           NumberRange(min=0, max=1_000_000_000)])


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), validators=[DataRequired(), Length(max=120)])
    categories = MultiCheckboxField(_l("What it makes or does"))
    description = TextAreaField(_l("Description (products, services, customers)"), validators=[Length(max=4000)])
    materials = TextAreaField(_l("Materials and processes"), validators=[Length(max=2000)])
    capacity_month = _count(_l("Monthly capacity"))
    capacity_unit = StringField(_l("Unit (pieces, kg, trips...)"), validators=[Length(max=20)])
    min_order = _count(_l("Minimum order"))
    certifications = MultiCheckboxField(_l("Certifications held"))
    district = SelectField(_l("District or county"), validate_choice=False)


class MemberForm(FlaskForm):
    email = StringField(_l("E-mail of the person to add"), validators=[DataRequired(), Length(max=254)])


class PostForm(FlaskForm):
    organisation = SelectField(_l("Posted by"), coerce=int, validate_choice=False)
    kind = SelectField(_l("Need or offer"), validate_choice=False)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Details"), validators=[Length(max=4000)])
    categories = MultiCheckboxField(_l("Categories"))
    quantity = _count(_l("Quantity"))
    unit = StringField(_l("Unit"), validators=[Length(max=20)])
    timing = StringField(_l("Timing (per month, by a date...)"), validators=[Length(max=120)])
    budget_min = YuanField(_l("Budget or price from (yuan)"), **MONEY)
    budget_max = YuanField(_l("Budget or price up to (yuan)"), **MONEY)
    region_preference = SelectField(_l("Where from"), validate_choice=False)
    required_certifications = MultiCheckboxField(_l("Certifications required"))
    open_until = DateField(_l("Open until"), validators=[DataRequired()])
    case_id = IntegerField(_l("Help-desk case number (if this need comes from one)"),
                           validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])


class QuoteForm(FlaskForm):
    organisation = SelectField(_l("Quoting as"), coerce=int, validate_choice=False)
    price = YuanField(_l("Price for the whole quantity (yuan)"), places=2,
                         validators=[DataRequired(), NumberRange(min=0.01, max=1_000_000_000)])
    quantity = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=1, max=1_000_000_000)])
    lead_days = IntegerField(_l("Lead time (days)"), validators=[Optional(), NumberRange(min=0, max=3650)],
                             default=0)
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


class DealForm(FlaskForm):
    outcome = SelectField(_l("The deal"), validate_choice=False)
    value = YuanField(_l("Value of the deal (yuan)"), **MONEY)
    note = TextAreaField(_l("If not signed, why"), validators=[Length(max=2000)])


class EventForm(FlaskForm):
    kind = SelectField(_l("Kind of event"), validate_choice=False)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    venue = StringField(_l("Venue"), validators=[Length(max=200)])
    starts_on = DateField(_l("Date"), validators=[DataRequired()])
    days = IntegerField(_l("Days"), default=1, validators=[DataRequired(), NumberRange(min=1, max=7)])
    first_slot = StringField(_l("First slot starts at (HH:MM)"), default="09:00", validators=[Length(max=5)])
    slot_minutes = IntegerField(_l("Minutes per slot"), default=20, validators=[DataRequired(),
                                                                                NumberRange(min=5, max=240)])
    slot_count = IntegerField(_l("Slots per day"), default=12, validators=[DataRequired(), NumberRange(min=1, max=48)])
    tables = IntegerField(_l("Tables"), default=10, validators=[DataRequired(), NumberRange(min=1, max=500)])
    registration_deadline = DateField(_l("Registration closes at the end of"), validators=[DataRequired()])
    capacity = IntegerField(_l("Places (empty: no limit)"), validators=[Optional(), NumberRange(min=1, max=100_000)])
    eligibility = SelectField(_l("Who may register"), validate_choice=False)


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Why the event is cancelled"), validators=[DataRequired(), Length(max=2000)])


class RegisterForm(FlaskForm):
    organisation = SelectField(_l("Taking part as"), coerce=int, validate_choice=False, default=0)
    available = MultiCheckboxField(_l("Slots I am present (none ticked: all)"))


class StaffMeetingForm(FlaskForm):
    a = SelectField(_l("Participant"), coerce=int, validate_choice=False)
    b = SelectField(_l("Meets"), coerce=int, validate_choice=False)


class FeedbackForm(FlaskForm):
    met = BooleanField(_l("We met"), default=True)
    interesting = BooleanField(_l("Interesting"))
    deal_expected = BooleanField(_l("A deal is expected"))
    deal_signed = BooleanField(_l("A deal was signed"))
    value = YuanField(_l("Value of the deal (yuan)"), **MONEY)
