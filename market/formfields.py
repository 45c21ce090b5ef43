"""Form fields shared by several forms."""
from __future__ import annotations

from flask_wtf.file import FileField, MultipleFileField
from werkzeug.datastructures import FileStorage


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
