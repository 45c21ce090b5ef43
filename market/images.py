"""Image uploads: decoded with Pillow (the file name and claimed type are not trusted),
limited in bytes and in pixels before anything is decoded, decoded at reduced size when the
format allows it (JPEG's DCT scaling), re-encoded under a random name, with a thumbnail.

What one image may cost is bounded by `max_pixels` (read from the header, before decoding):
16 Mpx by default, i.e. at most 48 MB of RGB while a PNG or WebP is decoded; a JPEG is
decoded straight at about the size it is stored at (`Image.draft`), so a large photo costs a
fraction of that. See bench/uploads.py for the measured cost of the worst accepted request.
"""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
DEFAULT_MAX_PIXELS = 16_000_000


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


def _too_many_pixels(max_pixels: int) -> ImageError:
    return ImageError(_l("The image has too many pixels (at most %(mpx)s million); please send a smaller one.",
                         mpx=max(1, round(max_pixels / 1_000_000))))


# Modes whose pixels reduce() may average; a palette image is converted first.
_REDUCIBLE_MODES = {"RGB", "RGBA", "L", "LA", "RGBX"}


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int | None = None) -> Image.Image:
    """The decoded image, or ImageError. The pixel count is checked from the header before
    decoding. With `max_side`, a JPEG is decoded directly at the smallest DCT scale (1/2, 1/4,
    1/8) that keeps at least `max_side` on its longer side; other formats are decoded whole
    and then reduced by the largest integer factor that keeps `max_side`, so the full-size
    copy lives only for a moment."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise ImageError(_l("Only JPEG, PNG, WebP or GIF images are accepted."))
            if probe.width * probe.height > max_pixels:
                raise _too_many_pixels(max_pixels)
            probe.verify()
            img = Image.open(io.BytesIO(data))
            if max_side and img.format == "JPEG" and max(img.size) > max_side:
                scale = max_side / max(img.size)
                img.draft("RGB", (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
            img.load()
            if img.mode not in _REDUCIBLE_MODES:
                img = img.convert("RGBA" if img.mode in ("P", "PA") or "transparency" in img.info else "RGB")
            if max_side and max(img.size) >= 2 * max_side:
                reduced = img.reduce(max(img.size) // max_side)
                reduced.info = img.info
                img = reduced
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(max_pixels) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise ImageError(_l("This file is not a valid image.")) from None
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """Upright (EXIF orientation applied) and RGB on white, copying only when needed."""
    transposed = ImageOps.exif_transpose(img, in_place=False) if img.getexif().get(0x0112, 1) != 1 else img
    if transposed.mode in ("RGBA", "LA"):
        background = Image.new("RGB", transposed.size, (255, 255, 255))
        background.paste(transposed, mask=transposed.getchannel("A"))
        return background
    return transposed if transposed.mode == "RGB" else transposed.convert("RGB")


def store_image(stream, folder: Path, *, max_bytes: int, max_side: int, thumb_size: tuple[int, int],
                max_pixels: int = DEFAULT_MAX_PIXELS) -> StoredImage:
    """Decode, shrink to `max_side`, and write the image and its thumbnail as JPEG under a
    random name. `stream` is anything with `read` (a FileStorage's stream, a BytesIO)."""
    if not hasattr(stream, "read"):
        raise TypeError(f"store_image needs a readable stream, not {type(stream).__name__}")
    img = decode_image(_read_limited(stream, max_bytes), max_pixels=max_pixels, max_side=max_side)
    try:
        img = _to_rgb(img)
    except (OSError, ValueError, SyntaxError):
        raise ImageError(_l("This file is not a valid image.")) from None
    # reduce() by an integer factor first (cheap), then resample the rest of the way.
    img.thumbnail((max_side, max_side), reducing_gap=2.0)
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
