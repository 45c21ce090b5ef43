from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import Length

from market.formfields import UploadsField

STARS = [("5", "★★★★★"), ("4", "★★★★☆"), ("3", "★★★☆☆"), ("2", "★★☆☆☆"), ("1", "★☆☆☆☆")]


class ReviewForm(FlaskForm):
    stars = RadioField(_l("Stars"), choices=STARS, default="5", validate_choice=False)
    body = TextAreaField(_l("Your review"), validators=[Length(max=2000)])
    photos = UploadsField(_l("Photos (up to 3)"))

