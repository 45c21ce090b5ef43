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


def _fill_0004(conn, data):
    """Insert the rows the help desk wrote before this revision (tests/unit/data: made by the
    code of revision 0004 running its demo seed), plus the cases the demo does not make."""
    def value(table, column, v):
        if column in ("difficulties", "industries", "skills", "reasons") and isinstance(v, str):
            return v  # JSON text: valid on both backends
        if column in ("active", "paused", "consent_to_share") and v is not None:
            return bool(v)
        return v

    for table in ("users", "user_roles", "mentor_profiles", "help_requests", "introductions", "case_entries"):
        for row in data[table]:
            cols = list(row)
            conn.execute(text(f'INSERT INTO {table} ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                              f'VALUES ({", ".join(":" + c for c in cols)})'),
                         {c: value(table, c, row[c]) for c in cols})
    # Edge cases: a request without consent closed unresolved, a log line of an unknown kind,
    # a declined introduction with a free-text reason, an ask still waiting.
    conn.execute(text("UPDATE help_requests SET consent_to_share = false, status = 'closed_unresolved', "
                      "closed_at = CURRENT_TIMESTAMP WHERE id = 2"))
    conn.execute(text("UPDATE case_entries SET kind = 'legacy' WHERE id = 1"))
    conn.execute(text("UPDATE introductions SET status = 'declined', decline_reason = '这个月太忙', "
                      "decided_at = CURRENT_TIMESTAMP WHERE id = (SELECT MIN(id) FROM introductions "
                      "WHERE request_id = 1)"))
    conn.execute(text("UPDATE introductions SET status = 'asked', asked_at = CURRENT_TIMESTAMP WHERE id = "
                      "(SELECT MAX(id) FROM introductions WHERE request_id = 1)"))
    if conn.dialect.name == "postgresql":
        for table in ("users", "mentor_profiles", "help_requests", "introductions", "case_entries"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT MAX(id) FROM {table}))"))


def test_every_help_request_becomes_a_case(empty_database, tmp_path):
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "data" / "help_desk_0004.json").read_text())
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            _fill_0004(conn, data)
            old = {r.id: r for r in conn.execute(text("SELECT * FROM help_requests"))}
            old_intros = {r.id: r for r in conn.execute(text("SELECT * FROM introductions"))}
            old_entries = {r.id: r for r in conn.execute(text("SELECT * FROM case_entries"))}
        upgrade()
        from market.models import Case, CaseEntry, Introduction
        from market.reference import seed_reference_data

        seed_reference_data()  # nothing to add: the migration seeded it
        assert len(old) == 5
        cases = {c.id: c for c in db.session.scalars(db.select(Case))}
        assert set(cases) == set(old)
        for case_id, r in old.items():
            case = cases[case_id]
            codes = r.difficulties if isinstance(r.difficulties, list) else json.loads(r.difficulties)
            assert case.difficulties == codes, "each listed difficulty is an item, in order"
            assert (case.status, case.author_id, case.business_name, case.rating, case.outcome, case.mentor_id) == \
                (r.status, r.author_id, r.business_name, r.rating, r.outcome, r.mentor_id)
            assert case.channel == "self_service" and case.consent_to_share == bool(r.consent_to_share)
            item_status = {d.status for d in case.difficulty_items}
            expected = {"resolved": {"solved"}, "matched": {"in_hand"}, "in_progress": {"in_hand"}}.get(r.status,
                                                                                                       {"open"})
            assert item_status == expected, (r.status, item_status)
        from market.models import CaseConsent

        consents = list(db.session.scalars(db.select(CaseConsent)))
        assert sorted((c.case_id, c.scope, c.given, c.method) for c in consents) == sorted(
            (i, "details", bool(r.consent_to_share), "online") for i, r in old.items()), "the checkbox is a record"
        assert not cases[2].consent_to_share and not cases[2].consent_contact
        intros = {i.id: i for i in db.session.scalars(db.select(Introduction))}
        assert set(intros) == set(old_intros)
        for intro_id, r in old_intros.items():
            new = intros[intro_id]
            assert new.case_id == r.request_id and new.mentor_id == r.mentor_id and new.reasons == (
                r.reasons if isinstance(r.reasons, list) else json.loads(r.reasons))
            assert new.status == {"expired": "superseded"}.get(r.status, r.status)
        declined = next(i for i in intros.values() if i.status == "declined")
        assert declined.decline_code == "other" and declined.decline_reason == "这个月太忙"
        asked = next(i for i in intros.values() if i.status == "asked")
        assert asked.expires_at is not None and asked.expires_at > asked.asked_at
        entries = {e.id: e for e in db.session.scalars(db.select(CaseEntry))}
        assert set(entries) == set(old_entries)
        assert entries[1].kind == "note", "an unknown kind becomes a note"
        assert all(e.happened_on is not None for e in entries.values())
        assert {e.kind for e in entries.values()} <= {"visit", "call", "wechat", "meeting", "note", "measure",
                                                     "status", "introduced"}
        # New rows continue the ids (PostgreSQL sequences moved past the carried rows).
        from market.mentoring import services

        author = db.session.get(type(cases[1].author), cases[1].author_id)
        new = services.file_case(author, services.CaseData("新的小店", "tea", "idea", "余姚市", ["technology"], "",
                                                           True))
        assert new.id == max(old) + 1
        db.session.remove()
        with db.engine.connect() as conn:
            names = inspect(conn).get_table_names()
            assert "help_requests" not in names and "introductions" not in names and "case_entries" not in names
        db.engine.dispose()


def test_downgrade_gives_the_help_desk_its_tables_back(empty_database, tmp_path):
    import json
    from pathlib import Path

    from flask_migrate import downgrade

    data = json.loads((Path(__file__).parent / "data" / "help_desk_0004.json").read_text())
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            _fill_0004(conn, data)
            before = conn.execute(text("SELECT id, status, difficulties, rating FROM help_requests ORDER BY id")).all()
        upgrade()
        downgrade(revision="0004")
        with db.engine.connect() as conn:
            after = conn.execute(text("SELECT id, status, difficulties, rating FROM help_requests ORDER BY id")).all()
            names = inspect(conn).get_table_names()
            assert "cases" not in names and "audit_log" not in names and "areas" not in names
            n_entries = conn.execute(text("SELECT count(*) FROM case_entries")).scalar()
        norm = [(i, s, d if isinstance(d, list) else json.loads(d), r) for i, s, d, r in before]
        assert [(i, s, d if isinstance(d, list) else json.loads(d), r) for i, s, d, r in after] == norm
        assert n_entries == len(data["case_entries"])
        db.engine.dispose()
