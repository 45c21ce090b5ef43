from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import images
from market.artisans import dashboard as shop_figures
from market.artisans import services
from market.artisans.forms import LowStockForm, ProductForm, ShopForm
from market.auth import role_required
from market.core.views import _safe_next

bp = Blueprint("artisans", __name__, url_prefix="/shop")


@bp.route("/setup", methods=["GET", "POST"])
@login_required
def setup():
    artisan = current_user.artisan
    form = ShopForm(obj=artisan)
    if form.validate_on_submit():
        try:
            services.save_shop(
                current_user,
                display_name=form.display_name.data,
                kind=form.kind.data,
                district=form.district.data,
                story=form.story.data,
                photo=form.photo.data,
            )
        except images.ImageError as e:
            form.photo.errors.append(str(e))
        except services.ShopError as e:
            _field_errors(form, e.field, "display_name").append(str(e))
        else:
            flash(_("Your shop has been saved."), "success")
            return redirect(url_for("artisans.dashboard"))
    return render_template("artisans/setup.html", form=form, artisan=artisan, may_upload=services.may_upload(artisan))


def _field_errors(form, field: str | None, fallback: str) -> list:
    """The error list of the field a service error names (or of `fallback`)."""
    return form[field if field and field in form else fallback].errors


@bp.get("/")
@role_required("artisan")
def dashboard():
    artisan = current_user.artisan
    if artisan is None:
        return redirect(url_for("artisans.setup"))
    return render_template("artisans/dashboard.html", artisan=artisan, products=services.my_products(artisan),
                           figures=shop_figures.figures(artisan), threshold_form=LowStockForm(
                               formdata=None, threshold=artisan.low_stock_threshold))


@bp.post("/low-stock")
@role_required("artisan")
def low_stock():
    artisan = current_user.artisan
    if artisan is None:
        return redirect(url_for("artisans.setup"))
    form = LowStockForm()
    try:
        if not form.validate_on_submit():  # empty, not a whole number, out of range: one message
            raise shop_figures.ThresholdError(_("Enter a whole number from 0 to %(n)s.", n=shop_figures.MAX_THRESHOLD))
        value = shop_figures.set_threshold(artisan, form.threshold.data)
    except shop_figures.ThresholdError as e:
        flash(str(e), "error")
    else:
        flash(_("Products with %(n)s or fewer left are now listed as low stock.", n=value), "success")
    return redirect(url_for("artisans.dashboard"))


def _upload_limits() -> dict:
    cfg = current_app.config
    return {"mb": max(1, cfg["MAX_IMAGE_BYTES"] // (1024 * 1024)), "mpx": max(1, round(cfg["IMAGE_MAX_PIXELS"] / 1e6)),
            "per_request": cfg["MAX_IMAGES_PER_REQUEST"]}


def _brand_choices(artisan) -> list[tuple[int, str]]:
    return [(0, _("No brand"))] + [(b.id, b.name) for b in (artisan.brands if artisan else [])]


def _product_or_abort(product_id: int):
    try:
        return services.product_for_edit(current_user, product_id)
    except services.NotFound:
        abort(404)
    except services.Forbidden:
        abort(403)


def _int_or_none(value) -> int | None:
    """A stock figure from a hidden field, or None when it is not one (tampered, missing)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 1_000_000 else None


def _product_form_page(form: ProductForm, product=None):
    """Validate and save on POST (redirect on success), else render the form with errors."""
    if form.validate_on_submit():
        data = services.ProductData(
            title=form.title.data,
            description=form.description.data or "",
            title_en=form.title_en.data or "",
            description_en=form.description_en.data or "",
            category=form.category.data,
            price_fen=services.yuan_to_fen(form.price.data),
            stock=form.stock.data,
            brand_id=form.brand_id.data or None,
            status=form.status.data,
            loaded_stock=_int_or_none(form.loaded_stock.data) if product is not None else None,
        )
        try:
            product = services.save_product(current_user, data, product=product, uploads=form.images.data,
                                            form_sent_again_ok=True)
        except images.ImageError as e:
            form.images.errors.append(str(e))
        except services.StockConflict as e:
            form.stock.errors.append(str(e))
            form.stock.data = form.loaded_stock.data = services.current_stock(product.id)  # start from what is there
        except services.ShopError as e:
            _field_errors(form, e.field, "title").append(str(e))
        else:
            flash(_("The product has been saved."), "success")
            return redirect(url_for("artisans.edit_product", product_id=product.id))
    artisan = product.artisan if product is not None else current_user.artisan
    return render_template("artisans/product_form.html", form=form, product=product,
                           may_upload=services.may_upload(artisan), upload_limits=_upload_limits())


@bp.route("/products/new", methods=["GET", "POST"])
@role_required("artisan")
def new_product():
    artisan = current_user.artisan
    if artisan is None:
        return redirect(url_for("artisans.setup"))
    form = ProductForm()
    form.brand_id.choices = _brand_choices(artisan)
    return _product_form_page(form)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@role_required("artisan")
def edit_product(product_id: int):
    product = _product_or_abort(product_id)
    form = ProductForm(obj=product)
    form.brand_id.choices = _brand_choices(product.artisan)
    if request.method == "GET":
        form.price.data = Decimal(product.price_fen) / 100
        form.brand_id.data = product.brand_id or 0
    if request.method == "GET" or _int_or_none(form.loaded_stock.data) is None:
        form.loaded_stock.data = product.stock
    return _product_form_page(form, product)


@bp.post("/products/<int:product_id>/status")
@role_required("artisan")
def product_status(product_id: int):
    _product_or_abort(product_id)
    try:
        services.set_product_status(current_user, product_id, request.form.get("status", ""))
    except services.ShopError as e:
        flash(str(e), "error")
    return redirect(_safe_next(request.form.get("next")) if request.form.get("next") else url_for("artisans.dashboard"))


@bp.post("/products/<int:product_id>/images/<int:image_id>/delete")
@role_required("artisan")
def delete_image(product_id: int, image_id: int):
    _product_or_abort(product_id)
    try:
        services.remove_image(current_user, product_id, image_id)
    except services.NotFound:
        abort(404)
    return redirect(url_for("artisans.edit_product", product_id=product_id))
