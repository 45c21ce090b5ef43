"""Speed of the backtest: 400 shops x 18 months, end to end, beside the naive rule timed in
the same run.

    python -m signals.bench [--shops 400] [--days 549] [--json]

Stages: writing the generated sales CSV (not timed against the target), reading and checking
it (`read_sales`), replaying the scanner night by night and the refund-share rule
(`run_backtest`), writing the warnings CSV; and the whole `backtest()` call, which is what
`flask --app market early-warning backtest` runs; and that command itself in a fresh process
(starting the app included). Target: well under a minute (TARGET_SECONDS for the command). The naive rule (last 14 days below half of the 28 before) on the same
counts shows what the scanner's work costs beyond a moving sum.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import synthetic
from .backtest import backtest, read_sales, run_backtest, write_flags
from .evaluate import naive_first

TARGET_SECONDS = 30.0


def run(n_shops: int = 400, n_days: int = 549, seed: int = 0) -> dict:
    sales_set = synthetic.generate(n_shops, n_days, random_state=seed)
    with tempfile.TemporaryDirectory() as folder:
        sales_csv, flags_csv = Path(folder) / "sales.csv", Path(folder) / "flags.csv"
        with sales_csv.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["shop_id", "date", "orders", "revenue_fen", "refunded_fen", "category"])
            writer.writerows(sales_set.to_rows())
        size_mb = sales_csv.stat().st_size / 2 ** 20
        t0 = time.perf_counter()
        sales = read_sales(sales_csv)
        t1 = time.perf_counter()
        warnings = run_backtest(sales)
        t2 = time.perf_counter()
        write_flags(warnings, flags_csv)
        t3 = time.perf_counter()
        naive_first(sales.orders, start_day=0)
        t4 = time.perf_counter()
        _, again = backtest(sales_csv, flags_csv)
        t5 = time.perf_counter()
        command = flask_command(sales_csv, Path(folder) / "cli-flags.csv")
    return {"params": {"shops": n_shops, "days": n_days, "seed": seed, "rows": int((sales_set.counts > 0).sum()),
                       "file_mb": round(size_mb, 1)},
            "seconds": {"read_and_check": round(t1 - t0, 2), "replay": round(t2 - t1, 2),
                        "write": round(t3 - t2, 3), "naive_rule": round(t4 - t3, 3),
                        "backtest_total": round(t5 - t4, 2), "flask_command": command},
            "warnings": len(again), "target_seconds": TARGET_SECONDS,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def flask_command(sales_csv: Path, out: Path) -> float | None:
    """Wall time of `flask --app market early-warning backtest` in a fresh process (app start included)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "market", "early-warning", "backtest",
                           str(sales_csv), "--out", str(out)], cwd=root, env=env, capture_output=True, timeout=600)
    return round(time.perf_counter() - t0, 2) if done.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signals.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--shops", type=int, default=400)
    parser.add_argument("--days", type=int, default=549)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.shops, args.days, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        p, s = report["params"], report["seconds"]
        print(f"backtest of {p['shops']} shops x {p['days']} days ({p['rows']:,} rows, {p['file_mb']} MB):")
        for name, value in s.items():
            print(f"  {name:<16}{'failed' if value is None else value:>8} s")
        print(f"  warnings {report['warnings']}, peak RSS {report['peak_rss_mb']} MB, "
              f"target: total under {report['target_seconds']:.0f} s")
    seconds = report["seconds"]["flask_command"] or report["seconds"]["backtest_total"]
    return 0 if seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
