"""Forms of the help desk. Choices are labelled in the reader's language at render time."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from market import areas
from market.accounts.forms import MultiCheckboxField
from market.mentoring import groups, states
from matching.schema import BUSINESS_STAGES, DIFFICULTIES, INDUSTRIES

BUSINESS_SIZE_LABELS = {
    "solo": _l("Just me"),
    "family": _l("My family (2–4 people)"),
    "small": _l("Small (5–19 people)"),
    "medium": _l("Larger (20 people or more)"),
}
CHANNEL_LABELS = {
    "self_service": _l("Filed by herself"),
    "visit": _l("Home or workplace visit"),
    "committee": _l("执委直通车 (committee member's referral)"),
    "hotline": _l("Hotline 12338"),
    "early_warning": _l("Early warning"),
    "questionnaire": _l("Questionnaire"),
}
MENTOR_STATUS_LABELS = {
    "pending": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
DECLINE_LABELS = {
    "busy": _l("I am too busy just now"),
    "not_my_field": _l("Not my field"),
    "too_far": _l("Too far away"),
    "other": _l("Other reason"),
}


def lang() -> str:
    locale = get_locale()
    return "zh" if locale is None or locale.language == "zh" else "en"


def labelled(vocabulary: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    i = 0 if lang() == "zh" else 1
    return [(code, labels[i]) for code, labels in vocabulary.items()]


class MentorForm(FlaskForm):
    display_name = StringField(_l("Name shown to mentees"), validators=[DataRequired(), Length(max=80)])
    group = RadioField(_l("My group in the mutual-aid team"), validators=[DataRequired()])
    industries = MultiCheckboxField(_l("Industries I know well"))
    skills = MultiCheckboxField(_l("Help I can give"))
    district = SelectField(_l("District or county"), validators=[DataRequired()])
    capacity = IntegerField(_l("How many entrepreneurs I can help at once"), default=3,
                            validators=[InputRequired(), NumberRange(min=1, max=20)])
    availability = StringField(_l("When I am available"), validators=[Length(max=200)])
    bio = TextAreaField(_l("About me and my experience"), validators=[Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group.choices = groups.choices()
        self.district.choices = areas.district_choices()
        self.industries.choices = labelled(INDUSTRIES)
        self.skills.choices = labelled(DIFFICULTIES)


class RequestForm(FlaskForm):
    business_name = StringField(_l("Business name"), validators=[DataRequired(), Length(max=80)])
    business_size = SelectField(_l("Size of the business"), choices=list(BUSINESS_SIZE_LABELS.items()),
                                default="solo", validators=[DataRequired()])
    industry = SelectField(_l("Industry"), validators=[DataRequired()])
    stage = SelectField(_l("Stage of the business"), validators=[DataRequired()])
    district = SelectField(_l("District or county"), validators=[DataRequired()])
    difficulties = MultiCheckboxField(_l("Difficulties I face"))
    description = TextAreaField(_l("Describe the situation"), validators=[Length(max=4000)])
    consent_to_share = BooleanField(_l("I agree to share this request with the mentor I am matched with"))
    contact_phone = StringField(_l("My phone"), validators=[Length(max=20)])
    contact_wechat = StringField(_l("My WeChat id"), validators=[Length(max=40)])
    consent_contact = BooleanField(_l("My mentor may see my phone and WeChat id"))
    consent_sms = BooleanField(_l("I agree to be contacted by SMS"))
    link_shop = BooleanField(_l("Link my shop on Sisters Market"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.industry.choices = labelled(INDUSTRIES)
        self.stage.choices = labelled(BUSINESS_STAGES)
        self.difficulties.choices = labelled(DIFFICULTIES)
        self.district.choices = areas.district_choices()


CONSENT_METHOD_LABELS = {
    "spoken": _l("She said so (spoken)"),
    "paper": _l("She signed a paper form"),
}
CONSENT_SCOPE_LABELS = {
    "details": _l("Share her details with her mentors"),
    "contact": _l("Share her phone and WeChat with her mentors"),
    "sms": _l("Contact her by SMS"),
}


class OnBehalfForm(RequestForm):
    """Filing for a woman without an account: her profile, her case, and her consent as
    recorded by the person filing."""

    name = StringField(_l("Her name"), validators=[DataRequired(), Length(max=80)])
    phone = StringField(_l("Her phone"), validators=[DataRequired(), Length(max=20)])
    area_id = SelectField(_l("Village or community"), coerce=int, validate_choice=False, default=0)
    business_kind = StringField(_l("Kind of business"), validators=[Length(max=80)])
    channel = SelectField(_l("How did this reach us?"), validators=[DataRequired()])
    consent_method = RadioField(_l("How she gave her consent"), choices=list(CONSENT_METHOD_LABELS.items()),
                                default="spoken", validators=[DataRequired()])

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.area_id.choices = [(0, "—")] + areas.area_choices()
        self.channel.choices = [(c, CHANNEL_LABELS[c]) for c in channels]
        self.consent_to_share.label.text = _l("She agrees to share her case with the mentor she is matched with")
        self.consent_contact.label.text = _l("Her mentor may see her phone and WeChat id")
        self.consent_sms.label.text = _l("She agrees to be contacted by SMS")
        self.contact_phone.label.text = _l("Phone to share with her mentor (if not hers above)")
        self.contact_wechat.label.text = _l("Her WeChat id")


class ConsentForm(FlaskForm):
    scope = SelectField(_l("Consent to"), choices=list(CONSENT_SCOPE_LABELS.items()))
    method = RadioField(_l("How"), choices=list(CONSENT_METHOD_LABELS.items()), default="spoken")


class EntryForm(FlaskForm):
    kind = SelectField(_l("What happened"), validators=[DataRequired()])
    happened_on = DateField(_l("Date"), validators=[Optional()])
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])
    body = TextAreaField(_l("Notes"), validators=[DataRequired(), Length(max=4000)])


class DifficultyForm(FlaskForm):
    status = SelectField(_l("Where it stands"), choices=list(states.DIFFICULTY_LABELS.items()),
                         validators=[DataRequired()])
    measures = TextAreaField(_l("Measures taken"), validators=[Length(max=4000)])
    result = TextAreaField(_l("Result"), validators=[Length(max=4000)])


class ContactNoteForm(FlaskForm):
    note = TextAreaField(_l("How you contacted her and what she said"), validators=[DataRequired(), Length(max=4000)])


class DismissForm(FlaskForm):
    reason = TextAreaField(_l("Why dismiss it?"), validators=[DataRequired(), Length(max=2000)])


class ResolveForm(FlaskForm):
    rating = RadioField(_l("How helpful was your mentor?"), coerce=int,
                        choices=[(5, "★★★★★"), (4, "★★★★"), (3, "★★★"), (2, "★★"), (1, "★")],
                        validators=[InputRequired()])
    outcome = TextAreaField(_l("What changed for your business?"), validators=[DataRequired(), Length(max=4000)])


class CloseForm(FlaskForm):
    reason = TextAreaField(_l("Why is it closed?"), validators=[DataRequired(), Length(max=1000)])


class DeclineForm(FlaskForm):
    code = RadioField(_l("Why can you not help this time?"), choices=list(DECLINE_LABELS.items()), default="busy")
    reason = StringField(_l("A few words (only staff see them)"), validators=[Length(max=200)])


class NeedPhraseForm(FlaskForm):
    """Staff add an example of how a woman might describe a difficulty."""

    code = SelectField(_l("Difficulty"), validators=[DataRequired()])
    phrase = StringField(_l("How she might say it"), validators=[DataRequired(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.code.choices = labelled(DIFFICULTIES)
