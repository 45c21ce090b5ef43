"""Photos attached to a refund request: counted against the buyer's upload budget, stored
with thumbnails, removed again if the request is not made."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from market import images
from market.models import User
from market.returns.eligibility import RequestError, _cfg


def _upload_folder():
    from pathlib import Path

    return Path(current_app.config["UPLOAD_FOLDER"])


def _store_photos(user: User, photos: list) -> list[str]:
    photos = [p for p in photos if p is not None]
    if not photos:
        return []
    cfg = current_app.config
    most = min(int(_cfg("REFUND_REQUEST_MAX_PHOTOS", 3)), int(cfg["MAX_IMAGES_PER_REQUEST"]))
    if len(photos) > most:
        raise RequestError(_l("Add at most %(n)s photos.", n=most), field="photos")
    from market.artisans.services import ShopError, charge_upload_budget

    try:
        charge_upload_budget(user, len(photos))
    except ShopError as exc:
        raise RequestError(str(exc), field="photos") from None
    names: list[str] = []
    try:
        for photo in photos:
            stored = images.store_image(getattr(photo, "stream", photo), _upload_folder(),
                                        max_bytes=cfg["MAX_IMAGE_BYTES"], max_side=cfg["IMAGE_MAX_SIDE"],
                                        thumb_size=cfg["THUMBNAIL_SIZE"], max_pixels=cfg["IMAGE_MAX_PIXELS"])
            names += [stored.filename, stored.thumb_filename]
    except images.ImageError as exc:
        _delete_photos(names)
        raise RequestError(str(exc), field="photos") from None
    return names[::2]  # the full images; each one's thumbnail is <name>_t.jpg


def _delete_photos(names: list[str]) -> None:
    folder = _upload_folder()
    for name in names:
        images.delete_stored(folder, name, name.replace(".jpg", "_t.jpg"))
