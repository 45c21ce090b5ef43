from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
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


# ---- user management (/staff/users) ----------------------------------------------------------

class UserSearchForm(FlaskForm):
    """A GET form (bookmarkable), so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Email, name or phone"), validators=[Length(max=100)])
    role = SelectField(_l("Role"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        from market.models.accounts import ROLES
        from market.vocab import ROLE_LABELS

        super().__init__(*args, **kwargs)
        self.role.choices = [("", _l("Any role"))] + [(r, ROLE_LABELS.get(r, r)) for r in ROLES]
        self.status.choices = [("", _l("Any status")), ("active", _l("Active")), ("suspended", _l("Suspended"))]


class UserRolesForm(FlaskForm):
    """The roles ticked, and (hidden) the changeable roles the page showed ticked: the service
    writes only the difference, so a change by another staff member meanwhile is kept."""

    roles = SelectMultipleField(_l("Roles"), validate_choice=True)
    shown = HiddenField()

    def __init__(self, *args, **kwargs):
        from market.models.accounts import ROLES
        from market.vocab import ROLE_LABELS

        super().__init__(*args, **kwargs)
        self.roles.choices = [(r, ROLE_LABELS.get(r, r)) for r in ROLES]

    def shown_roles(self) -> list[str]:
        return [r for r in (self.shown.data or "").split(",") if r]


class SuspendForm(FlaskForm):
    reason = TextAreaField(_l("Why (seen by staff only)"), validators=[DataRequired(), Length(max=300)])


class UnsuspendForm(FlaskForm):
    pass
