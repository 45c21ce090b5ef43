"""The scheduler's speed and quality, beside a greedy baseline and the LP bound, in one run.

    python -m matching.meetings_bench [--seed 0] [--time-limit 3] [--json] [--quick]
    python -m matching.meetings_bench --write-input day.json   # the instance, for the command

The instance is generated (seeded) to look like a matchmaking day: 200 participants, 12 slots,
40 tables, 1,500 requests (--quick: 60, 8, 12, 250). Most participants are present all day;
the others arrive late, leave early or step out for a slot or two. A few participants (the big
buyers and factories) are asked by many: requesters pick whom to meet in proportion to a
heavy-tailed popularity. About one request in six is mutual and carries a higher weight, as
the app gives it.

Reported: wall-clock seconds of `solve` (checking the input, greedy, local search, table
numbers) and its total weight, beside the plain greedy baseline (by weight, first feasible slot)
and the optimum of the linear-programming relaxation (HiGHS), an upper bound on any schedule,
as ratios; the same with 100 tables (people's time, not tables, is then the limit); then a
late cancellation (the most requested participant drops out) re-scheduled from the first
schedule, with how many of the remaining meetings moved. Exit status 1 when a schedule is
infeasible or the first misses the targets (< 10 s, >= 0.97 of the bound).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from .meetings import build_problem, check_feasible, greedy_schedule, lp_bound, solve

FULL = {"participants": 200, "slots": 12, "tables": 40, "requests": 1500}
QUICK = {"participants": 60, "slots": 8, "tables": 12, "requests": 250}
TARGETS = {"seconds": 10.0, "ratio_to_bound": 0.97}


def generate(seed: int = 0, participants: int = 200, slots: int = 12, tables: int = 40,
             requests: int = 1500, mutual_share: float = 0.15) -> dict:
    """A realistic input document for `python -m matching.meetings`."""
    rng = np.random.default_rng(seed)
    slot_ids = [f"s{i + 1:02d}" for i in range(slots)]
    people = []
    for i in range(participants):
        present = np.ones(slots, dtype=bool)
        kind = rng.random()
        if kind < 0.15:      # arrives late
            present[: rng.integers(1, max(2, slots // 3))] = False
        elif kind < 0.30:    # leaves early
            present[slots - rng.integers(1, max(2, slots // 3)):] = False
        elif kind < 0.45:    # steps out for a slot or two
            present[rng.choice(slots, size=rng.integers(1, 3), replace=False)] = False
        people.append({"id": f"p{i + 1:03d}",
                       "available": [s for s, ok in zip(slot_ids, present, strict=True) if ok]})
    # Heavy-tailed popularity: a few participants are asked by many.
    popularity = rng.pareto(2.0, participants) + 0.2
    popularity /= popularity.sum()
    activity = rng.gamma(2.0, 1.0, participants)
    activity /= activity.sum()
    max_pairs = participants * (participants - 1) // 2
    if requests > max_pairs:
        raise ValueError(f"requests: at most {max_pairs} pairs among {participants} participants")
    pairs: dict[frozenset, dict] = {}
    while len(pairs) < requests:
        a = int(rng.choice(participants, p=activity))
        b = int(rng.choice(participants, p=popularity))
        key = frozenset((a, b))
        if a == b or key in pairs:
            continue
        weight = round(float(rng.uniform(1.0, 3.0)), 2)
        if rng.random() < mutual_share:
            weight = round(weight + 3.0, 2)   # mutual: both asked, the app weights it higher
        pairs[key] = {"a": people[a]["id"], "b": people[b]["id"], "weight": weight}
    return {"slots": slot_ids, "tables": tables, "participants": people,
            "requests": list(pairs.values())}


def _problem(doc, previous=None):
    return build_problem(doc["slots"], doc["tables"], doc["participants"], doc["requests"],
                         previous)


def measure(doc: dict, seed: int, time_limit: float) -> tuple[dict, object]:
    """Times `solve` on one instance, beside the greedy baseline and the LP bound."""
    started = time.perf_counter()
    problem = _problem(doc)
    result = solve(problem, time_limit=time_limit, random_state=seed)
    seconds = time.perf_counter() - started
    violations = check_feasible(problem, result.meetings)

    started = time.perf_counter()
    greedy = greedy_schedule(problem)
    greedy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bound = lp_bound(problem)
    lp_seconds = time.perf_counter() - started
    return {"tables": doc["tables"],
            "schedule": {"seconds": seconds, "total_weight": result.total_weight,
                         "meetings": len(result.meetings), "unscheduled": len(result.unscheduled),
                         "method": result.stats["method"], "iterations": result.stats["iterations"],
                         "violations": len(violations)},
            "greedy": {"seconds": greedy_seconds, "total_weight": greedy},
            "lp_bound": {"seconds": lp_seconds, "total_weight": bound},
            "ratio_to_bound": result.total_weight / bound if bound else 1.0,
            "greedy_ratio_to_bound": greedy / bound if bound else 1.0}, result


def run(seed: int = 0, time_limit: float = 3.0, quick: bool = False) -> dict:
    sizes = QUICK if quick else FULL
    doc = generate(seed, **sizes)
    main, result = measure(doc, seed, time_limit)
    # The same people and requests with a table for every two of them: then people's slots, not tables, are
    # the limit, which is where the greedy does worst.
    roomy, _ = measure({**doc, "tables": sizes["participants"] // 2}, seed, time_limit)

    # A late cancellation: the most requested participant drops out.
    counts: dict[str, int] = {}
    for r in doc["requests"]:
        for end in ("a", "b"):
            counts[r[end]] = counts.get(r[end], 0) + 1
    gone = max(counts, key=lambda p: (counts[p], p))
    after = {**doc,
             "participants": [p for p in doc["participants"] if p["id"] != gone],
             "requests": [r for r in doc["requests"] if gone not in (r["a"], r["b"])]}
    previous = [m.to_dict() for m in result.meetings]
    started = time.perf_counter()
    re_problem = _problem(after, previous)
    again = solve(re_problem, time_limit=time_limit, random_state=seed)
    re_seconds = time.perf_counter() - started
    re_violations = check_feasible(re_problem, again.meetings)
    moved_and_placed = sum(1 for _, new in again.moved if new is not None)

    seconds, ratio = main["schedule"]["seconds"], main["ratio_to_bound"]
    violations = main["schedule"]["violations"] + roomy["schedule"]["violations"] + \
        len(re_violations)
    return {
        "seed": seed, "time_limit": time_limit, "sizes": sizes,
        "instances": [main, roomy],
        "reschedule": {"cancelled": gone, "requests_of_cancelled": counts[gone],
                       "dropped": len(again.dropped), "kept": again.kept,
                       "moved": len(again.moved), "meetings": len(again.meetings),
                       "new_meetings": len(again.meetings) - again.kept - moved_and_placed,
                       "total_weight_before": result.total_weight,
                       "total_weight": again.total_weight, "seconds": re_seconds,
                       "violations": len(re_violations)},
        "targets": {
            "seconds": {"value": seconds, "target": TARGETS["seconds"],
                        "pass": seconds < TARGETS["seconds"]},
            "ratio_to_bound": {"value": ratio, "target": TARGETS["ratio_to_bound"],
                               "pass": ratio >= TARGETS["ratio_to_bound"]},
            "violations": {"value": violations, "target": 0, "pass": violations == 0},
        },
    }


def format_report(r: dict) -> str:
    re, size = r["reschedule"], r["sizes"]
    lines = [
        f"matching.meetings_bench: {size['participants']} participants, {size['slots']} slots, "
        f"{size['requests']} requests (seed {r['seed']}, search time limit "
        f"{r['time_limit']:g} s); ratios to the LP bound measured in this run", "",
        f"{'tables':>6}  {'':<40}{'seconds':>9}{'total weight':>14}{'x LP bound':>12}",
        "-" * 81]
    for inst in r["instances"]:
        s, g, lp = inst["schedule"], inst["greedy"], inst["lp_bound"]
        lines += [
            f"{inst['tables']:>6}  {'schedule (' + s['method'] + ')':<40}{s['seconds']:>9.3f}"
            f"{s['total_weight']:>14.2f}{inst['ratio_to_bound']:>12.4f}",
            f"{'':>6}  {'baseline: greedy by weight, first slot':<40}{g['seconds']:>9.3f}"
            f"{g['total_weight']:>14.2f}{inst['greedy_ratio_to_bound']:>12.4f}",
            f"{'':>6}  {'LP relaxation optimum (HiGHS)':<40}{lp['seconds']:>9.3f}"
            f"{lp['total_weight']:>14.2f}{1.0:>12.4f}",
            f"{'':>6}  {s['meetings']} meetings, {s['unscheduled']} unscheduled, "
            f"{s['iterations']} search moves, {s['violations']} violations"]
    lines += [
        "",
        f"late cancellation of {re['cancelled']} ({re['requests_of_cancelled']} requests), "
        f"{r['instances'][0]['tables']} tables: {re['dropped']} of her meetings dropped, "
        f"{re['kept']} kept in place, {re['moved']} moved, {re['new_meetings']} new; total "
        f"weight {re['total_weight_before']:.2f} -> {re['total_weight']:.2f} in "
        f"{re['seconds']:.2f} s, {re['violations']} violations",
        "", f"{'target':<16}{'measured':>10}{'limit':>8}  result"]
    for name, t in r["targets"].items():
        lines.append(f"{name:<16}{t['value']:>10.4g}{t['target']:>8g}  "
                     f"{'PASS' if t['pass'] else 'FAIL'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.meetings_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="a small instance")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--write-input", metavar="PATH",
                        help="only write the generated instance (input of python -m "
                             "matching.meetings) to PATH")
    args = parser.parse_args(argv)
    if args.write_input:
        with open(args.write_input, "w", encoding="utf-8") as fh:
            json.dump(generate(args.seed, **(QUICK if args.quick else FULL)), fh)
        return 0
    report = run(args.seed, args.time_limit, args.quick)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if all(t["pass"] for t in report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
