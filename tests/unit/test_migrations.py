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
from tests.support import app_config


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
    if type_ == "column" and name in ("search_vector", "search_title_vector"):  # PostgreSQL-only, by DDL
        return False
    return not (type_ == "index" and name in ("ix_products_search", "ix_products_search_title"))


# ---- 0006: orders carried into the payment records ---------------------------------------

# What the code before 0006 wrote, one order per case it could leave behind:
# (id, status, total, refunded_fen, payment_intent_id, payment_error, cancel_reason, parcels)
OLD_ORDERS = [
    (1, "pending_payment", 10000, 0, "pi_pending", None, None, ["awaiting_shipment"]),
    (2, "pending_payment", 10000, 0, None, None, None, ["awaiting_shipment"]),
    (3, "paid", 10000, 0, "pi_paid", None, None, ["awaiting_shipment", "awaiting_shipment"]),
    (4, "partially_refunded", 20000, 5000, "pi_part", None, None, ["shipped", "awaiting_shipment"]),
    (5, "refunded", 10000, 10000, "pi_full", None, None, ["awaiting_shipment"]),
    (6, "cancelled", 10000, 0, "pi_declined", "card_declined", "payment_failed", ["awaiting_shipment"]),
    (7, "cancelled", 10000, 0, None, "expired", "expired", ["awaiting_shipment"]),
    # A late payment refunded by the old code: refunded_fen was left at 0.
    (8, "cancelled", 10000, 0, "pi_late", "expired", "expired", ["awaiting_shipment"]),
    (9, "paid", 10000, 0, "pi_done", None, None, ["delivered", "delivered"]),
    (10, "refunded", 10000, 10000, "pi_shipped", None, None, ["shipped"]),
]
OLD_REFUNDS = [(4, 5000, "re_1", 2, "一条围巾有瑕疵"), (5, 10000, "re_2", 2, ""),
               (8, 10000, "re_3", None, "late payment, stock gone"), (10, 10000, "re_4", 2, "")]


def _fill_like_the_old_code(conn) -> None:
    conn.execute(text("INSERT INTO users (id, email, name, password_hash, active) VALUES "
                      "(1, 'b@x.cn', '买家', '!', true), (2, 's@x.cn', '员工', '!', true), "
                      "(3, 'a@x.cn', '手艺人', '!', true), (4, 'c@x.cn', '阿梅', '!', true)"))
    conn.execute(text("INSERT INTO artisans (id, user_id, display_name, story, district, kind, status) "
                      "VALUES (1, 3, '秀英绣坊', '', '象山县', 'craftswoman', 'approved'), "
                      "(2, 4, '阿梅海鲜', '', '象山县', 'food_producer', 'approved')"))
    conn.execute(text("INSERT INTO products (id, artisan_id, title, description, category, price_fen, stock, status, "
                      "search_tokens) VALUES (1, 1, '围巾', '', 'embroidery', 10000, 5, 'published', '')"))
    sub_id = 0
    for oid, status, total, refunded, pi, error, reason, parcels in OLD_ORDERS:
        conn.execute(text(
            "INSERT INTO orders (id, buyer_id, status, checkout_token, currency, total_fen, refunded_fen, ship_name, "
            "ship_phone, ship_address, payment_intent_id, payment_client_secret, payment_error, stock_reserved, "
            "expires_at, cancel_reason) VALUES (:id, 1, :status, :token, 'cny', :total, :refunded, '林小雨', "
            "'13800138000', '宁波市象山县', :pi, :secret, :error, true, CURRENT_TIMESTAMP, :reason)"),
            {"id": oid, "status": status, "token": f"t{oid}", "total": total, "refunded": refunded, "pi": pi,
             "secret": f"{pi}_secret" if pi else None, "error": error, "reason": reason})
        share = total // len(parcels)
        for artisan_id, parcel in enumerate(parcels, start=1):
            sub_id += 1
            conn.execute(text(
                "INSERT INTO sub_orders (id, order_id, artisan_id, artisan_name, status, subtotal_fen, refunded_fen) "
                "VALUES (:id, :order, :artisan, '小店', :status, :share, 0)"),
                {"id": sub_id, "order": oid, "artisan": artisan_id, "status": parcel, "share": share})
            conn.execute(text(
                "INSERT INTO order_lines (order_id, sub_order_id, product_id, title, unit_price_fen, quantity, "
                "artisan_id, artisan_name, refunded_fen) VALUES (:order, :sub, 1, '围巾', :share, 1, :artisan, '小店', 0)"),
                {"order": oid, "sub": sub_id, "share": share, "artisan": artisan_id})
    for oid, amount, re_id, staff, reason in OLD_REFUNDS:
        conn.execute(text("INSERT INTO refunds (order_id, amount_fen, stripe_refund_id, reason, created_by_id) "
                          "VALUES (:o, :a, :r, :reason, :staff)"),
                     {"o": oid, "a": amount, "r": re_id, "reason": reason, "staff": staff})


def test_0006_carries_existing_orders_into_payment_records(empty_database, tmp_path):
    from flask_migrate import downgrade

    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            _fill_like_the_old_code(conn)
        upgrade()
        with db.engine.connect() as conn:
            orders = {row.id: row for row in conn.execute(text(
                "SELECT id, status, cancel_reason, paid_fen, refunded_fen, total_fen FROM orders"))}
            payments = {row.order_id: row for row in conn.execute(text(
                "SELECT order_id, stripe_payment_intent_id, status, last_error_code, client_secret FROM payments"))}
            refunds = conn.execute(text("SELECT order_id, amount_fen, status, origin FROM refunds")).all()
            subs = dict(conn.execute(text("SELECT id, status FROM sub_orders")).all())
            lines = conn.execute(text("SELECT count(*) FROM order_lines")).scalar()
            columns = {c["name"] for c in inspect(conn).get_columns("orders")}

        assert {oid: (o.status, o.cancel_reason) for oid, o in orders.items()} == {
            1: ("pending_payment", None), 2: ("pending_payment", None), 3: ("paid", None), 4: ("paid", None),
            5: ("cancelled", "refunded"), 6: ("cancelled", "card_declined"), 7: ("cancelled", "expired"),
            8: ("cancelled", "expired"), 9: ("completed", None), 10: ("fulfilled", None)}
        assert {oid: (p.stripe_payment_intent_id, p.status, p.last_error_code) for oid, p in payments.items()} == {
            1: ("pi_pending", "requires_payment_method", None), 3: ("pi_paid", "succeeded", None),
            4: ("pi_part", "succeeded", None), 5: ("pi_full", "succeeded", None),
            6: ("pi_declined", "canceled", "card_declined"), 8: ("pi_late", "succeeded", None),
            9: ("pi_done", "succeeded", None), 10: ("pi_shipped", "succeeded", None)}
        assert payments[1].client_secret == "pi_pending_secret"
        assert {oid for oid, o in orders.items() if o.paid_fen == o.total_fen} == {3, 4, 5, 8, 9, 10}
        assert {oid for oid, o in orders.items() if o.paid_fen == 0} == {1, 2, 6, 7}
        # refunded_fen is the sum of the succeeded refunds, the late payment's included.
        for oid, o in orders.items():
            assert o.refunded_fen == sum(r.amount_fen for r in refunds if r.order_id == oid and r.status == "succeeded")
        assert orders[8].refunded_fen == 10000
        assert {(r.order_id, r.origin) for r in refunds} == {(4, "staff"), (5, "staff"), (8, "late_payment"),
                                                             (10, "staff")}
        # Nothing was lost rebuilding the table (foreign keys cascade on SQLite).
        assert len(subs) == 13 and lines == 13
        assert subs[7] == "cancelled" and subs[5] == "shipped"  # order 5's only parcel: refunded before it shipped
        assert not {"payment_intent_id", "payment_client_secret", "payment_error"} & columns

        # And back: the old columns return with the PaymentIntent ids.
        downgrade(revision="0005_accounts_sessions")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, payment_intent_id FROM orders")).all())
            statuses = dict(conn.execute(text("SELECT id, status FROM orders")).all())
            assert conn.execute(text("SELECT count(*) FROM sub_orders")).scalar() == 13
        assert back[3] == "pi_paid" and back[2] is None
        assert statuses[4] == "partially_refunded" and statuses[5] == "refunded"
        db.engine.dispose()


# ---- 0005: sessions that can be ended ---------------------------------------------------

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
            conn.execute(text("INSERT INTO user_roles (user_id, role) SELECT id, 'buyer' FROM users"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, session_token, email_verified_at FROM users ORDER BY id")).all()
        assert len(rows) == 3
        tokens = [r.session_token for r in rows]
        assert all(t and len(t) >= 40 for t in tokens) and len(set(tokens)) == 3
        assert all(t != str(r.id) for t, r in zip(tokens, rows, strict=True))
        assert [r.email_verified_at for r in rows] == [None, None, None]
        with db.engine.connect() as conn:  # rebuilding users on SQLite must not cascade into roles
            assert conn.execute(text("SELECT count(*) FROM user_roles")).scalar() == 3
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # the tokens are unique
            conn.execute(text("UPDATE users SET session_token = :t"), {"t": tokens[0]})
        db.engine.dispose()


# ---- 0008: help requests become cases; areas, mentor groups, audit log -----------------

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
        downgrade(revision="0007_search_synonyms")
        with db.engine.connect() as conn:
            after = conn.execute(text("SELECT id, status, difficulties, rating FROM help_requests ORDER BY id")).all()
            names = inspect(conn).get_table_names()
            assert "cases" not in names and "audit_log" not in names and "areas" not in names
            n_entries = conn.execute(text("SELECT count(*) FROM case_entries")).scalar()
        norm = [(i, s, d if isinstance(d, list) else json.loads(d), r) for i, s, d, r in before]
        assert [(i, s, d if isinstance(d, list) else json.loads(d), r) for i, s, d, r in after] == norm
        assert n_entries == len(data["case_entries"])
        db.engine.dispose()


# ---- 0010: the artisan ledger opened from existing sales and refunds ----------------------

def test_ledger_opens_from_existing_sales_and_refunds(empty_database, tmp_path):
    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            _fill_like_the_old_code(conn)
        upgrade(revision="0008_cases_areas_audit")
        with db.engine.begin() as conn:  # a refund of one parcel, as the 0006 code records them
            conn.execute(text("UPDATE refunds SET sub_order_id = (SELECT min(id) FROM sub_orders s "
                              "WHERE s.order_id = refunds.order_id) WHERE order_id = 10"))
            conn.execute(text("UPDATE sub_orders SET refunded_fen = refunded_fen + "
                              "(SELECT coalesce(sum(amount_fen), 0) FROM refunds r WHERE r.sub_order_id = sub_orders.id)"))
        upgrade()
        with db.engine.connect() as conn:
            sold = conn.execute(text(
                "SELECT s.id, s.artisan_id, s.subtotal_fen FROM sub_orders s JOIN orders o ON o.id = s.order_id "
                "WHERE o.status IN ('paid', 'fulfilled', 'completed') "
                "OR (o.status = 'cancelled' AND o.cancel_reason = 'refunded')")).all()
            entries = conn.execute(text("SELECT kind, amount_fen, sub_order_id, refund_id, key FROM ledger_entries")).all()
            late = {r[0] for r in conn.execute(text("SELECT id FROM sub_orders WHERE order_id = 8"))}
            parcel_refunds = conn.execute(text(
                "SELECT id, sub_order_id, amount_fen FROM refunds WHERE sub_order_id IS NOT NULL "
                "AND status = 'succeeded'")).all()
        sales = {e.sub_order_id: e.amount_fen for e in entries if e.kind == "sale"}
        assert sales == {s.id: s.subtotal_fen for s in sold} and sales
        assert not late & set(sales)  # a late payment on a cancelled order was never a sale
        assert all(e.amount_fen == 0 for e in entries if e.kind in ("commission", "commission_reversal"))
        assert parcel_refunds
        assert {e.refund_id: -e.amount_fen for e in entries if e.kind == "refund"} == \
            {r.id: r.amount_fen for r in parcel_refunds}
        assert len({e.key for e in entries}) == len(entries)
        # The sweep of the running app finds nothing missing.
        from market.ledger import operations as ledger

        assert ledger.sync() == 0
        db.engine.dispose()


# ---- 0019: the first contact kept on the case ------------------------------------------------

def test_0019_fills_each_case_first_contact_from_its_log(empty_database, tmp_path):
    """Existing cases get the time of their earliest call, visit, WeChat or meeting (notes and
    status entries do not count; a case without contact stays empty), and a downgrade keeps
    every case and entry."""
    from datetime import datetime

    from flask_migrate import downgrade

    app = create_app(app_config(empty_database, tmp_path / "uploads"))
    t = lambda d, h=9: datetime(2026, 10, d, h, 30)  # noqa: E731
    with app.app_context():
        upgrade(revision="0018_staffq_report_indexes")
        with db.engine.begin() as conn:
            for case_id in (1, 2, 3, 4):
                conn.execute(text(
                    "INSERT INTO cases (id, channel, status, business_name, business_size, industry, stage, district,"
                    " description, contact_phone, contact_wechat, consent_to_share, consent_contact, consent_sms,"
                    " proposed_reason, dismissed_reason, escalation_level, outcome, created_at) VALUES (:id,"
                    " 'self_service', 'in_progress', '小店', 'solo', 'seafood', 'startup', '象山县', '', '', '',"
                    " true, false, false, '', '', 0, '', :at)"), {"id": case_id, "at": t(1)})
            entries = [(1, "note", t(2)), (1, "visit", t(6)), (1, "call", t(4, 15)), (1, "status", t(3)),
                       (2, "note", t(2)), (2, "measure", t(3)), (3, "wechat", t(9)), (3, "meeting", t(9, 8))]
            for case_id, kind, at in entries:
                conn.execute(text("INSERT INTO case_log_entries (case_id, kind, body, happened_on, created_at)"
                                  " VALUES (:c, :k, '', :d, :at)"), {"c": case_id, "k": kind, "d": at.date(), "at": at})
        upgrade(revision="0019_reports_first_contact")
        with db.engine.connect() as conn:
            got = dict(conn.execute(text("SELECT id, first_contact_at FROM cases ORDER BY id")).all())
        as_dt = {k: (datetime.fromisoformat(v) if isinstance(v, str) else v) for k, v in got.items()}
        assert as_dt == {1: t(4, 15), 2: None, 3: t(9, 8), 4: None}
        downgrade(revision="0018_staffq_report_indexes")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 4
            assert conn.execute(text("SELECT count(*) FROM case_log_entries")).scalar() == len(entries)
            assert "first_contact_at" not in {c["name"] for c in inspect(conn).get_columns("cases")}
        db.engine.dispose()
