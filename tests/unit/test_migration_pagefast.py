"""0024_pagefast_product_pages: products.page_version and product_pages, on SQLite and
PostgreSQL; existing products keep everything and start at version 0, a downgrade keeps them."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from market import create_app
from market.extensions import db
from tests.support import app_config

BEFORE = "0023_qa2_one_saved_address"


def test_existing_products_start_at_version_zero_and_a_downgrade_keeps_them(empty_database, tmp_path):
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (email, name, password_hash, active, session_token, unread_notices) "
                              "VALUES ('a@example.cn', '林', 'x', :t, 'token-a', 0)"), {"t": True})
            conn.execute(text("INSERT INTO artisans (user_id, display_name, story, district, kind, status, "
                              "low_stock_threshold) SELECT id, '海边绣坊', '', '象山县', 'craftswoman', 'approved', 3 "
                              "FROM users"))
            for i in range(2):
                conn.execute(text("INSERT INTO products (artisan_id, title, description, title_en, description_en, "
                                  "category, price_fen, stock, status, search_tokens, rating_count, rating_sum) "
                                  "SELECT id, :title, '', '', '', 'embroidery', 9900, 3, 'published', '', 0, 0 "
                                  "FROM artisans"), {"title": f"团扇{i}"})
        upgrade()
        with db.engine.begin() as conn:
            rows = conn.execute(text("SELECT title, price_fen, page_version FROM products ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [("团扇0", 9900, 0), ("团扇1", 9900, 0)]
            assert conn.execute(text("SELECT count(*) FROM product_pages")).scalar() == 0
            conn.execute(text("INSERT INTO product_pages (product_id, locale, stamp, html) "
                              "SELECT id, 'zh', 's', '<p>body</p>' FROM products"))
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 2
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM product_pages")).scalar() == 0
        db.engine.dispose()
