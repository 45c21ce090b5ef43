"""Speed and memory of the matcher, each next to a simple baseline timed in the same run.

    python -m matching.bench [--quick] [--json] [--seed 0]

Stages (default sizes; --quick uses smaller ones):
- fit: index 10,000 mentors. Baseline: building the Jaccard ranker's skill matrix.
- rank: one request against the 10,000 mentors, k=10, reasons included; median and p95
  over 500 requests. Baselines: a bare sparse dot product of the (already vectorised)
  request with the same TF-IDF matrix + argpartition, and the Jaccard skill-overlap ranker.
- rank_teams: the same requests, k=5 teams of up to 3 mentors; median and p95.
- assign: 5,000 requests to 1,000 mentors of capacity 5. Baseline: greedy assignment by
  Jaccard overlap in request order.

Time is measured without tracing. Memory is measured in a second pass of each stage under
tracemalloc (peak of Python and NumPy allocations during the stage), and the process's peak
resident set size (ru_maxrss, which includes the interpreter and libraries, over the whole
run) is reported as an upper bound for every stage.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

import numpy as np

from . import synthetic
from .evaluate import JaccardRanker, greedy_assign
from .features import RequestBlock
from .model import MentorMatcher
from .schema import Mentor

TARGETS = {"rank_p95_ms": 20.0, "rank_teams_p95_ms": 50.0, "fit_seconds": 5.0,
           "assign_seconds": 10.0, "peak_memory_mb": 1024.0}
FULL = {"fit_mentors": 10_000, "rank_requests": 500, "assign_requests": 5_000,
        "assign_mentors": 1_000, "assign_capacity": 5}
QUICK = {"fit_mentors": 2_000, "rank_requests": 100, "assign_requests": 1_000,
         "assign_mentors": 200, "assign_capacity": 5}


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def traced_peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def max_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latencies_ms(fn, items) -> np.ndarray:
    out = np.empty(len(items))
    for i, item in enumerate(items):
        started = time.perf_counter()
        fn(item)
        out[i] = (time.perf_counter() - started) * 1e3
    return out


def bench_fit(mentors) -> dict:
    matcher, seconds = timed(lambda: MentorMatcher().fit(mentors))
    _, baseline_seconds = timed(lambda: JaccardRanker(mentors, 0))
    return {"mentors": len(mentors), "seconds": seconds,
            "baseline_jaccard_seconds": baseline_seconds,
            "ratio_vs_baseline": seconds / baseline_seconds,
            "traced_peak_mb": traced_peak_mb(lambda: MentorMatcher().fit(mentors)),
            "matcher": matcher}


def bench_rank(matcher, mentors, requests) -> dict:
    matcher.rank(requests[0], k=10)  # warm caches (the transposed text matrix)
    ours = latencies_ms(lambda r: matcher.rank(r, k=10), requests)

    text = matcher.index_.text
    vectors = RequestBlock(requests, matcher.vectorizer_, matcher.index_.region_codes,
                           matcher.index_.city).text
    dot = latencies_ms(
        lambda i: np.argpartition(-(text @ vectors[i].T).toarray().ravel(), 10)[:10],
        range(len(requests)))
    jaccard = JaccardRanker(mentors, 0)
    overlap = latencies_ms(lambda r: np.argpartition(-jaccard.scores(r), 10)[:10], requests)

    def p95(values):
        return float(np.percentile(values, 95))

    return {"mentors": len(mentors), "requests": len(requests),
            "median_ms": float(np.median(ours)), "p95_ms": p95(ours),
            "baseline_dot_p95_ms": p95(dot), "baseline_jaccard_p95_ms": p95(overlap),
            "ratio_vs_dot": p95(ours) / p95(dot),
            "ratio_vs_jaccard": p95(ours) / p95(overlap),
            "traced_peak_mb": traced_peak_mb(
                lambda: [matcher.rank(r, k=10) for r in requests[:50]])}


def bench_teams(matcher, requests) -> dict:
    matcher.rank_teams(requests[0])
    ours = latencies_ms(lambda r: matcher.rank_teams(r, k=5, max_size=3), requests)
    return {"requests": len(requests), "median_ms": float(np.median(ours)),
            "p95_ms": float(np.percentile(ours, 95))}


def bench_assign(n_requests, n_mentors, capacity, seed) -> dict:
    rng = np.random.default_rng(seed + 2)
    mentors = [Mentor(id=m.id, group=m.group, industries=m.industries, skills=m.skills,
                      region=m.region, capacity=capacity, bio=m.bio)
               for m in synthetic.generate_mentors(n_mentors, rng, inactive_rate=0.0)]
    requests, _ = synthetic.generate_requests(mentors, n_requests, rng)
    matcher = MentorMatcher().fit(mentors)
    assignment, seconds = timed(lambda: matcher.assign(requests))
    _, baseline_seconds = timed(
        lambda: greedy_assign(JaccardRanker(mentors, seed), requests, mentors))
    load = np.bincount([int(mid[1:]) for _, mid, _ in assignment.pairs], minlength=n_mentors)
    return {"requests": n_requests, "mentors": n_mentors, "capacity": capacity,
            "seconds": seconds, "baseline_greedy_jaccard_seconds": baseline_seconds,
            "ratio_vs_baseline": seconds / baseline_seconds,
            "assigned": len(assignment.pairs), "unassigned": len(assignment.unassigned),
            "capacity_violations": int((load > capacity).sum()),
            "traced_peak_mb": traced_peak_mb(lambda: matcher.assign(requests))}


def run(quick: bool = False, seed: int = 0) -> dict:
    sizes = QUICK if quick else FULL
    rng = np.random.default_rng(seed)
    mentors = synthetic.generate_mentors(sizes["fit_mentors"], rng)
    requests, _ = synthetic.generate_requests(mentors, sizes["rank_requests"], rng)

    fit = bench_fit(mentors)
    matcher = fit.pop("matcher")
    rank = bench_rank(matcher, mentors, requests)
    teams = bench_teams(matcher, requests)
    assign = bench_assign(sizes["assign_requests"], sizes["assign_mentors"],
                          sizes["assign_capacity"], seed)
    rss = max_rss_mb()
    peak = max(rss, fit["traced_peak_mb"], rank["traced_peak_mb"], assign["traced_peak_mb"])
    checks = {
        "rank_p95_ms": (rank["p95_ms"], rank["p95_ms"] < TARGETS["rank_p95_ms"]),
        "rank_teams_p95_ms": (teams["p95_ms"], teams["p95_ms"] < TARGETS["rank_teams_p95_ms"]),
        "fit_seconds": (fit["seconds"], fit["seconds"] < TARGETS["fit_seconds"]),
        "assign_seconds": (assign["seconds"], assign["seconds"] < TARGETS["assign_seconds"]),
        "peak_memory_mb": (peak, peak < TARGETS["peak_memory_mb"]),
    }
    return {"quick": quick, "seed": seed, "sizes": sizes, "fit": fit, "rank": rank, "teams": teams,
            "assign": assign, "process_max_rss_mb": rss,
            "targets": {name: {"value": value, "target": TARGETS[name], "pass": ok}
                        for name, (value, ok) in checks.items()}}


def format_report(report: dict) -> str:
    fit, rank, assign = report["fit"], report["rank"], report["assign"]
    assign_label = (f"assign {assign['requests']} to {assign['mentors']} mentors "
                    f"x{assign['capacity']} (s)")
    lines = [f"matching.bench ({'quick' if report['quick'] else 'full'} sizes, seed "
             f"{report['seed']}); 'x' = ratio to the baseline measured in this run", "",
             f"{'stage':<44}{'result':>14}{'baseline':>14}{'ratio':>8}{'traced MB':>11}",
             "-" * 91,
             f"{'fit ' + str(fit['mentors']) + ' mentors (s)':<44}{fit['seconds']:>14.3f}"
             f"{fit['baseline_jaccard_seconds']:>14.3f}{fit['ratio_vs_baseline']:>7.1f}x"
             f"{fit['traced_peak_mb']:>11.1f}",
             f"{'rank 1 vs ' + str(rank['mentors']) + ', median (ms)':<44}"
             f"{rank['median_ms']:>14.2f}{'':>14}{'':>8}{rank['traced_peak_mb']:>11.1f}",
             f"{'rank p95 (ms) vs bare sparse dot product':<44}{rank['p95_ms']:>14.2f}"
             f"{rank['baseline_dot_p95_ms']:>14.2f}{rank['ratio_vs_dot']:>7.1f}x",
             f"{'rank p95 (ms) vs Jaccard overlap':<44}{rank['p95_ms']:>14.2f}"
             f"{rank['baseline_jaccard_p95_ms']:>14.2f}{rank['ratio_vs_jaccard']:>7.1f}x",
             f"{'rank_teams k=5, max 3: median / p95 (ms)':<44}"
             f"{report['teams']['median_ms']:>7.2f} / {report['teams']['p95_ms']:<5.2f}",
             f"{assign_label:<44}{assign['seconds']:>14.3f}"
             f"{assign['baseline_greedy_jaccard_seconds']:>14.3f}"
             f"{assign['ratio_vs_baseline']:>7.1f}x{assign['traced_peak_mb']:>11.1f}",
             f"  assigned {assign['assigned']}, unassigned {assign['unassigned']}, "
             f"capacity violations {assign['capacity_violations']}",
             f"process peak RSS (ru_maxrss, whole run): {report['process_max_rss_mb']:.0f} MB",
             "", f"{'target':<20}{'measured':>12}{'limit':>10}  result"]
    for name, t in report["targets"].items():
        lines.append(f"{name:<20}{t['value']:>12.2f}{t['target']:>10.0f}  "
                     f"{'PASS' if t['pass'] else 'FAIL'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = run(args.quick, args.seed)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if all(t["pass"] for t in report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
