"""The Alembic migrations build exactly the schema the models describe, on each backend,
including the search index, and upgrade cleanly from an empty database."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from market import create_app
from market.extensions import db
from tests.support import BACKENDS, PG_URL, app_config, create_pg_database


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
    else:
        url, drop = create_pg_database(PG_URL)
        yield url
        drop()


def test_migrations_match_models_and_create_search_index(empty_database, tmp_path):
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            migration_ctx = MigrationContext.configure(
                conn, opts={"include_object": _include_object, "compare_type": False}
            )
            diff = compare_metadata(migration_ctx, db.metadata)
            assert diff == [], diff
            names = inspect(conn).get_table_names()
            if db.engine.dialect.name == "sqlite":
                assert "product_fts" in names
            else:
                idx = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename='products'")).scalars().all()
                assert "ix_products_search" in idx
        db.engine.dispose()


def _include_object(obj, name, type_, reflected, compare_to):
    # Same rules as include_object in migrations/env.py (which cannot be imported: it runs Alembic).
    if type_ == "table" and (name.startswith("product_fts") or name == "alembic_version"):
        return False
    return not (type_ == "index" and name in ("ix_products_search", "ix_products_search_title"))


def test_upgrade_seeds_areas_and_groups_and_keeps_every_stored_district(empty_database, tmp_path):
    """A database made by the code before the area tree: its districts (even one no longer in
    the seed list) and its mentors' groups are in the tree and the group table afterwards."""
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, name, password_hash, active, created_at) VALUES "
                              "(1, 'a@x.cn', '甲', 'x', true, CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO artisans (user_id, display_name, kind, district, story, status, created_at) "
                "VALUES (1, '小店', 'craftswoman', '旧城区', '', 'approved', CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as conn:
            districts = set(conn.execute(text("SELECT name FROM areas WHERE level = 'district'")).scalars())
            assert {"象山县", "海曙区", "旧城区"} <= districts and len(districts) == 11
            names = conn.execute(text("SELECT name_zh FROM mentor_groups ORDER BY position")).scalars().all()
            assert names == ["凤麓女工匠", "优秀女企业家", "女科技工作者"]
        db.engine.dispose()
