"""Quality of the matcher on the synthetic benchmark, against two baselines in the same run.

    python -m matching.evaluate [--seed 0] [--mentors 2000] [--requests 1000] [--json]

Ranking (each request against all available mentors; ground truth in `matching.synthetic`):
- recall@k = relevant mentors in the top k / min(relevant mentors, k); recall@1 is the
  share of requests whose first suggestion is relevant;
- NDCG@10 with gain 2^grade - 1 (grade 2 = right industry and skills, same district).

Assignment (all requests at once): pairs made, capacity violations (must be 0), share of
pairs that are relevant, and the spread of mentors' loads afterwards (std, max, Gini).
The baselines assign greedily in request order to their best mentor with room left.

Learned weights: outcomes of past suggestions are split by request (70% to learn, 30%
held out); the default and the learned weights are compared by AUC and NDCG on the held-out
outcomes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from . import synthetic
from .features import FEATURE_NAMES, difficulty_vector
from .model import MentorMatcher

K = 10


def dcg(gains: np.ndarray) -> float:
    return float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2))))


def ranking_metrics(rankings: list[np.ndarray], grades: list[np.ndarray], k: int = K) -> dict:
    recall1, recallk, ndcg = [], [], []
    for ranked, grade in zip(rankings, grades, strict=True):
        n_relevant = int((grade > 0).sum())
        if n_relevant == 0:
            continue
        hits = grade[ranked[:k]] > 0
        recall1.append(float(hits[:1].sum()))
        recallk.append(hits.sum() / min(n_relevant, k))
        ideal = dcg(2.0 ** np.sort(grade)[::-1][:k] - 1)
        ndcg.append(dcg(2.0 ** grade[ranked[:k]] - 1) / ideal)
    return {"recall@1": float(np.mean(recall1)), f"recall@{k}": float(np.mean(recallk)),
            f"ndcg@{k}": float(np.mean(ndcg)), "requests_scored": len(recall1)}


def gini(values: np.ndarray) -> float:
    values = np.sort(np.asarray(values, dtype=float))
    if values.sum() == 0:
        return 0.0
    n = len(values)
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * values.sum()))


def assignment_metrics(pairs_rows: list[tuple[int, int]], mentors, grades) -> dict:
    """`pairs_rows`: (request index, mentor row) pairs."""
    capacity = np.array([m.capacity for m in mentors])
    load = np.array([m.current_load for m in mentors])
    active = np.array([m.active for m in mentors])
    added = np.bincount([m for _, m in pairs_rows], minlength=len(mentors))
    violations = int(np.sum(load + added > capacity) + np.sum(added[~active] > 0))
    relevant = [grades[r][m] > 0 for r, m in pairs_rows]
    final = (load + added)[active]
    return {"assigned": len(pairs_rows), "capacity_violations": violations,
            "relevant_share": float(np.mean(relevant)) if relevant else 0.0,
            "load_std": float(final.std()), "load_max": int(final.max()),
            "load_gini": gini(final)}


class RandomRanker:
    """Available mentors in a random order."""

    name = "random"

    def __init__(self, mentors, seed):
        self.available = np.array([m.active and m.current_load < m.capacity for m in mentors])
        self.rng = np.random.default_rng(seed)

    def order(self, request) -> np.ndarray:
        rows = np.flatnonzero(self.available)
        return rows[self.rng.permutation(len(rows))]


class JaccardRanker:
    """Available mentors by Jaccard overlap of skills and difficulties; random tie-breaks."""

    name = "jaccard"

    def __init__(self, mentors, seed):
        self.skills = np.array([difficulty_vector(m.skills) for m in mentors])
        self.sizes = self.skills.sum(axis=1)
        self.available = np.array([m.active and m.current_load < m.capacity for m in mentors])
        self.rng = np.random.default_rng(seed)

    def scores(self, request) -> np.ndarray:
        needs = difficulty_vector(request.difficulties)
        shared = self.skills @ needs
        union = self.sizes + needs.sum() - shared
        return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)

    def order(self, request) -> np.ndarray:
        rows = np.flatnonzero(self.available)
        scores = self.scores(request)[rows]
        return rows[np.lexsort((self.rng.random(len(rows)), -scores))]


def greedy_assign(ranker, requests, mentors) -> list[tuple[int, int]]:
    room = np.array([m.capacity - m.current_load if m.active else 0 for m in mentors])
    pairs = []
    for i, request in enumerate(requests):
        for row in ranker.order(request):
            if room[row] > 0:
                room[row] -= 1
                pairs.append((i, int(row)))
                break
    return pairs


def evaluate_ranking(seed: int, n_mentors: int, n_requests: int) -> dict:
    mentors, requests, profiles = synthetic.benchmark(n_mentors, n_requests, seed)
    grades = [synthetic.relevance(mentors, r, p) for r, p in zip(requests, profiles, strict=True)]
    row_of = {m.id: i for i, m in enumerate(mentors)}
    results = {}

    started = time.perf_counter()
    matcher = MentorMatcher().fit(mentors)
    rankings = [np.array([row_of[m.mentor_id] for m in matcher.rank(r, k=K)])
                for r in requests]
    assignment = matcher.assign(requests)
    request_row = {r.id: i for i, r in enumerate(requests)}
    pairs = [(request_row[rid], row_of[mid]) for rid, mid, _ in assignment.pairs]
    results["matcher"] = {**ranking_metrics(rankings, grades),
                          **assignment_metrics(pairs, mentors, grades),
                          "seconds": time.perf_counter() - started}

    for ranker in (RandomRanker(mentors, seed), JaccardRanker(mentors, seed)):
        started = time.perf_counter()
        rankings = [ranker.order(r)[:K] for r in requests]
        pairs = greedy_assign(ranker, requests, mentors)
        results[ranker.name] = {**ranking_metrics(rankings, grades),
                                **assignment_metrics(pairs, mentors, grades),
                                "seconds": time.perf_counter() - started}
    return results


def evaluate_learning(seed: int, n_mentors: int, n_requests: int) -> dict:
    # A separate draw from the ranking benchmark, so nothing is learned from its requests.
    rng = np.random.default_rng(seed + 1)
    mentors = synthetic.generate_mentors(n_mentors, rng)
    requests, profiles = synthetic.generate_requests(mentors, n_requests, rng)
    outcomes = synthetic.generate_outcomes(mentors, requests, profiles, rng)
    cut = int(0.7 * len(requests))
    held_out_ids = {r.id for r in requests[cut:]}
    train = [o for o in outcomes if o.request.id not in held_out_ids]
    test = [o for o in outcomes if o.request.id in held_out_ids]

    default = MentorMatcher().fit(mentors)
    learned = MentorMatcher(random_state=seed).fit(mentors, outcomes=train)
    result = {"train_outcomes": len(train), "test_outcomes": len(test),
              "weight_source": learned.weight_source_,
              "report": getattr(learned, "weight_report_", {}),
              "learned_weights": dict(zip(FEATURE_NAMES, np.round(learned.weights_, 3).tolist(), strict=True)),
              "default_weights": dict(zip(FEATURE_NAMES, np.round(default.weights_, 3).tolist(), strict=True))}
    for name, matcher in (("default", default), ("learned", learned)):
        result[name] = outcome_metrics(matcher, test)
    return result


def outcome_metrics(matcher: MentorMatcher, outcomes) -> dict:
    """AUC of the score for success, and NDCG of each request's suggestions by success."""
    scores = matcher.score_pairs([o.request for o in outcomes], [o.mentor_id for o in outcomes])
    success = np.array([o.success for o in outcomes], dtype=float)
    by_request: dict = {}
    for i, outcome in enumerate(outcomes):
        by_request.setdefault(outcome.request.id, []).append(i)
    ndcgs = []
    for rows in by_request.values():
        rows = np.array(rows)
        gains = success[rows]
        if gains.sum() == 0:
            continue
        # Sort by score, then by position, so equal scores cannot flatter either model.
        order = rows[np.lexsort((rows, -scores[rows]))]
        ndcgs.append(dcg(success[order]) / dcg(np.sort(gains)[::-1]))
    return {"auc": float(roc_auc_score(success, scores)), "ndcg": float(np.mean(ndcgs))}


def simulate_month(matcher: MentorMatcher, mentors, requests, rng, per_day: int,
                   accept_rate: float = 0.6, answer_days: int = 2, window_days: int = 30) -> np.ndarray:
    """A month of asks: each day's requests ask their best suggestion; an ask is answered
    `answer_days` later, accepted with `accept_rate` (her load grows), and counts as one of her
    recent asks (`set_pending`, the exposure penalty) for `window_days`, as the web app counts
    asks pending or made in the last 30 days. Returns how many asks each mentor got."""
    asks = np.zeros(len(mentors), dtype=int)
    row_of = {m.id: i for i, m in enumerate(mentors)}
    load = {m.id: m.current_load for m in mentors}
    recent: dict = {}
    answers: list[tuple[int, object]] = []
    expiries: list[tuple[int, object]] = []
    for day in range(len(requests) // per_day + 1):
        for _, mid in [w for w in answers if w[0] == day]:
            if rng.random() < accept_rate and load[mid] < mentors[row_of[mid]].capacity:
                load[mid] += 1
                matcher.set_load(mid, load[mid])
        for _, mid in [w for w in expiries if w[0] == day]:
            recent[mid] -= 1
            matcher.set_pending(mid, recent[mid])
        answers = [w for w in answers if w[0] > day]
        expiries = [w for w in expiries if w[0] > day]
        for request in requests[day * per_day:(day + 1) * per_day]:
            top = matcher.rank(request, k=1)
            if not top:
                continue
            mid = top[0].mentor_id
            asks[row_of[mid]] += 1
            recent[mid] = recent.get(mid, 0) + 1
            matcher.set_pending(mid, recent[mid])
            answers.append((day + answer_days, mid))
            expiries.append((day + window_days, mid))
    return asks


def top_share(asks: np.ndarray, share: float = 0.10) -> float:
    """Share of all asks that went to the most-asked `share` of mentors."""
    n = max(1, int(round(share * len(asks))))
    return float(np.sort(asks)[::-1][:n].sum() / max(asks.sum(), 1))


def evaluate_exposure(seed: int, n_mentors: int = 1000, days: int = 30, per_day: int = 40) -> dict:
    """Share of a generated month's asks going to the top 10% of mentors, with and without
    the pending-ask penalty (`exposure_penalty`)."""
    rng = np.random.default_rng(seed + 7)
    mentors = synthetic.generate_mentors(n_mentors, rng)
    requests, _ = synthetic.generate_requests(mentors, days * per_day, rng)
    result = {"mentors": n_mentors, "requests": len(requests), "days": days}
    for name, penalty in (("no_penalty", 0.0), ("default", MentorMatcher().exposure_penalty)):
        matcher = MentorMatcher(exposure_penalty=penalty).fit(mentors)
        asks = simulate_month(matcher, mentors, requests, np.random.default_rng(seed), per_day)
        result[name] = {"top10_share": top_share(asks), "mentors_asked": int((asks > 0).sum()),
                        "max_asks": int(asks.max()), "exposure_penalty": penalty}
    return result


def evaluate_teams(seed: int, n_mentors: int, n_requests: int) -> dict:
    """Coverage of each request's true needs: best team (rank_teams) vs best single mentor,
    on synthetic requests with 2-3 true needs."""
    rng = np.random.default_rng(seed + 3)
    mentors = synthetic.generate_mentors(n_mentors, rng)
    requests, profiles = synthetic.generate_requests(mentors, n_requests, rng)
    matcher = MentorMatcher().fit(mentors)
    skills = {m.id: set(m.skills) for m in mentors}
    single, team = [], []
    for request, profile in zip(requests, profiles, strict=True):
        if len(profile.needs) < 2:
            continue
        truth = set(profile.needs)
        best = matcher.rank(request, k=1)
        teams = matcher.rank_teams(request, k=1)
        if not best or not teams:
            continue
        single.append(len(truth & skills[best[0].mentor_id]) / len(truth))
        covered = set().union(*(skills[i] for i in teams[0].mentor_ids))
        team.append(len(truth & covered) / len(truth))
    return {"requests": len(single), "best_single_coverage": float(np.mean(single)),
            "best_team_coverage": float(np.mean(team))}


def run(seed: int = 0, n_mentors: int = 2000, n_requests: int = 1000, eval_file=None) -> dict:
    from . import evaluate_text

    report = {"params": {"seed": seed, "mentors": n_mentors, "requests": n_requests},
              "ranking": evaluate_ranking(seed, n_mentors, n_requests),
              "learning": evaluate_learning(seed, n_mentors, n_requests),
              "teams": evaluate_teams(seed, n_mentors, min(n_requests, 400)),
              "exposure": evaluate_exposure(seed)}
    path = evaluate_text.DEFAULT_FILE if eval_file is None else eval_file
    from pathlib import Path

    if Path(path).is_file():
        report["free_text"] = evaluate_text.run(path, seed)
    return report


def format_report(report: dict) -> str:
    p = report["params"]
    lines = [f"Synthetic benchmark: {p['mentors']} mentors, {p['requests']} requests, "
             f"seed {p['seed']}", ""]
    columns = [("recall@1", "{:.3f}"), (f"recall@{K}", "{:.3f}"), (f"ndcg@{K}", "{:.3f}"),
               ("assigned", "{:d}"), ("capacity_violations", "{:d}"),
               ("relevant_share", "{:.3f}"), ("load_std", "{:.2f}"), ("load_max", "{:d}"),
               ("load_gini", "{:.3f}"), ("seconds", "{:.1f}")]
    header = f"{'ranker':<9}" + "".join(f"{name:>21}" if name == "capacity_violations"
                                        else f"{name:>15}" for name, _ in columns)
    lines += [header, "-" * len(header)]
    for ranker, row in report["ranking"].items():
        cells = "".join((f"{fmt.format(row[name]):>21}" if name == "capacity_violations"
                         else f"{fmt.format(row[name]):>15}") for name, fmt in columns)
        lines.append(f"{ranker:<9}{cells}")
    learning = report["learning"]
    lines += ["", f"Learned vs default weights on held-out outcomes "
                  f"({learning['train_outcomes']} to learn, {learning['test_outcomes']} held out)",
              f"{'weights':<9}{'AUC':>8}{'NDCG':>8}   weights "
              f"({', '.join(FEATURE_NAMES)})"]
    for name in ("default", "learned"):
        w = learning[f"{name}_weights"]
        lines.append(f"{name:<9}{learning[name]['auc']:>8.3f}{learning[name]['ndcg']:>8.3f}   "
                     + " ".join(f"{w[f]:.2f}" for f in FEATURE_NAMES))
    lines.append(f"weights in use after the held-out check: {learning['weight_source']} "
                 f"(held-out log-loss learned {learning['report'].get('learned_log_loss', float('nan')):.4f} "
                 f"vs fixed {learning['report'].get('prior_log_loss', float('nan')):.4f})")
    t = report["teams"]
    lines += ["", f"Teams on {t['requests']} synthetic requests with 2-3 true needs: coverage of the true "
                  f"needs, best single mentor {t['best_single_coverage']:.3f}, best team "
                  f"{t['best_team_coverage']:.3f}"]
    e = report["exposure"]
    lines += [f"Exposure, a generated month ({e['requests']} requests over {e['days']} days, "
              f"{e['mentors']} mentors): share of asks to the top 10% of mentors "
              f"{e['default']['top10_share']:.3f} with the pending-ask penalty "
              f"({e['default']['exposure_penalty']}), {e['no_penalty']['top10_share']:.3f} without"]
    if "free_text" in report:
        from . import evaluate_text

        lines += ["", evaluate_text.format_report(report["free_text"])]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mentors", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--eval-file", default=None,
                        help="the outside free-text set (default ../shared/data/help_requests_eval.jsonl)")
    args = parser.parse_args(argv)
    if args.mentors <= 0 or args.requests <= 0:
        parser.error("--mentors and --requests must be positive")
    report = run(args.seed, args.mentors, args.requests, args.eval_file)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json
          else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
