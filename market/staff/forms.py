from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from market import areas


class BrandForm(FlaskForm):
    name = StringField(_l("Brand name"), validators=[DataRequired(), Length(max=60)])
    name_en = StringField(_l("English name"), validators=[Length(max=80)])
    slug = StringField(_l("Web address"), validators=[DataRequired(), Length(max=60)])
    district = SelectField(_l("District or county"))
    story = TextAreaField(_l("Story"), validators=[Length(max=5000)])
    featured = BooleanField(_l("Feature on the home page"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [("", "—")] + areas.district_choices()


class SynonymGroupForm(FlaskForm):
    terms = StringField(_l("Synonym group"), validators=[DataRequired(), Length(max=600)])
