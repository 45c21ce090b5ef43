"""How well the scanner finds generated trouble, beside a naive rule and an oracle, in one run.

    python -m signals.evaluate [--seed 1 2 3] [--tune-seed 0 4] [--shops 400] [--days 549] [--json]

Each method's threshold is chosen for the best mean F1 on *tuning* sets (`--tune-seed`) and
the figures are measured on other generated sets (`--seed`, one table each and the mean F1),
so they are not flattered by the tuning. Methods:

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
ORACLE_FALL = 0.5


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


def oracle_flags(sales: synthetic.SalesSet, threshold: float, fall: float = ORACLE_FALL):
    """The CUSUM against each shop's true normal rate and the true noise."""
    return cusum(sales.counts, sales.expected, threshold=threshold, fall=fall, dispersion=DISPERSION,
                 start_day=WARMUP).flags


def _flags(method: str, sales: synthetic.SalesSet, threshold: float):
    if method == "oracle":
        return oracle_flags(sales, threshold)
    categories = sales.categories if method == "scanner" else None
    return SalesScanner(threshold=threshold).run(sales.counts, categories).flags


GRIDS = {"scanner": SCANNER_GRID, "scanner (no category)": SCANNER_GRID, "oracle": ORACLE_GRID}


def first_by_threshold(method: str, sales: synthetic.SalesSet, grid) -> np.ndarray:
    """(thresholds, shops) first warning day of each threshold in `grid`, in one pass: the first
    warning depends on nothing after it, so a pass that never flags sees them all (exactly for
    the oracle; for the scanner up to the hair described in `scan_counts`). The figures of `run`
    replay each method at its chosen threshold."""
    if method == "oracle":
        return cusum(sales.counts, sales.expected, threshold=np.inf, fall=ORACLE_FALL, dispersion=DISPERSION,
                     start_day=WARMUP, grid=grid).first_ready
    categories = sales.categories if method == "scanner" else None
    return SalesScanner().run(sales.counts, categories, threshold=np.inf, grid=grid).first_ready


def tune(tune_seeds=(0, 4), n_shops: int = 400, n_days: int = 549, grids: dict | None = None) -> dict:
    """Per method, the threshold with the best mean F1 over the tuning sets."""
    grids = grids or GRIDS
    sets = [synthetic.generate(n_shops, n_days, random_state=s, dispersion=DISPERSION) for s in tune_seeds]
    chosen = {}
    for method, grid in grids.items():
        firsts = [first_by_threshold(method, t, grid) for t in sets]
        f1 = {h: np.mean([score(first[g], t.trouble_start)["f1"] for first, t in zip(firsts, sets, strict=True)])
              for g, h in enumerate(grid)}
        chosen[method] = max(grid, key=lambda h: (f1[h], -h))
    return chosen


def run(seed: int, thresholds: dict, n_shops: int = 400, n_days: int = 549) -> dict:
    test = synthetic.generate(n_shops, n_days, random_state=seed, dispersion=DISPERSION)
    report = {"params": {"seed": seed, "shops": n_shops, "days": n_days,
                         "troubled": int((test.trouble_start >= 0).sum())}, "methods": {}}
    for method in ("scanner", "scanner (no category)", "naive", "oracle"):
        started = time.perf_counter()
        if method == "naive":
            first = naive_first(test.counts)
        else:
            first = first_flags(_flags(method, test, thresholds[method]), n_shops)
        result = score(first, test.trouble_start)
        result["threshold"] = thresholds.get(method)
        result["seconds"] = round(time.perf_counter() - started, 2)
        report["methods"][method] = result
    return report


def mean_f1(reports: list[dict]) -> dict:
    names = reports[0]["methods"]
    return {name: round(float(np.mean([r["methods"][name]["f1"] for r in reports])), 3) for name in names}


def format_table(report: dict) -> str:
    p = report["params"]
    lines = [f"{p['shops']} shops x {p['days']} days, {p['troubled']} in trouble (seed {p['seed']})",
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
    parser.add_argument("--tune-seed", type=int, nargs="+", default=[0, 4])
    parser.add_argument("--shops", type=int, default=400)
    parser.add_argument("--days", type=int, default=549)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if set(args.seed) & set(args.tune_seed):
        parser.error("a seed used for tuning cannot be used for measuring")
    thresholds = tune(args.tune_seed, n_shops=args.shops, n_days=args.days)
    reports = [run(seed, thresholds, n_shops=args.shops, n_days=args.days) for seed in args.seed]
    if args.json:
        print(json.dumps({"tune_seeds": args.tune_seed, "thresholds": thresholds, "runs": reports,
                          "mean_f1": mean_f1(reports)}, indent=2))
        return 0
    print("thresholds tuned on seeds " + ", ".join(map(str, args.tune_seed)) + ": "
          + ", ".join(f"{name} {h}" for name, h in thresholds.items()), end="\n\n")
    for report in reports:
        print(format_table(report), end="\n\n")
    print("mean F1 over seeds " + ", ".join(map(str, args.seed)) + ": "
          + ", ".join(f"{name} {f1:.3f}" for name, f1 in mean_f1(reports).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
