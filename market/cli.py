"""Command-line tools: flask seed, flask create-staff, flask early-warning backtest, flask warm-pages."""
from __future__ import annotations

import io
import random

import click
from flask import Flask, current_app
from sqlalchemy import func, insert, select

from market.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(create_staff)
    app.cli.add_command(mentoring_sweep)
    app.cli.add_command(area_add)
    app.cli.add_command(early_warning)
    app.cli.add_command(warm_pages)


@click.command("area-add")
@click.option("--parent", "parent_path", default="", help="Path of the parent, e.g. 象山县/石浦镇 (none: a district)")
@click.option("--name", required=True)
@click.option("--name-en", default="")
def area_add(parent_path: str, name: str, name_en: str) -> None:
    """Add a town or street, village or community, or grid to the area tree."""
    from market import areas
    from market.models import Area

    parent_id = None
    for part in [p for p in parent_path.split("/") if p.strip()]:
        parent_id = db.session.scalar(select(Area.id).where(
            Area.parent_id.is_(None) if parent_id is None else Area.parent_id == parent_id, Area.name == part.strip()))
        if parent_id is None:
            raise click.ClickException(f"no area {part!r} under the path given")
    try:
        area = areas.add_area(parent_id, name, name_en)
    except areas.AreaError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"added {area.level} {area.name} (id {area.id})")


@click.command("warm-pages")
@click.option("--locale", "locales", multiple=True, default=("zh",), show_default=True,
              help="Languages to render (repeat: --locale zh --locale en).")
@click.option("--batch", default=200, show_default=True, help="Products per statement and upsert.")
@click.option("--limit", type=int, default=None, help="Stop after checking this many products.")
def warm_pages(locales: tuple[str, ...], batch: int, limit: int | None) -> None:
    """Render and store every public product's page body that is missing or stale
    (market.catalog.product_pages), so a product's first view needs no rendering. Safe to run
    at any time and again: bodies whose stamp still matches are skipped."""
    from market.catalog.product_pages import warm

    if batch < 1:
        raise click.BadParameter("must be at least 1", param_hint="--batch")
    with current_app.test_request_context("/"):
        checked, rendered = warm(list(locales), batch=batch, limit=limit)
    click.echo(f"{checked} public product(s) checked, {rendered} page bod(ies) rendered")


@click.command("mentoring-sweep")
def mentoring_sweep() -> None:
    """Expire unanswered asks (the case moves on), escalate overdue cases and remind mentors
    of tomorrow's follow-ups; the scheduler runs this every five minutes."""
    from market.mentoring.services import sweep

    result = sweep()
    click.echo(f"{result['expired']} ask(s) expired, {result['escalated']} case(s) escalated, "
               f"{result['reminded']} follow-up reminder(s)")


@click.group("early-warning")
def early_warning() -> None:
    """Early warning from shops' sales (the signals/ library)."""


@early_warning.command("backtest")
@click.argument("sales", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the warnings CSV.")
def early_warning_backtest(sales: str, out: str) -> None:
    """Replay the scanner night by night over SALES.csv; write one row per warning to --out."""
    from signals.backtest import SalesFileError, backtest

    try:
        data, warnings = backtest(sales, out)
    except SalesFileError as e:
        raise click.ClickException(f"{sales}: {e}") from None
    click.echo(f"{len(warnings)} warnings for {len(data.shop_ids)} shops over {data.n_days} days written to {out}")


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--name", default="妇联工作人员")
@click.password_option()
def create_staff(email: str, name: str, password: str) -> None:
    """Create a federation staff account (staff are never created by sign-up)."""
    from market.accounts.services import AccountError
    from market.accounts.services import create_staff as make

    try:
        user = make(name, email, password)
    except AccountError as e:  # e.g. a password the policy refuses
        raise click.ClickException(str(e)) from None
    click.echo(f"staff account ready: {user.email}")


DEMO_PASSWORD = "demo-password-2026"


@click.command("seed")
@click.option("--products", "n_products", default=200, show_default=True, help="How many products.")
@click.option("--artisans", "n_artisans", default=20, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing if there are users already.")
@click.option("--seed", "rnd_seed", default=2026, show_default=True)
def seed(n_products: int, n_artisans: int, if_empty: bool, rnd_seed: int) -> None:
    """Load Chinese demo data: brands, artisans across Ningbo, products with images."""
    from market.models import User

    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("demo data already loaded; nothing to do")
        return
    logins = load_demo_data(n_products=n_products, n_artisans=n_artisans, rnd_seed=rnd_seed)
    click.echo(f"loaded {n_artisans} artisans and {n_products} products")
    click.echo(f"demo logins (password: {DEMO_PASSWORD}):")
    for role, email in logins:
        click.echo(f"  {role:<13} {email}")


def load_demo_data(*, n_products: int = 200, n_artisans: int = 20, rnd_seed: int = 2026) -> list[tuple[str, str]]:
    from pathlib import Path
    from types import SimpleNamespace

    from werkzeug.security import generate_password_hash

    from market import demo_data as d
    from market import images, search
    from market.models import Artisan, Brand, Product, User, UserRole
    from market.reference import seed_reference_data

    seed_reference_data()
    rnd = random.Random(rnd_seed)
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    password_hash = generate_password_hash(DEMO_PASSWORD)

    brands = {}
    for spec in d.BRANDS:
        brand = Brand(featured=True, **spec)
        db.session.add(brand)
        brands[spec["slug"]] = brand

    artisans = []
    for i in range(n_artisans):
        shop = d.SHOPS[i % len(d.SHOPS)]
        round_ = i // len(d.SHOPS)  # more shops than profiles: a second branch, and so on
        user = User(name=shop.name, email=f"artisan{i + 1}@demo.sisters-market.cn", password_hash=password_hash)
        user.roles = [UserRole(role="artisan"), UserRole(role="buyer")]
        artisan = Artisan(
            user=user, display_name=shop.shop + (f"（{round_ + 1}号店）" if round_ else ""), district=shop.district,
            kind=shop.kind, story=shop.story, status="approved",
        )
        artisan.brands = [brands[shop.brand]] if shop.brand and d.brand_fits(shop.brand, shop.categories) else []
        db.session.add(artisan)
        artisans.append((artisan, shop, d.titles_for(shop.categories, random.Random(f"{rnd_seed}:{i}"))))

    extra = [("buyer", "buyer@demo.sisters-market.cn", "林小雨", ["buyer"]),
             ("entrepreneur", "entrepreneur@demo.sisters-market.cn", "陈晓梅", ["entrepreneur", "buyer"]),
             ("mentor", "mentor@demo.sisters-market.cn", "黄丽华", ["mentor"]),
             ("staff", "staff@demo.sisters-market.cn", "妇联小周", ["staff"])]
    people = {}
    for role, email, name, roles in extra:
        user = User(name=name, email=email, password_hash=password_hash)
        user.roles = [UserRole(role=r) for r in roles]
        db.session.add(user)
        people[role] = user
    db.session.flush()

    def stored_image(data: bytes):
        return images.store_image(io.BytesIO(data), folder, max_bytes=current_app.config["MAX_IMAGE_BYTES"],
                                  max_side=800, thumb_size=current_app.config["THUMBNAIL_SIZE"])

    # The demo seed draws a picture per product; a benchmark-sized seed shares a pool of them.
    distinct = n_products <= DISTINCT_IMAGES_UP_TO
    pool = [] if distinct else [stored_image(d.make_image_bytes(rnd_seed + k)) for k in range(60)]

    batch: list[dict] = []
    image_rows: list[dict] = []
    next_id = (db.session.scalar(select(func.max(Product.id))) or 0) + 1
    # Listed one minute apart, newest last, as a real catalogue grows: "newest first" pages
    # then walk an index instead of sorting rows that all share one timestamp.
    from datetime import datetime, timedelta

    first_listed = datetime.now() - timedelta(minutes=n_products)
    for n in range(n_products):
        artisan, shop, titles = artisans[n % len(artisans)]
        category, adj, item, title = next(titles)
        texts = d.product_texts(shop, category, adj, item, title)
        brand = artisan.brands[0] if artisan.brands and rnd.random() < 0.8 else None
        pid = next_id + n
        batch.append({
            "id": pid, "artisan_id": artisan.id, "brand_id": brand.id if brand else None, **texts,
            "category": category,
            "price_fen": rnd.choice([1990, 2880, 3990, 5800, 6800, 8800, 12800, 16800, 26800, 39900]) + rnd.randint(0, 9) * 100,
            "stock": rnd.choice([0, 3, 5, 10, 20, 50, 100]), "status": "published",
            "search_tokens": search.product_tokens(SimpleNamespace(**texts)),
            "created_at": first_listed + timedelta(minutes=n),
        })
        img = stored_image(d.make_product_image(category, title, seed=n)) if distinct else pool[n % len(pool)]
        image_rows.append({"product_id": pid, "filename": img.filename, "thumb_filename": img.thumb_filename,
                           "width": img.width, "height": img.height, "position": 0})
        if len(batch) >= 2000:
            _flush(batch, image_rows)
    _flush(batch, image_rows)
    _fix_sequence("products")
    db.session.commit()
    _demo_reviews(people["buyer"], people["entrepreneur"], next_id, n_products, rnd)

    from market.mentoring.demo import load_mentoring_demo

    load_mentoring_demo(password_hash, rnd)
    return [("artisan", "artisan1@demo.sisters-market.cn")] + [(r, e) for r, e, _, _ in extra] + [
        ("committee", "committee@demo.sisters-market.cn")]


DISTINCT_IMAGES_UP_TO = 2000


def _demo_reviews(buyer, other, first_id: int, n_products: int, rnd: random.Random) -> None:
    """A handful of delivered orders of the demo buyers, reviewed (some answered by the artisan),
    so product pages and cards show ratings. Written straight to the tables, as the rest of
    the seed: the rules of market.reviews are about what people do, not about demo data."""
    from datetime import datetime, timedelta
    from uuid import uuid4

    from market import demo_data as d
    from market.models import Order, OrderLine, Product, Review, SubOrder

    if n_products < len(d.REVIEWS):
        return
    now = datetime.now()
    step = max(1, n_products // len(d.REVIEWS))
    for k, (stars, body, reply) in enumerate(d.REVIEWS):
        product = db.session.get(Product, first_id + k * step)
        who = buyer if k % 2 == 0 else other
        delivered = now - timedelta(days=rnd.randint(6, 40))
        order = Order(buyer_id=who.id, status="completed", checkout_token=uuid4().hex, total_fen=product.price_fen,
                      paid_fen=product.price_fen, ship_name=who.name, ship_phone="13805742266",
                      ship_address="浙江省宁波市鄞州区四明中路 999 号", stock_reserved=False,
                      expires_at=delivered - timedelta(days=3), paid_at=delivered - timedelta(days=3))
        sub = SubOrder(order=order, artisan_id=product.artisan_id, artisan_name=product.artisan.display_name,
                       status="delivered", subtotal_fen=product.price_fen, carrier="顺丰", tracking_number=f"SF{rnd.randint(10**11, 10**12)}",
                       shipped_at=delivered - timedelta(days=2), delivered_at=delivered)
        line = OrderLine(order=order, sub_order=sub, product_id=product.id, title=product.title,
                         unit_price_fen=product.price_fen, quantity=1, artisan_id=product.artisan_id,
                         artisan_name=product.artisan.display_name)
        db.session.add_all([order, sub, line])
        db.session.flush()
        db.session.add(Review(line_id=line.id, product_id=product.id, buyer_id=who.id, artisan_id=product.artisan_id,
                              stars=stars, body=body, photos="", reply=reply,
                              replied_at=delivered + timedelta(days=2) if reply else None,
                              created_at=delivered + timedelta(days=1)))
        product.rating_count += 1
        product.rating_sum += stars
    db.session.commit()


def _flush(batch: list[dict], image_rows: list[dict]) -> None:
    from market.models import Product, ProductImage

    if batch:
        db.session.execute(insert(Product), batch)
        db.session.execute(insert(ProductImage), image_rows)
        batch.clear()
        image_rows.clear()


def _fix_sequence(table: str) -> None:
    """Explicit ids bypass PostgreSQL's sequence; move it past them."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            db.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")
        )
