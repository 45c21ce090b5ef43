"""The Alembic migrations build exactly the schema the models describe, on each backend,
including the search index, and upgrade cleanly from an empty database."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

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


def test_session_tokens_migration_gives_each_existing_user_a_fresh_token(empty_database, tmp_path):
    """0005: users created before it get distinct random session tokens (so the cookies signed
    before it, which hold the numeric id, open nothing) and stay unverified."""
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            for i in range(3):
                conn.execute(text("INSERT INTO users (email, name, password_hash, active) "
                                  "VALUES (:e, :n, 'x', :a)"), {"e": f"old{i}@example.cn", "n": f"老用户{i}", "a": True})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, session_token, email_verified_at FROM users ORDER BY id")).all()
        assert len(rows) == 3
        tokens = [r.session_token for r in rows]
        assert all(t and len(t) >= 40 for t in tokens) and len(set(tokens)) == 3
        assert all(t != str(r.id) for t, r in zip(tokens, rows, strict=True))
        assert [r.email_verified_at for r in rows] == [None, None, None]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # the tokens are unique
            conn.execute(text("UPDATE users SET session_token = :t"), {"t": tokens[0]})
        db.engine.dispose()
