"""`make run`'s honest start: PORT and STRIPE_PORT honoured, localstripe on loopback only, the
URLs and demo logins printed, and development mail shown in the console and at /dev/notices."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from market import create_app
from market.config import TestConfig
from market.localstripe_proc import free_port, port_open
from market.mail import send_mail

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net shows them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_make_run_honours_both_ports_and_keeps_localstripe_on_loopback(tmp_path):
    port, stripe_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "STRIPE_PORT": str(stripe_port), "DATA_DIR": str(tmp_path),
           "MARKET_ENV": "development", "PYTHONUNBUFFERED": "1"}
    for name in ("STRIPE_API_BASE", "DATABASE_URL", "REDIS_URL", "UPLOAD_FOLDER"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "market", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen([sys.executable, "-m", "market.devserver"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        printed = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(line)
            if "Stop with Ctrl+C" in line:
                break
        banner = "".join(printed)
        assert f"payments API  http://127.0.0.1:{stripe_port}" in banner, banner
        assert f"http://127.0.0.1:{port}/" in banner
        deadline = time.monotonic() + 30
        while not port_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["status"] == "ok"
        assert requests.get(f"http://127.0.0.1:{port}/dev/notices", timeout=10).status_code == 200
        # localstripe answers on STRIPE_PORT, bound to 127.0.0.1 and nothing else
        assert _listening(stripe_port) == {"0100007F"}, _listening(stripe_port)
        assert _listening(port) == {"0100007F"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    assert not port_open(stripe_port), "stopping the app stops localstripe"


def _dev_app(tmp_path, **extra):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(ENV_NAME="development", TESTING=False, DATA_DIR=tmp_path, UPLOAD_FOLDER=tmp_path / "uploads",
                  SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.db'}", **extra)
    return create_app(config)


def test_development_mail_is_printed_and_listed_at_dev_mail(tmp_path, caplog):
    app = _dev_app(tmp_path)
    with app.app_context():
        from market.extensions import db

        db.create_all()  # /dev/notices lists the notices table too
        assert send_mail("buyer@example.cn", "订单已发货", "您的包裹已寄出。")
    printed = [r for r in caplog.records if "订单已发货" in r.getMessage()]
    assert printed and printed[0].levelname == "WARNING"  # shown by the default log configuration
    page = app.test_client().get("/dev/notices").get_data(as_text=True)
    assert "订单已发货" in page and "buyer@example.cn" in page and "您的包裹已寄出。" in page


def test_dev_mail_does_not_exist_outside_development(tmp_path, app, client):
    assert client.get("/dev/notices").status_code == 404  # the test app
    prod = create_app({"ENV_NAME": "production", "SECRET_KEY": "a-long-production-secret-0123456789",
                       "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
                       "STRIPE_WEBHOOK_SECRET": "whsec_live_x", "STRIPE_API_BASE": "https://payments.example.cn",
                       "MAIL_SERVER": "smtp.example.cn", "UPLOAD_FOLDER": tmp_path,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert "dev" not in prod.blueprints
