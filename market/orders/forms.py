from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class CheckoutForm(FlaskForm):
    ship_name = StringField(_l("Recipient"), validators=[DataRequired(), Length(max=40)])
    ship_phone = StringField(_l("Mobile phone"), validators=[DataRequired(), Length(max=20)])
    ship_address = TextAreaField(_l("Delivery address"), validators=[DataRequired(), Length(min=5, max=200)])
    # One token per version of the cart: two tabs or a double submit place one order.
    checkout_token = HiddenField(validators=[DataRequired(), Length(max=64)])


class ShipForm(FlaskForm):
    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=40)])
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(min=6, max=40)])


class RefundForm(FlaskForm):
    target = SelectField(_l("What to refund"), validate_choice=False)
    amount = DecimalField(_l("Amount (yuan, empty = all that is refundable)"), places=2,
                          validators=[Optional(), NumberRange(min=0.01, max=10_000_000)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    # One per rendering of the form: the same form submitted twice refunds once.
    request_token = HiddenField(validators=[Length(max=64)])
