from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from market import areas
from market.formfields import UploadField, UploadsField, YuanField
from market.vocab import ARTISAN_KINDS, CATEGORIES, choices


class ShopForm(FlaskForm):
    display_name = StringField(_l("Shop name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(_l("I am a"), choices=choices(ARTISAN_KINDS))
    district = SelectField(_l("District or county"))
    story = TextAreaField(_l("My story"), validators=[Length(max=5000)])
    photo = UploadField(_l("Photo"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = areas.district_choices()


class ProductForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=10000)])
    title_en = StringField(_l("English title (optional)"), validators=[Length(max=120)])
    description_en = TextAreaField(_l("English description (optional)"), validators=[Length(max=10000)])
    category = SelectField(_l("Category"), choices=choices(CATEGORIES))
    brand_id = SelectField(_l("Collective brand"), coerce=int, validate_choice=True)
    price = YuanField(
        _l("Price (yuan)"), places=2,
        validators=[InputRequired(), NumberRange(min=0.01, max=1_000_000, message=_l("Enter a price between 0.01 and 1,000,000 yuan."))],
    )
    stock = IntegerField(
        _l("Stock"), validators=[InputRequired(), NumberRange(min=0, max=1_000_000, message=_l("Enter a stock between 0 and 1,000,000."))]
    )
    # The stock shown when the form was opened: a save applies the difference (sales made
    # meanwhile stay sold).
    loaded_stock = HiddenField()
    images = UploadsField(_l("Images"))
    status = SelectField(
        _l("Status"), choices=[("draft", _l("Draft")), ("published", _l("Published")), ("archived", _l("Archived"))]
    )


class LowStockForm(FlaskForm):
    threshold = IntegerField(_l("List as low stock at or below"),
                             validators=[InputRequired(), NumberRange(min=0, max=999)])
