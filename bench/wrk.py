"""Run wrk (bounded in time) and read its report."""
from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkResult:
    name: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors + non-2xx/3xx answers
    bare_rps: float = 0.0  # the baseline measured right before this row (bench/run.py)

    def as_dict(self) -> dict:
        return asdict(self)


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not m:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse(name: str, path: str, output: str) -> WrkResult:
    def find(pattern: str, default: str | None = None) -> str:
        m = re.search(pattern, output, re.MULTILINE)
        if m:
            return m.group(1)
        if default is None:
            raise ValueError(f"wrk output has no {pattern!r}:\n{output}")
        return default

    errors = int(find(r"Non-2xx or 3xx responses:\s+(\d+)", "0"))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return WrkResult(
        name=name, path=path, rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")), p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")), errors=errors,
    )


def run(name: str, base_url: str, path: str, *, seconds: int, connections: int, threads: int = 2,
        script: str | None = None, script_args: tuple[str, ...] = (), headers: tuple[str, ...] = ()) -> WrkResult:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", str(LUA / script)]
    cmd.append(base_url + path)
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    return parse(name, path, out)
