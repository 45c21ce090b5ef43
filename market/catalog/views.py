from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from market.catalog import cards, searching, services

bp = Blueprint("catalog", __name__)


@bp.record_once
def _install_cards(state) -> None:
    cards.init_app(state.app)


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
    items = searching.suggest(q, limit=min(max(request.args.get("limit", 8, type=int) or 8, 1), 12))
    return jsonify(q=q, suggestions=[
        {"text": s.text, "kind": s.kind, "url": url_for("catalog.products", **dict(s.args))} for s in items
    ])


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    item = services.get_public_product(product_id)
    if item is None:
        abort(404)
    return render_template("catalog/product.html", product=item)


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
