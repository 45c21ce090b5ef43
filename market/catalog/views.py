from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from market import serving
from market.auth import role_required
from market.catalog import cards, moderation, product_lane, product_pages, searching, services, suggest_lane
from market.reviews import services as reviews

bp = Blueprint("catalog", __name__)


@bp.record_once
def _install_cards(state) -> None:
    cards.init_app(state.app)
    product_pages.init_app(state.app)
    suggest_lane.install(state.app)
    product_lane.install(state.app)


@bp.get("/")
def home():
    return render_template(
        "catalog/home.html",
        brands=services.featured_brands(),
        products=services.newest_products(),
    )


@bp.get("/products")
def products():
    cq = services.CatalogQuery.from_args(request.args)
    outcome = services.search_products(cq, current_app.config["PRODUCTS_PER_PAGE"])
    return render_template("catalog/products.html", page=outcome.page, cq=outcome.cq, outcome=outcome,
                           brands=services.brand_choices())


@bp.get("/api/search/suggest")
def suggest():
    """Suggestions while typing: {"q": ..., "suggestions": [{"text", "kind", "url"}]}."""
    q = request.args.get("q", "")
    if len(q) > searching.MAX_QUERY_CHARS:
        return jsonify(error={"code": "query_too_long",
                              "message": _("Type at most %(n)d characters.", n=searching.MAX_QUERY_CHARS)}), 400
    body = searching.suggestion_body(q, searching.suggestion_limit(request.args.get("limit")))
    return current_app.response_class(body, mimetype=current_app.json.mimetype)


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "zh"


@bp.app_template_filter("ptitle")
def product_title(product) -> str:
    """The product's title in the reader's language: the English one for English readers
    when the artisan gave one, the Chinese otherwise."""
    return product.title_for(_locale())


@bp.app_template_filter("pdescription")
def product_description(product) -> str:
    return product.description_for(_locale())


@bp.app_template_filter("local_date")
def local_date(moment) -> str:
    """A stored UTC time as the date in the shop's time zone (TIMEZONE, Beijing time)."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d")


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    locale = _locale()
    item = product_pages.head(product_id, locale)
    if item is None:
        abort(404)
    # Who is looking decides whether the page holds anything of hers: from her cached header
    # when market.serving found it (her user is then not loaded at all), else from her user.
    reader = g.get("cached_reader")
    if reader is not None:
        is_staff, shop, may_review = reader.is_staff, reader.artisan_id, product_id in reader.bought
    else:
        viewer = current_user if current_user.is_authenticated else None
        is_staff = bool(viewer and viewer.is_staff)
        shop = viewer.artisan.id if viewer is not None and viewer.artisan is not None else None
        may_review = viewer is not None
    shared = item.public and not is_staff and shop != item.artisan_id
    if shared and not (may_review and reviews.reviewable_lines(current_user, product_id)):
        body = product_pages.body(item, locale)
        if body is not None:
            return _shared_product_page(item, body, locale)
    return _personal_product_page(product_id, locale)


def _shared_product_page(item: product_pages.Head, body: str, locale: str) -> str:
    """The stored body with the related products, its holes filled for this reader (the owner
    of this shop is served her own page: see `product`)."""
    if request.args:  # the header's search box shows `q`: not the frame every reader shares
        more, same = product_pages.related(item)
        html = render_template(
            "catalog/product.html", body=Markup(body), title=item.title_for(locale), hidden=False,
            hidden_reason=None, product_id=item.id, shop_name=item.shop_name, brand_name=item.brand_name,
            more_from_artisan=more, same_brand=same, is_staff=False, is_owner=False,
        )
    else:
        html = product_pages.assemble(item, body, locale)
    return serving.fill_outside_shells(html)


def _personal_product_page(product_id: int, locale: str) -> str:
    """Staff (moderation, hidden reviews), the shop's owner (reply forms, her hidden or draft
    product) and a buyer who may review it: the whole page rendered for her alone."""
    serving.render_for_this_reader_only()
    g.pop("cached_reader", None)
    viewer = current_user if current_user.is_authenticated else None
    page = services.product_page(product_id, viewer)
    if page is None:
        abort(404)
    product = page.product
    is_staff = bool(viewer and viewer.is_staff)
    is_owner = bool(viewer and viewer.artisan is not None and viewer.artisan.id == product.artisan_id)
    reviewable = reviews.reviewable_lines(viewer, product_id) if page.public else []
    return render_template(
        "catalog/product.html", body=None, product=product, page=page, title=product.title_for(locale),
        hidden=product.is_hidden, hidden_reason=product.hidden_reason, product_id=product.id,
        shop_name=product.artisan.display_name, brand_name=product.brand.name if product.brand else None,
        more_from_artisan=page.more_from_artisan, same_brand=page.same_brand,
        reviews=reviews.product_reviews(product_id, include_hidden=is_staff),
        reviewable=reviewable, reviewer_name=reviews.reviewer_name, is_staff=is_staff, is_owner=is_owner,
    )


@bp.post("/staff/products/<int:product_id>/hide")
@role_required("staff")
def hide_product(product_id: int):
    try:
        moderation.hide_product(current_user, product_id, request.form.get("reason", ""))
    except moderation.NotFound:
        abort(404)
    except moderation.ModerationError as e:
        flash(str(e), "error")
    else:
        flash(_("The product is hidden; its artisan has been told why."), "success")
    return redirect(url_for("catalog.product", product_id=product_id))


@bp.post("/staff/products/<int:product_id>/restore")
@role_required("staff")
def restore_product(product_id: int):
    try:
        moderation.restore_product(current_user, product_id)
    except moderation.NotFound:
        abort(404)
    except moderation.ModerationError as e:
        flash(str(e), "error")
    else:
        flash(_("The product is visible again."), "success")
    if request.form.get("back") == "moderation":
        return redirect(url_for("staff.moderation"))
    return redirect(url_for("catalog.product", product_id=product_id))


@bp.get("/artisans/<int:artisan_id>")
def artisan(artisan_id: int):
    person = services.get_public_artisan(artisan_id)
    if person is None:
        abort(404)
    cq = services.CatalogQuery.from_args(request.args)
    page = services.list_products(cq, current_app.config["PRODUCTS_PER_PAGE"], artisan_id=person.id)
    return render_template("catalog/artisan.html", artisan=person, page=page, cq=cq)


@bp.get("/brands/<slug>")
def brand(slug: str):
    item = services.get_brand(slug)
    if item is None:
        abort(404)
    cq = services.CatalogQuery.from_args(request.args)
    cq.brand = item.slug
    page = services.list_products(cq, current_app.config["PRODUCTS_PER_PAGE"])
    members = [m for m in item.members if m.is_approved]
    return render_template("catalog/brand.html", brand=item, members=members, page=page, cq=cq)
