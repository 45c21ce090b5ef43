"""Search quality on a judged fixture catalogue: hits@10 and recall@10.

    python -m bench.search_quality [--database-url URL] [--verbose]

Loads tests/data/search_catalogue.tsv (about 150 products with Chinese titles and
descriptions, not the demo seed) into a fresh database (a temporary SQLite file unless
--database-url names an empty one), then sends every query of tests/data/search_queries.tsv
to /products through the app, as a buyer would, and reads the first ten product cards.

A product is relevant to a query when it carries all the concept tags of one of the query's
alternatives (tags were judged by hand, before search was tuned). hits@10 is the share of
queries with at least one relevant product among the first ten; recall@10 is the mean share
of each query's relevant products found in the first ten.

"before" is the search with query expansion turned off (SEARCH_EXPANSION=0: the literal
words only), "after" is the search as shipped (synonyms and typo tolerance).
"""
from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CATALOGUE = DATA / "search_catalogue.tsv"
QUERIES = DATA / "search_queries.tsv"
BRANDS = {
    "cixi-xiuniang": ("慈溪绣娘", "Cixi Embroiderers"),
    "jixiang-fanghua": ("吉象·芳华", "Jixiang Fanghua"),
    "haiwei-mama": ("海味·妈妈的味道", "Taste of the Sea"),
    "siming-shanju": ("四明山居", "Siming Mountain Homes"),
}


@dataclass(frozen=True)
class FixtureProduct:
    key: str
    category: str
    district: str
    brand: str | None
    price_fen: int
    title: str
    description: str
    tags: frozenset[str]


@dataclass(frozen=True)
class JudgedQuery:
    query: str
    alternatives: tuple[frozenset[str], ...]
    kind: str

    def relevant(self, product: FixtureProduct) -> bool:
        return any(alt <= product.tags for alt in self.alternatives)


def _rows(path: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def load_catalogue(path: Path = CATALOGUE) -> list[FixtureProduct]:
    return [FixtureProduct(key, cat, district, None if brand == "-" else brand, int(float(price) * 100),
                           title, desc, frozenset(tags.split()))
            for key, cat, district, brand, price, title, desc, tags in _rows(path)]


def load_queries(path: Path = QUERIES) -> list[JudgedQuery]:
    return [JudgedQuery(q, tuple(frozenset(alt.split("+")) for alt in rel.split("|")), kind)
            for q, rel, kind in _rows(path)]


def load_into_database(products: list[FixtureProduct]) -> dict[int, FixtureProduct]:
    """Create the fixture's brands, one approved artisan per district, and its products
    (through the same service artisans use). Needs an app context. Returns id -> product."""
    from market.accounts.services import register_user
    from market.artisans.services import ProductData, save_product, save_shop
    from market.extensions import db
    from market.models import Brand

    brands = {}
    for slug, (name, name_en) in BRANDS.items():
        brand = Brand(slug=slug, name=name, name_en=name_en)
        db.session.add(brand)
        brands[slug] = brand
    db.session.commit()
    artisans = {}
    by_id = {}
    for p in products:
        if p.district not in artisans:
            n = len(artisans) + 1
            user = register_user(f"手艺人{n}", f"quality{n}@example.cn", "quality-password-1", ["artisan"])
            artisan = save_shop(user, display_name=f"{p.district}姐妹小店", kind="craftswoman",
                                district=p.district, story="")
            artisan.status = "approved"
            db.session.commit()
            artisans[p.district] = artisan
        if p.brand and artisans[p.district] not in brands[p.brand].members:
            brands[p.brand].members.append(artisans[p.district])
            db.session.commit()
        data = ProductData(title=p.title, description=p.description, category=p.category, price_fen=p.price_fen,
                           stock=10, brand_id=brands[p.brand].id if p.brand else None, status="published")
        product = save_product(artisans[p.district].user, data)
        by_id[product.id] = p
    return by_id


_CARD = re.compile(r'<article class="product-card">\s*<a href="/products/(\d+)"')


def top_ids(client, query: str, k: int = 10) -> list[int]:
    resp = client.get("/products", query_string={"q": query, "sort": "relevance"})
    assert resp.status_code == 200, (query, resp.status_code)
    return [int(i) for i in _CARD.findall(resp.get_data(as_text=True))][:k]


@dataclass
class Score:
    hits: float
    recall: float
    missed: list[str]


def evaluate(client, by_id: dict[int, FixtureProduct], queries: list[JudgedQuery], k: int = 10) -> Score:
    hits, recalls, missed = 0, [], []
    for jq in queries:
        relevant = {pid for pid, p in by_id.items() if jq.relevant(p)}
        found = [pid for pid in top_ids(client, jq.query, k) if pid in relevant]
        hits += bool(found)
        recalls.append(len(found) / min(len(relevant), k) if relevant else 0.0)
        if not found:
            missed.append(jq.query)
    return Score(hits / len(queries), sum(recalls) / len(queries), missed)


def run(database_url: str | None = None, verbose: bool = False) -> dict[str, Score]:
    from market import create_app
    from market.config import TestConfig
    from market.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(SQLALCHEMY_DATABASE_URI=database_url or f"sqlite:///{tmp}/quality.db",
                      UPLOAD_FOLDER=Path(tmp) / "uploads")
        app = create_app(config)
        results = {}
        with app.app_context():
            db.create_all()
            try:
                from market.reference import seed_reference_data

                seed_reference_data()  # Ningbo's districts, which shops must be in
                by_id = load_into_database(load_catalogue())
                queries = load_queries()
                for label, expansion, index in (
                        ("before: the words as typed", False, True),
                        ("after: synonyms and typos, SQL path (LISTING_INDEX=0)", True, False),
                        ("after: synonyms and typos, in-process listing index", True, True)):
                    app.config.update(SEARCH_EXPANSION=expansion, LISTING_INDEX=index)
                    results[label] = evaluate(app.test_client(), by_id, queries)
            finally:
                db.session.remove()
                db.drop_all()
                db.engine.dispose()
    if verbose:
        for label, score in results.items():
            print(f"{label}: missed {', '.join(score.missed) or 'none'}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database to use (default: a temporary SQLite file)")
    parser.add_argument("--verbose", action="store_true", help="list the queries with no relevant hit")
    args = parser.parse_args()
    results = run(args.database_url, args.verbose)
    n = len(load_queries())
    print(f"{n} judged queries, {len(load_catalogue())} products")
    print("| search | hits@10 | recall@10 |")
    print("| --- | ---: | ---: |")
    for label, score in results.items():
        print(f"| {label} | {score.hits:.2f} | {score.recall:.2f} |")


if __name__ == "__main__":
    main()
