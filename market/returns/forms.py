from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from market.formfields import UploadsField, YuanField
from market.returns import states


class RequestForm(FlaskForm):
    target = SelectField(_l("What is it about"), validate_choice=False)
    kind = RadioField(_l("What you ask for"), choices=list(states.KIND_LABELS.items()), default="refund",
                      validate_choice=False)
    reason = SelectField(_l("Reason"), choices=list(states.REASON_LABELS.items()), validate_choice=False)
    amount = YuanField(_l("Amount (yuan, empty = all that is refundable)"), places=2,
                          validators=[Optional(), NumberRange(min=0.01, max=10_000_000)])
    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])
    photos = UploadsField(_l("Photos (up to 3)"))


class DecisionForm(FlaskForm):
    """The artisan's answer (accept / offer / decline) and staff's decision (refund / return /
    decline): `decision` names it, `amount` is the offer or the refund, `note` the reason."""
    decision = SelectField(_l("Decision"), validate_choice=False)
    amount = YuanField(_l("Amount (yuan)"), places=2, validators=[Optional(), NumberRange(min=0.01,
                                                                                            max=10_000_000)])
    note = TextAreaField(_l("Note to the buyer"), validators=[Length(max=1000)])
