"""Image uploads: decoded with Pillow (the file name and claimed type are not trusted),
size-limited, re-encoded under a random name, with a thumbnail."""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """The upload is not an acceptable image; the message is safe to show."""


@dataclass
class StoredImage:
    filename: str
    thumb_filename: str
    width: int
    height: int


def _read_limited(stream, max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageError(_l("The image is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024) or 1))
    if not data:
        raise ImageError(_l("The file is empty."))
    return data


def decode_image(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise ImageError(_l("Only JPEG, PNG, WebP or GIF images are accepted."))
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageError(_l("The image has too many pixels."))
            probe.verify()
            img = Image.open(io.BytesIO(data))
            img.load()
        except ImageError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(_l("This file is not a valid image.")) from None
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img.convert("RGB")


def store_image(stream, folder: Path, *, max_bytes: int, max_side: int, thumb_size: tuple[int, int]) -> StoredImage:
    img = _to_rgb(decode_image(_read_limited(stream, max_bytes)))
    img.thumbnail((max_side, max_side))
    name = secrets.token_hex(16)
    folder.mkdir(parents=True, exist_ok=True)
    full, thumb = f"{name}.jpg", f"{name}_t.jpg"
    img.save(folder / full, "JPEG", quality=85, optimize=True)
    small = ImageOps.fit(img, thumb_size)
    small.save(folder / thumb, "JPEG", quality=80, optimize=True)
    return StoredImage(full, thumb, img.width, img.height)


def delete_stored(folder: Path, *names: str) -> None:
    for name in names:
        if name:
            (folder / name).unlink(missing_ok=True)
