"""0023_qa2_one_saved_address: identical address-book entries left by double clicks are merged
into the oldest (which stays the default if any copy was), other entries untouched, then the
unique constraint holds; on SQLite and PostgreSQL, and a downgrade keeps the entries."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from market import create_app
from market.extensions import db
from tests.support import app_config

BEFORE = "0022_memsearch_updated_idx"
HOME = ("林小雨", "13800138000", "浙江省宁波市鄞州区天童南路 100 号")
MOTHER = ("林妈妈", "13900001111", "浙江省宁波市象山县丹西街道 8 号")


def test_copies_are_merged_and_then_refused(empty_database, tmp_path):
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, name, password_hash, active, unread_notices, "
                              "session_token) VALUES (1, 'a@x.cn', '甲', 'x', true, 0, 't1'), (2, 'b@x.cn', '乙', 'x', true, 0, 't2')"))
            # user 1: home twice (the second copy her default), mother once; user 2: home once
            rows = [(1, 1, *HOME, False), (2, 1, *HOME, True), (3, 1, *MOTHER, False), (4, 2, *HOME, True),
                    (5, 1, *HOME, False)]
            for row in rows:
                conn.execute(text("INSERT INTO saved_addresses (id, user_id, name, phone, address, is_default) "
                                  "VALUES (:i, :u, :n, :p, :a, :d)"),
                             dict(zip("iunpad", row, strict=True)))
        upgrade()
        with db.engine.connect() as conn:
            left = conn.execute(text("SELECT id, user_id, name, is_default FROM saved_addresses ORDER BY id")).all()
        assert [tuple(r) for r in left] == [(1, 1, "林小雨", True), (3, 1, "林妈妈", False), (4, 2, "林小雨", True)]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("INSERT INTO saved_addresses (user_id, name, phone, address, is_default) "
                              "VALUES (1, :n, :p, :a, false)"), dict(zip("npa", HOME, strict=True)))
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM saved_addresses")).scalar() == 3
        db.engine.dispose()
