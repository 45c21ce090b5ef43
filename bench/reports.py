"""The federation's reports at scale: every report query of market.staff.reports (and the staff
queue's first page, the dashboard and a month's export) on 100,000 cases in PostgreSQL, each
next to a trivial baseline (`SELECT 1`) measured in the same run.

    python -m bench.reports [--cases 100000] [--runs 7]

Uses its own database (BENCH_REPORTS_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/sm_bench_reports_<schema hash>: a change of the models
gives a new database, so an old seed never meets new code), built with the models' schema and
seeded once with generated cases (about 1.6 difficulties and 2.5 log entries each, 200
mentors, two years of filings); reused when it already holds enough cases. Times are
reported, never asserted.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import date, datetime, timedelta

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from market.config import normalise_database_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/sm_bench_reports"
NOW = datetime(2026, 11, 20, 4, 0)
CHANNELS = ("self_service", "visit", "committee", "hotline", "early_warning", "questionnaire")
DIFFS = ("market_access", "e_commerce", "live_streaming", "financing", "supply_chain", "branding", "management")
DISTRICTS = ("海曙区", "江北区", "北仑区", "镇海区", "鄞州区", "奉化区", "余姚市", "慈溪市", "宁海县", "象山县")


def log(msg: str) -> None:
    print(f"[bench.reports {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def schema_hash() -> str:
    """Eight hex digits naming the models' tables and columns."""
    import hashlib

    from market.extensions import db
    from market.models import Case  # noqa: F401  (registers every model)

    shape = sorted((t.name, tuple(sorted((c.name, str(c.type)) for c in t.columns)))
                   for t in db.metadata.tables.values())
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:8]


def ensure_database(url: str) -> None:
    sa_url = make_url(normalise_database_url(url))
    admin = create_engine(sa_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": sa_url.database}):
            conn.execute(text(f'CREATE DATABASE "{sa_url.database}"'))
    admin.dispose()


def seed(n_cases: int, rng: random.Random) -> None:
    """Generated cases, mentors, difficulties and log entries, inserted in batches."""
    from market.extensions import db
    from market.models import Case, CaseDifficulty, CaseEntry, MentorProfile, User

    have = db.session.scalar(select(func.count(Case.id))) or 0
    if have >= n_cases:
        log(f"reusing {have} cases")
        return
    log(f"seeding {n_cases} cases (the database held {have}; starting afresh)")
    for table in ("case_log_entries", "case_difficulties", "case_introductions", "case_consents", "cases",
                  "mentor_profiles"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.execute(text("DELETE FROM users WHERE email LIKE 'bench-mentor-%'"))
    db.session.commit()
    started = time.perf_counter()
    users = [{"email": f"bench-mentor-{i}@example.cn", "name": f"导师{i}", "password_hash": "x",
              "session_token": f"bench-{i}-{rng.random()}"} for i in range(200)]
    db.session.execute(insert(User), users)
    user_ids = list(db.session.scalars(select(User.id).where(User.email.like("bench-mentor-%")).order_by(User.id)))
    db.session.execute(insert(MentorProfile), [
        {"user_id": uid, "display_name": f"导师{i}", "group": ("craftswoman", "entrepreneur", "scientist")[i % 3],
         "industries": ["seafood"], "skills": list(rng.sample(DIFFS, 2)), "bio": "", "availability": "",
         "district": DISTRICTS[i % 10], "capacity": 5, "current_load": rng.randint(0, 5), "status": "approved",
         "paused": False, "created_at": NOW, "updated_at": NOW} for i, uid in enumerate(user_ids)])
    mentor_ids = list(db.session.scalars(select(MentorProfile.id)))
    db.session.commit()
    batch = 5000
    for start in range(0, n_cases, batch):
        cases = []
        for _ in range(min(batch, n_cases - start)):
            created = NOW - timedelta(days=rng.uniform(0, 730))
            roll = rng.random()
            matched = created + timedelta(days=rng.uniform(0.2, 20)) if roll > 0.15 else None
            resolved = matched + timedelta(days=rng.uniform(1, 90)) if matched and roll > 0.45 else None
            status = ("proposed" if roll < 0.03 else "open" if roll <= 0.15 else "in_progress" if not resolved
                      else "resolved")
            if matched and matched > NOW:
                matched, resolved, status = None, None, "open"
            if resolved and resolved > NOW:
                resolved, status = None, "in_progress"
            cases.append({"channel": rng.choice(CHANNELS), "status": status, "business_name": "小店",
                          "business_size": "solo", "industry": "seafood", "stage": "startup",
                          "district": rng.choice(DISTRICTS), "description": "", "contact_phone": "",
                          "contact_wechat": "", "proposed_reason": "", "dismissed_reason": "", "outcome": "",
                          "mentor_id": rng.choice(mentor_ids) if matched else None, "created_at": created,
                          "matched_at": matched, "resolved_at": resolved, "closed_at": resolved,
                          "last_activity_at": resolved or matched or created,
                          "next_follow_up_on": (NOW + timedelta(days=rng.randint(-10, 20))).date()
                          if status == "in_progress" else None, "escalation_level": 0,
                          "consent_to_share": True, "consent_contact": False, "consent_sms": False})
        ids = list(db.session.scalars(insert(Case).returning(Case.id), cases))
        diffs, entries = [], []
        for cid, c in zip(ids, cases, strict=True):
            for pos, code in enumerate(rng.sample(DIFFS, rng.choice((1, 1, 2, 2, 3)))):
                solved = c["resolved_at"] is not None and rng.random() < 0.8
                diffs.append({"case_id": cid, "code": code, "position": pos, "status": "solved" if solved else "open",
                              "measures": "", "result": "", "updated_at": c["resolved_at"] if solved else None})
            entries.append({"case_id": cid, "kind": "note", "body": "登记", "happened_on": c["created_at"].date(),
                            "created_at": c["created_at"]})
            if c["matched_at"]:
                first = c["matched_at"] + timedelta(days=rng.uniform(0, 5))
                if first <= NOW:
                    entries.append({"case_id": cid, "kind": rng.choice(("call", "visit", "wechat", "meeting")),
                                    "body": "回访", "happened_on": first.date(), "created_at": first})
                    entries.append({"case_id": cid, "kind": "measure", "body": "措施",
                                    "happened_on": first.date(), "created_at": first + timedelta(days=1)})
        db.session.execute(insert(CaseDifficulty), diffs)
        db.session.execute(insert(CaseEntry), entries)
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    log(f"seeded in {time.perf_counter() - started:.0f} s")


def keep_first_contacts() -> None:
    """cases.first_contact_at, as migration 0019 adds and fills it (the seed's bulk inserts
    bypass the listener that keeps it when the app writes an entry; a database seeded before
    0019 gets the column here)."""
    from market.extensions import db

    db.session.execute(text("ALTER TABLE cases ADD COLUMN IF NOT EXISTS first_contact_at timestamp"))
    db.session.execute(text("CREATE INDEX IF NOT EXISTS ix_cases_first_contact_at ON cases (first_contact_at)"))
    contacts = ("FROM case_log_entries e "
                "WHERE e.case_id = cases.id AND e.kind IN ('call', 'visit', 'wechat', 'meeting')")
    started = time.perf_counter()
    n = db.session.execute(text(f"UPDATE cases SET first_contact_at = (SELECT min(e.created_at) {contacts}) "
                                f"WHERE first_contact_at IS NULL AND EXISTS (SELECT 1 {contacts})")).rowcount
    db.session.execute(text("ANALYZE cases"))
    db.session.commit()
    if n:
        log(f"first contact filled on {n} cases in {time.perf_counter() - started:.1f} s")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", 100_000)))
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each query (after one warm-up)")
    args = ap.parse_args(argv)
    url = os.environ.get("BENCH_REPORTS_DATABASE_URL") or f"{DEFAULT_URL}_{schema_hash()}"
    ensure_database(url)

    from market import clock, create_app
    from market.config import TestConfig
    from market.extensions import db
    from market.reference import seed_reference_data

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=normalise_database_url(url), TESTING=False)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        seed_reference_data()
        seed(args.cases, random.Random(14))
        keep_first_contacts()
        clock.set(app, NOW)
        from market.models import User, UserRole
        from market.staff import exports, queue, reports

        staff = db.session.scalar(select(User).where(User.email == "bench-staff@example.cn"))
        if staff is None:
            staff = User(email="bench-staff@example.cn", name="bench", password_hash="x",
                         roles=[UserRole(role="staff")])
            db.session.add(staff)
            db.session.commit()
        n = db.session.scalar(text("SELECT count(*) FROM cases"))
        month = reports.period_filters("month", lang="zh")
        year = reports.period_filters("year", lang="en")
        rows = [
            ("SELECT 1 (baseline)", lambda: db.session.execute(text("SELECT 1")).scalar()),
            ("case report, this month (all figures)", lambda: reports.case_report(month)),
            ("case report, this year", lambda: reports.case_report(year)),
            ("case report, all time", lambda: reports.case_report(reports.Filters())),
            ("case report, this year, one district", lambda: reports.case_report(
                reports.period_filters("year", districts=["象山县"]))),
            ("medians by channel, this year", lambda: reports.median_days(year, "channel")),
            ("found/solved by mentor group, all time", lambda: reports.difficulties_by(reports.Filters(), "group")),
            ("cases filed/solved per month, this year", lambda: reports.cases_per_month(year)),
            ("time to solve (buckets and median), this year", lambda: reports.solve_times(year)),
            ("staff dashboard", lambda: reports.dashboard()),
            ("queue, first page by urgency", lambda: queue.queue(staff, queue.QueueFilters())),
            ("queue, overdue in one district", lambda: queue.queue(staff, queue.QueueFilters(overdue=True,
                                                                                          district="宁海县"))),
            ("export, this month as XLSX", lambda: exports.cases_xlsx(month)),
        ]
        log(f"{n} cases; {args.runs} runs of each after a warm-up")
        results = []
        for label, fn in rows:
            fn()  # warm-up: caches, plans
            samples = timed(fn, args.runs if "baseline" not in label else max(args.runs, 50))
            db.session.rollback()
            results.append((label, samples))
        base = statistics.median(results[0][1])
        print(f"\n{n:,} cases on PostgreSQL, {date.today().isoformat()}\n")
        print("| query | runs | median ms | × SELECT 1 | max ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, samples in results:
            med = statistics.median(samples)
            print(f"| {label} | {len(samples)} | {med:.1f} | {med / base:,.0f} | {max(samples):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
