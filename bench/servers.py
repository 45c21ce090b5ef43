"""Start and stop gunicorn app servers as child processes (benchmarks, scale-out test)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from market.localstripe_proc import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class AppServer:
    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of every worker
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_gunicorn(env: dict[str, str], *, workers: int, log_path: Path, port: int | None = None,
                   timeout: float = 30.0) -> AppServer:
    """gunicorn with gunicorn.conf.py on a free loopback port; returns once /healthz answers."""
    port = port or free_port()
    full_env = {**os.environ, **env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each server gets its own (gunicorn.conf.py)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115  the child process keeps writing to it
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py")],
        cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = AppServer(proc, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer on port {port} within {timeout}s:\n{server.log_tail()}")


def start_bare_gunicorn(*, workers: int, log_path: Path, timeout: float = 30.0) -> AppServer:
    """bench.bare_app (a Flask "hello" outside our middleware) under gunicorn with `workers`
    sync workers and no access log: the baseline every page is compared with."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115  the child process keeps writing to it
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
         "--keep-alive", "5", "bench.bare_app:app"],
        cwd=PROJECT_ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )
    server = AppServer(proc, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bare gunicorn exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/hello", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"bare gunicorn did not answer within {timeout}s:\n{server.log_tail()}")


def flask_cli(args: list[str], env: dict[str, str], *, timeout: float = 600) -> subprocess.CompletedProcess:
    """`flask --app market ...` in a child process with `env` (e.g. `db upgrade`, `seed`)."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "market", *args], cwd=PROJECT_ROOT,
        env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout, check=True,
    )
