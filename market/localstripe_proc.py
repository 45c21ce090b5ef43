"""Run localstripe (a stateful Stripe-compatible server) as a child process on loopback.
Used by `make run` and by the test fixtures; production points STRIPE_API_BASE elsewhere."""
from __future__ import annotations

import socket
import subprocess
import sys
import time


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_localstripe(port: int, *, timeout: float = 120.0, quiet: bool = True) -> subprocess.Popen:
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "market.localstripe_server", "--port", str(port), "--host", "127.0.0.1"],
        stdout=out, stderr=out,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"localstripe exited with code {proc.returncode}")
        if port_open(port):
            return proc
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"localstripe did not start on port {port} within {timeout}s")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
