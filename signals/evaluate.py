"""How well the scanner finds generated trouble, beside a naive rule and an oracle, in one run.

    python -m signals.evaluate [--seed 1 2 3] [--tune-seed 0] [--shops 400] [--days 549] [--json]

Each method's threshold is chosen for the best F1 on a *tuning* set (`--tune-seed`) and the
figures are measured on other generated sets (`--seed`, one table each and the mean F1), so
they are not flattered by the tuning. Methods:

- **scanner**: `SalesScanner` with the shops' categories (as a CSV with a `category` column);
- **scanner (no category)**: the same without categories (one pool for all shops);
- **naive**: warn when the last 14 days' daily rate is below half of the 28 days' before;
- **oracle**: the same CUSUM on the counts, but against each shop's *true* normal rate
  (`SalesSet.expected`: seasons, weekday, closures and ordinary dips all known exactly); it
  only has to find the trouble in the noise, so it is about the best any method can do.

Scoring (each shop once, by its first warning on or after the warm-up day, `WARMUP`): for a
troubled shop the first warning is a *hit* from the start of the trouble to six weeks after;
a first warning before the start, or any warning for a healthy shop, is one *false alarm*; a
troubled shop without a hit is a *miss* (an early false alarm for a troubled shop is therefore
both a false alarm and, since she was not found in time, not a hit). recall = hits / troubled
shops; precision = hits / (hits + false alarms); delay = days from the start of the trouble to
the hit (median over hits).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from . import synthetic
from .scanner import SalesScanner, cusum

WINDOW = 42
WARMUP = 91
SCANNER_GRID = (6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 14.0, 16.0)
ORACLE_GRID = (3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 14.0, 16.0)
DISPERSION = 12.0        # the generated sets' daily noise (gamma shape), known to the oracle


def first_flags(flags, n_shops: int) -> np.ndarray:
    """First flagged day per shop (-1 when never flagged) from (shop, day, ...) tuples."""
    first = np.full(n_shops, -1)
    for shop, day, *_ in flags:
        if first[shop] < 0 or day < first[shop]:
            first[shop] = day
    return first


def score(first: np.ndarray, trouble_start: np.ndarray, window: int = WINDOW) -> dict:
    troubled = trouble_start >= 0
    flagged = first >= 0
    hit = troubled & flagged & (first >= trouble_start) & (first <= trouble_start + window)
    false_alarm = flagged & (~troubled | (first < trouble_start))
    hits, alarms, n_troubled = int(hit.sum()), int(false_alarm.sum()), int(troubled.sum())
    recall = hits / n_troubled if n_troubled else 0.0
    precision = hits / (hits + alarms) if hits + alarms else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    delays = (first - trouble_start)[hit]
    return {"recall": round(recall, 3), "precision": round(precision, 3), "f1": round(f1, 3),
            "median_delay_days": float(np.median(delays)) if hits else None,
            "hits": hits, "false_alarms": alarms, "misses": n_troubled - hits, "troubled": n_troubled}


def naive_first(counts: np.ndarray, start_day: int = WARMUP) -> np.ndarray:
    """First day the last 14 days' daily rate is below half of the rate in the 28 days before."""
    n, days = counts.shape
    X = np.zeros((n, days + 1))
    np.cumsum(counts, axis=1, out=X[:, 1:])
    first = np.full(n, -1)
    for d in range(max(start_day, 41), days):
        last14 = X[:, d + 1] - X[:, d - 13]
        before28 = X[:, d - 13] - X[:, d - 41]
        hit = (first < 0) & (last14 / 14 < 0.5 * before28 / 28)
        first[hit] = d
    return first


def oracle_flags(sales: synthetic.SalesSet, threshold: float, fall: float = 0.5):
    """The CUSUM against each shop's true normal rate and the true noise."""
    return cusum(sales.counts, sales.expected, threshold=threshold, fall=fall, dispersion=DISPERSION,
                 start_day=WARMUP).flags


def _best(grid, evaluate) -> tuple[float, dict]:
    results = [(h, evaluate(h)) for h in grid]
    return max(results, key=lambda r: (r[1]["f1"], -r[0]))


def run(seed: int = 1, tune_seed: int = 0, n_shops: int = 400, n_days: int = 549,
        scanner_grid=SCANNER_GRID, oracle_grid=ORACLE_GRID) -> dict:
    tune = synthetic.generate(n_shops, n_days, random_state=tune_seed, dispersion=DISPERSION)
    test = synthetic.generate(n_shops, n_days, random_state=seed, dispersion=DISPERSION)
    report = {"params": {"seed": seed, "tune_seed": tune_seed, "shops": n_shops, "days": n_days,
                         "troubled": int((test.trouble_start >= 0).sum())}, "methods": {}}

    def scanner_method(name, with_category):
        started = time.perf_counter()
        cats = (lambda s: s.categories) if with_category else (lambda s: None)
        h, _ = _best(scanner_grid, lambda h: score(
            first_flags(SalesScanner(threshold=h).run(tune.counts, cats(tune)).flags, n_shops), tune.trouble_start))
        flags = SalesScanner(threshold=h).run(test.counts, cats(test)).flags
        result = score(first_flags(flags, n_shops), test.trouble_start)
        result["threshold"] = h
        result["seconds"] = round(time.perf_counter() - started, 2)
        report["methods"][name] = result

    scanner_method("scanner", True)
    scanner_method("scanner (no category)", False)
    report["methods"]["naive"] = score(naive_first(test.counts), test.trouble_start)
    h, _ = _best(oracle_grid, lambda h: score(first_flags(oracle_flags(tune, h), n_shops), tune.trouble_start))
    report["methods"]["oracle"] = score(first_flags(oracle_flags(test, h), n_shops), test.trouble_start)
    report["methods"]["oracle"]["threshold"] = h
    return report


def mean_f1(reports: list[dict]) -> dict:
    names = reports[0]["methods"]
    return {name: round(float(np.mean([r["methods"][name]["f1"] for r in reports])), 3) for name in names}


def format_table(report: dict) -> str:
    p = report["params"]
    lines = [f"{p['shops']} shops x {p['days']} days, {p['troubled']} in trouble (seed {p['seed']}; "
             f"thresholds tuned on seed {p['tune_seed']})",
             f"{'method':<24}{'recall':>8}{'precision':>11}{'F1':>7}{'median delay':>14}"
             f"{'hits':>6}{'false alarms':>14}{'misses':>8}"]
    for name, r in report["methods"].items():
        delay = "-" if r["median_delay_days"] is None else f"{r['median_delay_days']:.0f} d"
        lines.append(f"{name:<24}{r['recall']:>8.3f}{r['precision']:>11.3f}{r['f1']:>7.3f}{delay:>14}"
                     f"{r['hits']:>6}{r['false_alarms']:>14}{r['misses']:>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signals.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--tune-seed", type=int, default=0)
    parser.add_argument("--shops", type=int, default=400)
    parser.add_argument("--days", type=int, default=549)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    reports = [run(seed=seed, tune_seed=args.tune_seed, n_shops=args.shops, n_days=args.days) for seed in args.seed]
    if args.json:
        print(json.dumps({"runs": reports, "mean_f1": mean_f1(reports)}, indent=2))
        return 0
    for report in reports:
        print(format_table(report), end="\n\n")
    print("mean F1 over seeds " + ", ".join(map(str, args.seed)) + ": "
          + ", ".join(f"{name} {f1:.3f}" for name, f1 in mean_f1(reports).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
