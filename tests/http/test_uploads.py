"""Image uploads are decoded, size-limited, renamed and thumbnailed; anything else is refused."""
import io
from pathlib import Path

import pytest
from PIL import Image

from market.extensions import db
from market.models import Product


def _png_bytes(size=(800, 600), colour=(200, 30, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def _form(**files):
    data = {"title": "刺绣团扇", "description": "", "category": "embroidery", "brand_id": "0",
            "price": "88", "stock": "5", "status": "published"}
    data.update(files)
    return data


def test_text_file_renamed_jpg_is_refused_with_a_form_error(app, client, login_as, make_artisan):
    login_as(make_artisan().user)
    resp = client.post("/shop/products/new", content_type="multipart/form-data",
                       data=_form(images=[(io.BytesIO(b"this is not an image at all"), "photo.jpg")]))
    assert resp.status_code == 200
    assert "不是有效的图片" in resp.get_data(as_text=True) or "not a valid image" in resp.get_data(as_text=True)
    assert db.session.query(Product).count() == 0
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == []


def test_valid_image_is_stored_under_a_random_name_with_a_thumbnail(app, client, login_as, make_artisan):
    login_as(make_artisan().user)
    resp = client.post("/shop/products/new", content_type="multipart/form-data",
                       data=_form(images=[(io.BytesIO(_png_bytes()), "../../etc/passwd.png")]))
    assert resp.status_code == 302
    product = db.session.query(Product).one()
    [image] = product.images
    assert "passwd" not in image.filename and image.filename.endswith(".jpg")
    folder = Path(app.config["UPLOAD_FOLDER"])
    with Image.open(folder / image.thumb_filename) as thumb:
        assert thumb.size == tuple(app.config["THUMBNAIL_SIZE"])
    assert client.get(f"/media/{image.thumb_filename}").status_code == 200


def test_oversized_upload_is_refused(app, client, login_as, make_artisan):
    app.config["MAX_IMAGE_BYTES"] = 10_000
    login_as(make_artisan().user)
    noisy = io.BytesIO()
    Image.effect_noise((400, 400), 100).convert("RGB").save(noisy, "PNG")
    resp = client.post("/shop/products/new", content_type="multipart/form-data",
                       data=_form(images=[(io.BytesIO(noisy.getvalue()), "big.png")]))
    assert resp.status_code == 200
    assert 'class="error"' in resp.get_data(as_text=True)
    assert db.session.query(Product).count() == 0


def test_one_bad_image_among_good_ones_leaves_the_product_unchanged(app, client, login_as, make_artisan, make_product):
    artisan = make_artisan()
    product = make_product(artisan, title="原标题")
    login_as(artisan.user)
    resp = client.post(f"/shop/products/{product.id}/edit", content_type="multipart/form-data",
                       data=_form(title="新标题", images=[(io.BytesIO(_png_bytes()), "ok.png"),
                                                        (io.BytesIO(b"GIF89a-broken"), "bad.gif")]))
    assert resp.status_code == 200
    db.session.expire_all()
    fresh = db.session.get(Product, product.id)
    assert fresh.title == "原标题" and fresh.images == []
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == []


# ---- limits: pixels, broken files, images per request, uploads per account --------------

def _jpeg_bytes(size, colour=(120, 80, 40), quality=85) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels, with almost no data behind it."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _post_new(client, *files, **fields):
    data = _form(images=[(io.BytesIO(data), name) for data, name in files])
    data.update(fields)
    return client.post("/shop/products/new", content_type="multipart/form-data", data=data)


def _error_text(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(part.split("</small>")[0] for part in html.split('class="error">')[1:])


def test_too_many_pixels_is_a_form_error_before_decoding(app, client, login_as, make_artisan):
    app.config["IMAGE_MAX_PIXELS"] = 1_000_000
    login_as(make_artisan().user)
    resp = _post_new(client, (_png_bytes((1200, 1000)), "big.png"))
    assert resp.status_code == 200 and "像素" in _error_text(resp)
    assert db.session.query(Product).count() == 0


def test_a_decompression_bomb_header_is_a_form_error_not_a_500(app, client, login_as, make_artisan):
    login_as(make_artisan().user)
    for w, h in ((20_000, 20_000), (5_000, 4_000)):  # past Pillow's own bomb limit; past ours (16 Mpx)
        resp = _post_new(client, (_png_header_only(w, h), "bomb.png"))
        assert resp.status_code == 200 and "像素" in _error_text(resp), (w, h)
    assert db.session.query(Product).count() == 0
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == []


@pytest.mark.parametrize("data", [
    _jpeg_bytes((1200, 900))[:4000],                      # truncated JPEG
    _png_bytes((640, 480))[:-40],                         # PNG cut before its end
    b"\xff\xd8\xff\xe0" + b"\0" * 2000,                   # JPEG magic, then garbage
    b"%PDF-1.4 not an image",
    b"",
])
def test_truncated_corrupt_or_empty_files_are_form_errors(app, client, login_as, make_artisan, data):
    login_as(make_artisan().user)
    resp = _post_new(client, (data, "photo.jpg"))
    assert resp.status_code == 200 and _error_text(resp)
    assert db.session.query(Product).count() == 0
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == []


def test_images_per_request_are_capped(app, client, login_as, make_artisan):
    app.config["MAX_IMAGES_PER_REQUEST"] = 2
    login_as(make_artisan().user)
    resp = _post_new(client, *[(_png_bytes((64, 64)), f"{i}.png") for i in range(3)])
    assert resp.status_code == 200 and "2" in _error_text(resp)
    assert db.session.query(Product).count() == 0
    assert _post_new(client, *[(_png_bytes((64, 64)), f"{i}.png") for i in range(2)]).status_code == 302


def test_each_account_has_its_own_upload_budget(app, client, login_as, make_artisan):
    app.config["UPLOAD_RATE_LIMIT"] = "3 per hour"
    first, second = make_artisan(), make_artisan()
    login_as(first.user)
    assert _post_new(client, *[(_png_bytes((64, 64)), f"{i}.png") for i in range(2)]).status_code == 302
    # Another product (the same form sent again would be the product already saved).
    resp = _post_new(client, *[(_png_bytes((64, 64)), f"{i}.png") for i in range(2)], title="刺绣团扇（二）")
    assert resp.status_code == 200 and ("稍后" in _error_text(resp))
    assert db.session.query(Product).count() == 1  # the refused form saved nothing, and kept what she typed
    assert "刺绣团扇" in resp.get_data(as_text=True)
    assert _post_new(client, title="刺绣团扇（三）").status_code == 302  # no images: not an upload
    client.post("/account/logout")
    login_as(second.user)
    assert _post_new(client, *[(_png_bytes((64, 64)), f"{i}.png") for i in range(3)]).status_code == 302


def test_large_jpeg_is_decoded_at_reduced_size_and_stored_at_max_side(app, client, login_as, make_artisan):
    from market.images import decode_image

    big = _jpeg_bytes((4000, 3000))
    decoded = decode_image(big, max_side=1600)
    assert decoded.size == (2000, 1500)  # DCT scaling 1/2: never the full 12 Mpx in memory
    assert decode_image(big).size == (4000, 3000)
    login_as(make_artisan().user)
    assert _post_new(client, (big, "big.jpg")).status_code == 302
    [image] = db.session.query(Product).one().images
    assert (image.width, image.height) == (1600, 1200)
    with Image.open(Path(app.config["UPLOAD_FOLDER"]) / image.filename) as stored:
        assert stored.size == (1600, 1200)


def test_exif_rotated_jpeg_is_stored_upright(app, client, login_as, make_artisan):
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (3200, 2400), (10, 120, 200)).save(buf, "JPEG", exif=exif.tobytes())
    login_as(make_artisan().user)
    assert _post_new(client, (buf.getvalue(), "rotated.jpg")).status_code == 302
    [image] = db.session.query(Product).one().images
    assert (image.width, image.height) == (1200, 1600)
