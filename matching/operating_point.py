"""Choose the text-to-needs threshold WITHOUT the evaluation set.

    python -m matching.operating_point [--folds 5] [--seed 0] [--min-precision 0.8] [--json]

Cross-validation on the shipped phrase bank (`matching/data/needs_zh.txt`) only: the bank's
phrasings of each difficulty are dealt into `folds` folds; for each fold a `NeedsTagger` is
fitted on the other folds, and development requests are made from the held-out phrasings:
every phrasing alone (one need), and as many again as a quarter of them joined in pairs of two
different difficulties ("…，…": two needs, the way a woman writes two troubles in one text).
Per-request precision and recall (as `matching.evaluate_text` computes them) are pooled over
the folds for every threshold on a grid; the chosen threshold is the one with the highest
recall among those whose precision is at least `min_precision` (the issue's target), the
lowest such threshold on ties; if none reaches it, the one with the best F1. Nothing here
reads `../shared/data/help_requests_eval.jsonl`.
"""
from __future__ import annotations

import argparse
import json
import random

import numpy as np

from .text import NeedsTagger, default_phrases

GRID = tuple(round(t, 2) for t in np.arange(0.20, 0.951, 0.05))


def _found(proba_row, labels, threshold, top_threshold, max_labels) -> set:
    order = np.lexsort((np.arange(len(proba_row)), -proba_row))[:max_labels]
    return {labels[i] for n, i in enumerate(order)
            if proba_row[i] > 0 and (proba_row[i] >= threshold
                                     or (n == 0 and proba_row[i] >= min(threshold, top_threshold)))}


def dev_requests(held: dict[str, list[str]], rng: random.Random) -> list[tuple[str, set]]:
    """Held-out phrasings alone, and a quarter as many pairs of two different labels."""
    singles = [(p, {label}) for label, items in held.items() for p in items]
    pairs = []
    labels = [label for label in held if held[label]]
    for _ in range(len(singles) // 4):
        a, b = rng.sample(labels, 2)
        pairs.append((rng.choice(held[a]) + "，" + rng.choice(held[b]), {a, b}))
    return singles + pairs


def cross_validate(folds: int = 5, seed: int = 0, grid=GRID) -> dict:
    rng = random.Random(seed)
    bank = default_phrases("needs_zh")
    dealt: dict[str, list[list[str]]] = {}
    for label, items in bank.items():
        items = list(items)
        rng.shuffle(items)
        dealt[label] = [items[f::folds] for f in range(folds)]
    per_t = {t: ([], []) for t in grid}
    n_requests = 0
    for f in range(folds):
        train = {label: [p for g, part in enumerate(parts) if g != f for p in part]
                 for label, parts in dealt.items()}
        held = {label: parts[f] for label, parts in dealt.items()}
        tagger = NeedsTagger(phrases=train).fit()
        requests = dev_requests(held, rng)
        n_requests += len(requests)
        proba = tagger.predict_proba([text for text, _ in requests])
        for t in grid:
            precision, recall = per_t[t]
            for (_, true), row in zip(requests, proba, strict=True):
                found = _found(row, tagger.labels_, t, tagger.top_threshold, tagger.max_labels)
                hit = len(true & found)
                precision.append(hit / len(found) if found else 0.0)
                recall.append(hit / len(true))
    curve = [{"threshold": t, "precision": round(float(np.mean(p)), 4),
              "recall": round(float(np.mean(r)), 4)} for t, (p, r) in per_t.items()]
    return {"folds": folds, "seed": seed, "requests": n_requests, "curve": curve}


def choose(curve: list[dict], min_precision: float = 0.8) -> dict:
    ok = [c for c in curve if c["precision"] >= min_precision]
    if ok:
        best = max(ok, key=lambda c: (c["recall"], -c["threshold"]))
        return {**best, "rule": f"highest recall with precision >= {min_precision}"}

    def f1(c):
        p, r = c["precision"], c["recall"]
        return 2 * p * r / (p + r) if p + r else 0.0

    return {**max(curve, key=lambda c: (f1(c), -c["threshold"])), "rule": "best F1 (no threshold reached the precision)"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-precision", type=float, default=0.8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    result = cross_validate(args.folds, args.seed)
    result["chosen"] = choose(result["curve"], args.min_precision)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.folds}-fold cross-validation on the shipped phrase bank "
          f"({result['requests']} development requests, seed {args.seed}); per-request P/R:")
    print(", ".join(f"{c['threshold']:.2f}: {c['precision']:.2f}/{c['recall']:.2f}" for c in result["curve"]))
    c = result["chosen"]
    print(f"chosen threshold {c['threshold']:.2f} ({c['rule']}): precision {c['precision']:.3f}, "
          f"recall {c['recall']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
