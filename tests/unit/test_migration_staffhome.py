"""0011_staffhome: suspension columns added to users, on SQLite and PostgreSQL; every existing
account stays active and unsuspended, and a downgrade keeps users and their roles."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from market import create_app
from market.extensions import db
from tests.support import app_config

BEFORE = "0010_refund_requests_ledger"


def test_existing_users_stay_active_and_a_downgrade_keeps_them(empty_database, tmp_path):
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for i in range(3):
                conn.execute(text("INSERT INTO users (email, name, password_hash, active, session_token, "
                                  "unread_notices) VALUES (:e, :n, 'x', :a, :t, 0)"),
                             {"e": f"old{i}@example.cn", "n": f"老用户{i}", "a": i != 2, "t": f"token-{i}"})
            conn.execute(text("INSERT INTO user_roles (user_id, role) SELECT id, 'buyer' FROM users"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT email, active, suspended_at, suspended_reason FROM users ORDER BY id")).all()
        assert [(r.active, r.suspended_at, r.suspended_reason) for r in rows] == [
            (True, None, None), (True, None, None), (False, None, None)]
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 3
            assert conn.execute(text("SELECT count(*) FROM user_roles")).scalar() == 3  # no cascade on SQLite
        db.engine.dispose()
