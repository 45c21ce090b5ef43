"""The payments API hung (a SIGSTOPped localstripe: connections accepted, nothing answered)
under gunicorn: how long checkout, the pay page, paying, the order page and the reconcile job
take, against the configured budget (STRIPE_CALL_BUDGET) and gunicorn's worker timeout; then
how long the reconcile job takes to settle everything once the API resumes.

    python -m bench.hung_api [--budget 8] [--rounds 3]

Runs on a private SQLite database in var/bench-hung (no seeding needed). Results:
bench/results/hung_api.json and hung_api.md, and a table on stdout for the README.
"""
from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import signal
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

from bench.servers import PROJECT_ROOT, start_gunicorn
from market.localstripe_proc import free_port, start_localstripe, stop

RESULTS = PROJECT_ROOT / "bench" / "results"
PASSWORD = "bench-password-2026"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_TOKEN = re.compile(r'name="checkout_token"[^>]*value="([^"]+)"')


def _timed(call):
    started = time.monotonic()
    try:
        result = call()
    except requests.RequestException as exc:
        result = exc
    return result, round(time.monotonic() - started, 2)


def _status(result) -> str:
    return str(getattr(result, "status_code", type(result).__name__))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=8.0, help="STRIPE_CALL_BUDGET, seconds")
    ap.add_argument("--rounds", type=int, default=3, help="buyers who check out and try to pay while it hangs")
    args = ap.parse_args(argv)

    from werkzeug.security import generate_password_hash

    from market import create_app
    from market.extensions import db
    from market.models import Artisan, Order, Product, User, UserRole
    from market.orders import operations
    from market.payments import services as payments

    data_dir = PROJECT_ROOT / "var" / "bench-hung"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    db_url = f"sqlite:///{data_dir / 'market.db'}"
    stripe_port = free_port()
    stripe = start_localstripe(stripe_port)
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    settings = {"STRIPE_API_BASE": stripe_url, "STRIPE_CALL_BUDGET": args.budget}
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "UPLOAD_FOLDER": data_dir / "uploads", "REDIS_URL": "",
                      "CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True, **settings})
    env = {"DATABASE_URL": db_url, "DATA_DIR": str(data_dir), "SECRET_KEY": secrets.token_hex(32),
           "MARKET_ENV": "development", "REDIS_URL": "", "STRIPE_API_BASE": stripe_url,
           "STRIPE_CALL_BUDGET": str(args.budget), "LOGIN_RATE_LIMIT": "100000 per minute",
           "CHECKOUT_RATE_LIMIT": "100000 per minute", "LOG_FORMAT": "text", "GUNICORN_MAX_REQUESTS": "0"}
    with app.app_context():
        db.create_all()
        hashed = generate_password_hash(PASSWORD)
        owner = User(name="压测手艺人", email="hung-artisan@bench.cn", password_hash=hashed)
        owner.roles = [UserRole(role="artisan")]
        artisan = Artisan(user=owner, display_name="压测小店", district="象山县", kind="craftswoman", story="",
                          status="approved")
        product = Product(artisan=artisan, title="压测围巾", description="", category="embroidery", price_fen=9900,
                          stock=1000, status="published", search_tokens="")
        buyers = [User(name=f"买家{i}", email=f"hung-buyer-{i}@bench.cn", password_hash=hashed)
                  for i in range(args.rounds)]
        db.session.add_all([owner, artisan, product, *buyers])
        db.session.commit()
        product_id, emails = product.id, [b.email for b in buyers]
        # A payment made at the API that nobody reported: the reconcile job must find it.
        unseen = operations.place_order(db.session.get(User, buyers[0].id), {product_id: 1},
                                        _address(), uuid.uuid4().hex)
        payment = payments.ensure_payment_intent(unseen)
        api = payments.client()
        pm = api.create_card_payment_method(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
        api.attach_payment_method(payment.stripe_payment_intent_id, pm["id"], idempotency_key=uuid.uuid4().hex)
        api.confirm_payment_intent(payment.stripe_payment_intent_id, idempotency_key=uuid.uuid4().hex)
        unseen_id = unseen.id
        db.engine.dispose()

    log_path = RESULTS / "hung_api_gunicorn.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path.unlink(missing_ok=True)
    server = start_gunicorn(env, workers=3, log_path=log_path)
    rows: dict[str, list[float]] = {"checkout": [], "pay page": [], "pay (gives up)": [], "order page": []}
    statuses: dict[str, set[str]] = {k: set() for k in rows}
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "budget_s": args.budget,
                     "gunicorn_timeout_s": 30, "rounds": args.rounds}
    try:
        stripe.send_signal(signal.SIGSTOP)
        for email in emails:
            s = requests.Session()
            page = s.get(f"{server.url}/account/login", timeout=60).text
            s.post(f"{server.url}/account/login", data={"email": email, "password": PASSWORD,
                                                        "csrf_token": _CSRF.search(page).group(1)}, timeout=60)
            page = s.get(f"{server.url}/products/{product_id}", timeout=60).text
            s.post(f"{server.url}/cart/add", data={"product_id": product_id, "quantity": 1,
                                                   "csrf_token": _CSRF.search(page).group(1)}, timeout=60)
            form = s.get(f"{server.url}/checkout", timeout=60).text
            data = {"csrf_token": _CSRF.search(form).group(1), "checkout_token": _TOKEN.search(form).group(1),
                    "ship_name": "林小雨", "ship_phone": "13800138000", "ship_address": "浙江省宁波市象山县丹西街道靖南大街 88 号"}
            resp, t = _timed(lambda s=s, data=data: s.post(f"{server.url}/checkout", data=data, allow_redirects=False,
                                                            timeout=60))
            rows["checkout"].append(t)
            statuses["checkout"].add(_status(resp))
            pay_url = server.url + resp.headers["Location"]
            page, t = _timed(lambda s=s, u=pay_url: s.get(u, timeout=60))
            rows["pay page"].append(t)
            statuses["pay page"].add(_status(page))
            order_id = int(re.search(r"/orders/(\d+)/pay", pay_url).group(1))
            paid, t = _timed(lambda s=s, u=pay_url, p=page: s.post(
                u, json={"token": "tok_bench", "card": "card_bench"},
                headers={"X-CSRFToken": _CSRF.search(p.text).group(1)}, timeout=60))
            rows["pay (gives up)"].append(t)
            statuses["pay (gives up)"].add(_status(paid))
            order_page, t = _timed(lambda s=s, i=order_id: s.get(f"{server.url}/orders/{i}", timeout=60))
            rows["order page"].append(t)
            statuses["order page"].add(_status(order_page))
        with app.app_context():
            # As the scheduler would a few minutes on: every pending payment is due a look.
            _, results["reconcile_hung_s"] = _timed(
                lambda: payments.reconcile(now=operations.utcnow() + timedelta(minutes=2)))
            db.session.expire_all()
            results["orders_pending_while_hung"] = db.session.query(Order).filter_by(status="pending_payment").count()
            stripe.send_signal(signal.SIGCONT)
            started = time.monotonic()
            payments.reconcile(now=operations.utcnow() + timedelta(minutes=2))
            results["reconcile_after_resume_s"] = round(time.monotonic() - started, 2)
            db.session.expire_all()
            results["unseen_payment_settled"] = db.session.get(Order, unseen_id).status == "paid"
            db.engine.dispose()
        results["worker_timeouts"] = log_path.read_text(errors="replace").count("WORKER TIMEOUT")
    finally:
        stripe.send_signal(signal.SIGCONT)
        server.stop()
        stop(stripe)
    results["rows"] = {k: {"max_s": max(v), "mean_s": round(sum(v) / len(v), 2), "statuses": sorted(statuses[k])}
                       for k, v in rows.items() if v}
    table = render(results)
    print(table)
    (RESULTS / "hung_api.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    (RESULTS / "hung_api.md").write_text(table)
    ok = (results["worker_timeouts"] == 0 and results["unseen_payment_settled"]
          and results["rows"]["pay (gives up)"]["max_s"] < 30)
    return 0 if ok else 1


def _address():
    from market.orders.services import Address

    return Address("林小雨", "13800138000", "浙江省宁波市象山县丹西街道靖南大街 88 号")


def render(r: dict) -> str:
    lines = [f"Payments API hung (SIGSTOP) on {r['date']}: STRIPE_CALL_BUDGET {r['budget_s']} s, gunicorn timeout "
             f"{r['gunicorn_timeout_s']} s, {r['rounds']} buyers.", "",
             "| request while the API hangs | max s | mean s | answer |", "| --- | ---: | ---: | --- |"]
    for name, row in r["rows"].items():
        lines.append(f"| {name} | {row['max_s']} | {row['mean_s']} | {', '.join(row['statuses'])} |")
    lines += ["", "| reconcile job | result |", "| --- | --- |",
              f"| while hung: gives up after | {r['reconcile_hung_s']} s, {r['orders_pending_while_hung']} orders "
              f"left pending, reservations kept |",
              f"| after the API resumes: settles in | {r['reconcile_after_resume_s']} s (unseen payment "
              f"{'found and marked paid' if r['unseen_payment_settled'] else 'NOT settled'}) |",
              f"| gunicorn WORKER TIMEOUT lines | {r['worker_timeouts']} |"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
