"""0012 (guest orders, saved addresses, low-stock threshold) keeps every existing order with its
buyer, its parcels and lines, and gives each artisan the default threshold; downgrading drops
only orders that never had an account. On SQLite and PostgreSQL."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from market import create_app
from market.extensions import db
from tests.support import app_config

BEFORE = "0011_staffhome_user_suspension"


def _fill(conn) -> None:
    conn.execute(text("INSERT INTO users (id, email, name, password_hash, active, session_token, unread_notices) "
                      "VALUES (1, 'buyer@example.cn', '林小雨', 'x', true, 't1', 0), "
                      "(2, 'shop@example.cn', '秀英', 'x', true, 't2', 0)"))
    conn.execute(text("INSERT INTO artisans (id, user_id, display_name, story, district, kind, status) "
                      "VALUES (1, 2, '秀英绣坊', '', '象山县', 'craftswoman', 'approved')"))
    for oid in (1, 2):
        conn.execute(text(
            "INSERT INTO orders (id, buyer_id, status, checkout_token, currency, total_fen, paid_fen, refunded_fen, "
            "ship_name, ship_phone, ship_address, stock_reserved, expires_at) VALUES "
            f"({oid}, 1, 'paid', 'tok{oid}', 'cny', 9900, 9900, 0, '林小雨', '13800138000', '浙江省宁波市 1 号', "
            "false, '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO sub_orders (id, order_id, artisan_id, artisan_name, status, subtotal_fen, "
                          f"refunded_fen) VALUES ({oid}, {oid}, 1, '秀英绣坊', 'awaiting_shipment', 9900, 0)"))
        conn.execute(text("INSERT INTO order_lines (order_id, sub_order_id, title, unit_price_fen, quantity, "
                          f"artisan_id, artisan_name, refunded_fen) VALUES ({oid}, {oid}, '围巾', 9900, 1, 1, "
                          "'秀英绣坊', 0)"))


def test_0011_keeps_existing_orders_with_their_buyer(empty_database, tmp_path):
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            _fill(conn)
        upgrade()
        with db.engine.begin() as conn:
            orders = conn.execute(text("SELECT id, buyer_id, guest_email FROM orders ORDER BY id")).all()
            assert [tuple(o) for o in orders] == [(1, 1, None), (2, 1, None)]
            assert conn.execute(text("SELECT count(*) FROM sub_orders")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 2
            assert conn.execute(text("SELECT low_stock_threshold FROM artisans")).scalar() == 3
            # A guest order (no account) can now be stored ...
            conn.execute(text(
                "INSERT INTO orders (id, buyer_id, guest_email, status, checkout_token, currency, total_fen, paid_fen, "
                "refunded_fen, ship_name, ship_phone, ship_address, stock_reserved, expires_at) VALUES "
                "(3, NULL, 'guest@example.cn', 'pending_payment', 'tok3', 'cny', 100, 0, 0, '访客', '13800138000', "
                "'浙江省宁波市 2 号', true, '2026-01-01 00:00:00')"))
        # ... and going back drops only it.
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM orders ORDER BY id")).scalars().all() == [1, 2]
            assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 2
        db.engine.dispose()
