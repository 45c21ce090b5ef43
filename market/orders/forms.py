from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from market.formfields import YuanField
from market.orders.services import PHONE_MESSAGE, normalise_phone


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _mobile(form, field):
    if field.data and normalise_phone(field.data) is None:
        raise ValidationError(PHONE_MESSAGE)


class CheckoutForm(FlaskForm):
    ship_name = StringField(_l("Recipient"), filters=[_strip], validators=[DataRequired(), Length(max=40)])
    ship_phone = StringField(_l("Mobile phone"), validators=[DataRequired(), Length(max=20), _mobile])
    ship_address = TextAreaField(_l("Delivery address"), validators=[DataRequired(), Length(min=5, max=200)])
    # One token per version of the cart: two tabs or a double submit place one order.
    checkout_token = HiddenField(validators=[DataRequired(), Length(max=64)])
    save_address = BooleanField(_l("Save this address in my address book"))


class GuestCheckoutForm(CheckoutForm):
    email = EmailField(_l("Email (for the order confirmation and the link to your order)"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)])


class AddressForm(FlaskForm):
    name = StringField(_l("Recipient"), filters=[_strip], validators=[DataRequired(), Length(max=40)])
    phone = StringField(_l("Mobile phone"), validators=[DataRequired(), Length(max=20), _mobile])
    address = TextAreaField(_l("Delivery address"), validators=[DataRequired(), Length(min=5, max=200)])
    is_default = BooleanField(_l("Use as my default address"))


class GuestLinkForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)])
    number = StringField(_l("Order number (e.g. SM00000012)"), filters=[_strip],
                         validators=[DataRequired(), Length(max=20)])


class ShipForm(FlaskForm):
    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=40)])
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(min=6, max=40)])


class RefundForm(FlaskForm):
    target = SelectField(_l("What to refund"), validate_choice=False)
    amount = YuanField(_l("Amount (yuan, empty = all that is refundable)"), places=2,
                          validators=[Optional(), NumberRange(min=0.01, max=10_000_000)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    # One per rendering of the form: the same form submitted twice refunds once.
    request_token = HiddenField(validators=[Length(max=64)])
