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


def run(seed: int = 0, n_mentors: int = 2000, n_requests: int = 1000) -> dict:
    return {"params": {"seed": seed, "mentors": n_mentors, "requests": n_requests},
            "ranking": evaluate_ranking(seed, n_mentors, n_requests),
            "learning": evaluate_learning(seed, n_mentors, n_requests)}


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
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mentors", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.mentors <= 0 or args.requests <= 0:
        parser.error("--mentors and --requests must be positive")
    report = run(args.seed, args.mentors, args.requests)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json
          else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
