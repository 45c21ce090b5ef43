"""Form fields shared by several forms."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import DecimalField
from wtforms.validators import ValidationError

FEN = Decimal("0.01")


def _chosen(value) -> bool:
    """A file the visitor chose. A browser sends an empty part (no file name, no bytes) for
    a file input left empty; that is not a file."""
    return isinstance(value, FileStorage) and bool(value.filename)


class UploadField(FileField):
    """One uploaded file, or None. Never filled from the object being edited (`obj=`): an
    image column holds a stored file name, not something to upload again."""

    def process_data(self, value) -> None:
        self.data = None

    def process_formdata(self, valuelist) -> None:
        self.data = next((v for v in valuelist if _chosen(v)), None)

    def populate_obj(self, obj, name) -> None:
        pass  # storing the file is the service's job


class UploadsField(MultipleFileField):
    """The files uploaded with this request (a list, maybe empty); never the object's own."""

    def process_data(self, value) -> None:
        self.data = []

    def process_formdata(self, valuelist) -> None:
        self.data = [v for v in valuelist if _chosen(v)]

    def populate_obj(self, obj, name) -> None:
        pass


class YuanField(DecimalField):
    """An amount in yuan, kept to the fen: more decimals than two (99.995) are a form message,
    never silently rounded to another price (99.990 is 99.99 and fine)."""

    def __init__(self, label=None, validators=None, places=2, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)

    def pre_validate(self, form) -> None:
        value = self.data
        if isinstance(value, Decimal) and value.is_finite() and value != value.quantize(FEN):
            raise ValidationError(_l("Enter the amount in yuan with at most two decimals (fen)."))
