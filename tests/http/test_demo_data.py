"""The demo seed reads like real shops: no doubled words in titles, no two products of one
shop with the same title, products that fit their shop's trade and brand, a picture of its
own per product, English titles, and a handful of reviews that add up on the products."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import select

from market import demo_data
from market.extensions import db
from market.models import Artisan, Brand, Product, Review

DOUBLED = re.compile(r"(.{2,})\1")


def _bigrams_repeat(title: str) -> bool:
    grams = [title[i:i + 2] for i in range(len(title) - 1)]
    return len(grams) != len(set(grams))


def test_the_checks_catch_the_titles_of_the_old_seed():
    for bad in ("手工手工年糕", "淡晒淡晒虾干"):
        assert DOUBLED.search(bad) and _bigrams_repeat(bad)
    assert not _bigrams_repeat("淡晒虾干") and not DOUBLED.search("高山云雾茶")


def test_every_title_a_shop_can_make_is_clean_and_fits_its_brand():
    for shop in demo_data.SHOPS:
        assert demo_data.brand_fits(shop.brand, shop.categories), shop
        for category in shop.categories:
            items, adjectives, _ = demo_data.PRODUCT_SPECS[category]
            for item in items:
                for adj in adjectives:
                    title = f"{adj}{item}"
                    assert not DOUBLED.search(title) and not _bigrams_repeat(title), title
                    assert adj in demo_data.ADJ_EN and item in demo_data.ITEM_EN
    # Seafood never sits under the mountain brand, whose trades are the mountain's.
    assert "seafood" not in demo_data.BRAND_CATEGORIES["siming-shanju"]


def test_seed_reads_like_real_shops(runner, app):
    result = runner.invoke(args=["seed", "--products", "120"])
    assert result.exit_code == 0, result.output
    products = list(db.session.scalars(select(Product)))
    assert len(products) == 120
    brands = {b.id: b for b in db.session.scalars(select(Brand))}
    shops = {a.id: a for a in db.session.scalars(select(Artisan))}
    by_name = {s.shop: s for s in demo_data.SHOPS}

    seen: dict[int, set[str]] = {}
    for p in products:
        assert not DOUBLED.search(p.title) and not _bigrams_repeat(p.title), p.title
        assert p.title not in seen.setdefault(p.artisan_id, set()), f"{p.title} twice in one shop"
        seen[p.artisan_id].add(p.title)
        shop = by_name[shops[p.artisan_id].display_name]
        assert p.category in shop.categories, (p.title, shop.shop)
        if p.brand_id is not None:
            assert p.category in demo_data.BRAND_CATEGORIES[brands[p.brand_id].slug], (p.title, brands[p.brand_id].name)
        assert p.title_en and p.description_en
    assert len({a.district for a in shops.values()}) == 10

    # A picture of its own per product: distinct files with distinct bytes.
    folder = Path(app.config["UPLOAD_FOLDER"])
    digests = [hashlib.sha256((folder / p.images[0].filename).read_bytes()).hexdigest() for p in products]
    assert len(set(digests)) == len(products)

    # A handful of reviews, counted on their products.
    reviews = list(db.session.scalars(select(Review)))
    assert len(reviews) >= 5 and any(r.reply for r in reviews)
    for r in reviews:
        p = db.session.get(Product, r.product_id)
        assert p.rating_count >= 1 and p.rating_sum >= r.stars
    page = app.test_client().get(f"/products/{reviews[0].product_id}").get_data(as_text=True)
    assert reviews[0].body in page


def test_a_large_seed_keeps_titles_unique_per_shop():
    import random

    titles = demo_data.titles_for(("seafood", "snacks"), random.Random(1))
    many = [next(titles)[3] for _ in range(400)]
    assert len(set(many)) == 400
