"""Choose the text-to-needs threshold WITHOUT the evaluation set.

    python -m matching.operating_point [--folds 5] [--seed 0] [--min-precision 0.8] [--json]
    python -m matching.operating_point --readers      (the readers' weights, hand-written requests)
    python -m matching.operating_point --report FILE  (read a `codes | text` file; chooses nothing)

Two kinds of development requests, both the project's own, pooled:

1. Cross-validation on the shipped phrase bank (`matching/data/needs_zh.txt`): the bank's
   phrasings of each difficulty are dealt into `folds` folds; for each fold a `NeedsTagger` is
   fitted on the other folds, and development requests are made from the held-out phrasings:
   every phrasing alone (one need), and as many again as a quarter of them joined in pairs of
   two different difficulties ("…，…": two needs).
2. Whole requests written for this purpose (`matching/data/needs_dev_zh.txt`: context, filler,
   two troubles, things said to be fine), read by a `NeedsTagger` fitted on the whole bank;
   they are never training phrasings.

Per-request precision and recall (as `matching.evaluate_text` computes them) are pooled over
both for every threshold on a grid; the chosen threshold is the one with the highest recall
among those whose precision is at least `min_precision` (the issue's target), the lowest such
threshold on ties; if none reaches it, the one with the best F1. Nothing here reads
`../shared/data/help_requests_eval.jsonl`.
"""
from __future__ import annotations

import argparse
import json
import random

import numpy as np

from .text import NeedsTagger, _shipped, default_phrases

GRID = tuple(round(t, 2) for t in np.arange(0.20, 0.951, 0.05))


def parse_requests(text: str, labels=None) -> list[tuple[str, set]]:
    """``codes | text`` lines (codes joined by commas; # comments) -> [(text, {codes})].
    ValueError names the line when it has no ``|``, no code, or an unknown code."""
    rows = []
    for n, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "|" not in line:
            raise ValueError(f"line {n}: expected 'codes | text'")
        codes, request = (part.strip() for part in line.split("|", 1))
        needs = {c.strip() for c in codes.split(",") if c.strip()}
        if not needs or not request:
            raise ValueError(f"line {n}: a request needs at least one code and a text")
        unknown = sorted(needs - set(labels)) if labels is not None else []
        if unknown:
            raise ValueError(f"line {n}: unknown codes {unknown}")
        rows.append((request, needs))
    return rows


def development_requests(name: str = "needs_dev_zh") -> list[tuple[str, set]]:
    """The shipped hand-written development requests (`matching/data/<name>.txt`)."""
    from .schema import DIFFICULTIES
    return parse_requests(_shipped(name), DIFFICULTIES)


def _pool(tagger, requests, grid, per_t) -> None:
    """Per-request precision and recall of `tagger` on `requests` at every threshold."""
    tags = tagger.tag_many([text for text, _ in requests], min_confidence=min(grid))
    for t in grid:
        precision, recall = per_t[t]
        for (_, true), found in zip(requests, tags, strict=True):
            # The same rule as `tag` at threshold t: further labels (already each the best of
            # some unit) need t; the best label keeps its own floor.
            kept = {label for n, (label, conf) in enumerate(found)
                    if conf >= t or (n == 0 and conf >= min(t, tagger.top_threshold))}
            hit = len(true & kept)
            precision.append(hit / len(kept) if kept else 0.0)
            recall.append(hit / len(true))


def dev_requests(held: dict[str, list[str]], rng: random.Random) -> list[tuple[str, set]]:
    """Held-out phrasings alone, and a quarter as many pairs of two different labels."""
    singles = [(p, {label}) for label, items in held.items() for p in items]
    pairs = []
    labels = [label for label in held if held[label]]
    for _ in range(len(singles) // 4):
        a, b = rng.sample(labels, 2)
        pairs.append((rng.choice(held[a]) + "，" + rng.choice(held[b]), {a, b}))
    return singles + pairs


def cross_validate(folds: int = 5, seed: int = 0, grid=GRID, written: bool = True) -> dict:
    """Pooled per-request precision/recall per threshold: bank cross-validation, and (when
    `written`) the hand-written development requests."""
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
        _pool(tagger, requests, grid, per_t)
    n_written = 0
    written_curve = []
    if written:
        requests = development_requests()
        n_written = len(requests)
        own = {t: ([], []) for t in grid}
        _pool(NeedsTagger().fit(), requests, grid, own)
        for t in grid:
            per_t[t][0].extend(own[t][0])
            per_t[t][1].extend(own[t][1])
        written_curve = _curve(own)
    return {"folds": folds, "seed": seed, "requests": n_requests + n_written,
            "bank_requests": n_requests, "written_requests": n_written,
            "curve": _curve(per_t), "written_curve": written_curve}


def _curve(per_t) -> list[dict]:
    return [{"threshold": t, "precision": round(float(np.mean(p)), 4),
             "recall": round(float(np.mean(r)), 4)} for t, (p, r) in per_t.items()]


def report(requests: list[tuple[str, set]], tagger=None) -> dict:
    """Per-request precision and recall of `tagger` (default: the shipped one) at its threshold."""
    tagger = tagger if tagger is not None else NeedsTagger().fit()
    found = tagger.predict([text for text, _ in requests])
    precision = [len(set(f) & n) / len(f) if f else 0.0 for (_, n), f in zip(requests, found, strict=True)]
    recall = [len(set(f) & n) / len(n) for (_, n), f in zip(requests, found, strict=True)]
    return {"requests": len(requests), "threshold": tagger.threshold,
            "precision": round(float(np.mean(precision)), 4), "recall": round(float(np.mean(recall)), 4)}


READERS = tuple((w, c) for w in (0.0, 0.5, 0.7, 1.0) for c in (5.0, 20.0, 50.0))


def compare_readers(readers=READERS, thresholds=(0.35, 0.5, 0.6)) -> list[dict]:
    """Per-request P/R on the hand-written development requests for each (lr_weight, lr_C)."""
    requests = development_requests()
    rows = []
    for weight, c in readers:
        if weight == 0.0 and c != readers[0][1]:
            continue  # C means nothing without the linear reader
        tagger = NeedsTagger(lr_weight=weight, lr_C=c).fit()
        row = {"lr_weight": weight, "lr_C": c, "at": {}}
        for t in thresholds:
            tagger.threshold = t
            got = report(requests, tagger)
            row["at"][t] = (got["precision"], got["recall"])
        rows.append(row)
    return rows


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
    parser.add_argument("--readers", action="store_true",
                        help="compare the readers' weights on the hand-written development requests")
    parser.add_argument("--report", metavar="FILE",
                        help="per-request precision/recall of the shipped tagger on a `codes | text` file")
    args = parser.parse_args(argv)
    if args.report:
        from .schema import DIFFICULTIES
        try:
            with open(args.report, encoding="utf-8") as handle:
                requests = parse_requests(handle.read(), DIFFICULTIES)
        except (OSError, ValueError) as error:
            parser.error(f"--report {args.report}: {error}")
        got = report(requests)
        print(json.dumps(got) if args.json else
              f"{got['requests']} requests, threshold {got['threshold']}: precision {got['precision']:.3f}, "
              f"recall {got['recall']:.3f} per request")
        return 0
    if args.readers:
        for row in compare_readers():
            print(f"lr_weight {row['lr_weight']:.1f} lr_C {row['lr_C']:>4.0f}: " + ", ".join(
                f"{t}: {p:.3f}/{r:.3f}" for t, (p, r) in row["at"].items()))
        return 0
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    result = cross_validate(args.folds, args.seed)
    result["chosen"] = choose(result["curve"], args.min_precision)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{result['bank_requests']} requests from {args.folds}-fold cross-validation on the shipped "
          f"phrase bank (seed {args.seed}) + {result['written_requests']} hand-written development "
          "requests; pooled per-request P/R:")
    print(", ".join(f"{c['threshold']:.2f}: {c['precision']:.2f}/{c['recall']:.2f}" for c in result["curve"]))
    print("the hand-written requests alone: "
          + ", ".join(f"{c['threshold']:.2f}: {c['precision']:.2f}/{c['recall']:.2f}" for c in result["written_curve"]))
    c = result["chosen"]
    print(f"chosen threshold {c['threshold']:.2f} ({c['rule']}): precision {c['precision']:.3f}, "
          f"recall {c['recall']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
