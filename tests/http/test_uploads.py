"""Image uploads are decoded, size-limited, renamed and thumbnailed; anything else is refused."""
import io
from pathlib import Path

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
