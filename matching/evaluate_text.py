"""The honest evaluation: free-text requests written by someone else (outside set).

    python -m matching.evaluate_text [--eval-file PATH] [--seed 0] [--json]
    (also part of `python -m matching.evaluate`)

The file holds one JSON object a line: ``id``, ``text`` (everyday Chinese), ``needs`` (true
difficulty codes). Nothing in it is used to build the matcher; it is only read here.

1. Text-to-needs: the matcher's `NeedsTagger` tags each text; precision and recall per
   request (averaged), and micro precision/recall over all labels.
2. Ranking on the two-need requests, each ticking only its FIRST need (the second is only
   in the text), against synthetic mentors (`matching.synthetic`, bios in the mentors' own
   words). Each request is asked `--draws` times with a random industry and district (the
   text says neither reliably). Relevance grade = how many of the true needs the mentor
   covers (0, 1, 2); NDCG@10 with gain 2^grade - 1. Rankers:
   - ``ticked``: skill overlap with the ticked need only (random tie-breaks);
   - ``tfidf``: the ticked-need overlap plus a plain char-n-gram TF-IDF cosine of the text
     with the bio, equally weighted;
   - ``matcher1``: this matcher without the needs tagger (the previous release);
   - ``matcher2``: this matcher (ticked + needs read from the text, confidence-weighted).
3. Teams: share of the true needs covered by the best team (`rank_teams`, up to 3) vs the
   best single mentor (`rank(k=1)`), on the two-need requests.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import synthetic
from .features import difficulty_vector
from .model import MentorMatcher
from .schema import DEFAULT_REGIONS, INDUSTRIES, HelpRequest
from .text import NeedsTagger, char_vectorizer

K = 10
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "help_requests_eval.jsonl"


def load(path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def needs_metrics(rows: list[dict], tagger: NeedsTagger) -> dict:
    predicted = tagger.predict([r["text"] for r in rows])
    precision, recall, tp, n_pred, n_true = [], [], 0, 0, 0
    for row, found in zip(rows, predicted, strict=True):
        true, found = set(row["needs"]), set(found)
        hit = len(true & found)
        precision.append(hit / len(found) if found else 0.0)
        recall.append(hit / len(true))
        tp, n_pred, n_true = tp + hit, n_pred + len(found), n_true + len(true)
    return {"requests": len(rows), "precision": float(np.mean(precision)),
            "recall": float(np.mean(recall)), "micro_precision": tp / max(n_pred, 1),
            "micro_recall": tp / max(n_true, 1), "threshold": tagger.threshold}


def needs_curve(rows: list[dict], tagger: NeedsTagger,
                thresholds=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> list[dict]:
    """Per-request precision and recall as the confidence threshold moves, by `tag`'s own rule
    (the best label kept down to `top_threshold`; a further one needs the threshold and a
    unit of its own), so the row at the tagger's threshold is what `predict` gives."""
    tags = tagger.tag_many([r["text"] for r in rows], min_confidence=min(thresholds))
    out = []
    for t in thresholds:
        precision, recall = [], []
        for row, found in zip(rows, tags, strict=True):
            kept = {label for n, (label, conf) in enumerate(found)
                    if conf >= t or (n == 0 and conf >= min(t, tagger.top_threshold))}
            true = set(row["needs"])
            precision.append(len(true & kept) / len(kept) if kept else 0.0)
            recall.append(len(true & kept) / len(true))
        out.append({"threshold": t, "precision": float(np.mean(precision)), "recall": float(np.mean(recall))})
    return out


def _dcg(gains):
    return float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2))))


def _ndcg(order, grades):
    ideal = _dcg(2.0 ** np.sort(grades)[::-1][:K] - 1)
    return _dcg(2.0 ** grades[order[:K]] - 1) / ideal if ideal > 0 else None


def ranking_metrics(rows: list[dict], seed: int = 0, n_mentors: int = 2000,
                    draws: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    mentors = synthetic.generate_mentors(n_mentors, rng)
    available = np.array([m.active and m.current_load < m.capacity for m in mentors])
    skills = np.array([difficulty_vector(m.skills) for m in mentors])
    two = [r for r in rows if len(r["needs"]) == 2]
    requests, truths = [], []
    for row in two:
        for d in range(draws):
            requests.append(HelpRequest(
                id=f"{row['id']}-{d}", industry=str(rng.choice(list(INDUSTRIES))),
                region=str(rng.choice(list(DEFAULT_REGIONS))), difficulties=(row["needs"][0],),
                description=row["text"]))
            truths.append(row["needs"])
    grades = [np.where(available, skills @ difficulty_vector(t), 0.0) for t in truths]

    vectorizer = char_vectorizer().fit([m.bio for m in mentors])
    bios = vectorizer.transform([m.bio for m in mentors])
    avail_rows = np.flatnonzero(available)

    def by_scores(scores):
        scores = scores[avail_rows]
        order = np.lexsort((tie.random(len(avail_rows)), -scores))
        return avail_rows[order]

    tie = np.random.default_rng(seed + 1)
    results = {}
    ndcg = {"ticked": [], "tfidf": [], "matcher1": [], "matcher2": []}
    matcher1 = MentorMatcher(needs_tagger=None).fit(mentors)
    matcher2 = MentorMatcher().fit(mentors)
    row_of = {m.id: i for i, m in enumerate(mentors)}
    single_cov, team_cov = [], []
    for request, truth, grade in zip(requests, truths, grades, strict=True):
        ticked = skills @ difficulty_vector(request.difficulties)
        ndcg["ticked"].append(_ndcg(by_scores(ticked), grade))
        text = (bios @ vectorizer.transform([request.description]).T).toarray().ravel()
        ndcg["tfidf"].append(_ndcg(by_scores(0.5 * ticked + 0.5 * text), grade))
        for name, matcher in (("matcher1", matcher1), ("matcher2", matcher2)):
            order = np.array([row_of[m.mentor_id] for m in matcher.rank(request, k=K)])
            ndcg[name].append(_ndcg(order, grade))
        best = matcher2.rank(request, k=1)[0]
        single_cov.append(len(set(truth) & set(mentors[row_of[best.mentor_id]].skills)) / len(truth))
        team = matcher2.rank_teams(request, k=1)[0]
        covered = {c for mid in team.mentor_ids for c in mentors[row_of[mid]].skills}
        team_cov.append(len(set(truth) & covered) / len(truth))
    for name, values in ndcg.items():
        values = [v for v in values if v is not None]
        results[name] = {"ndcg@10": float(np.mean(values))}
    base = results["ticked"]["ndcg@10"]
    for name in results:
        results[name]["vs_ticked"] = results[name]["ndcg@10"] / base
    return {"requests": len(two), "queries": len(requests), "mentors": n_mentors,
            "rankers": results,
            "teams": {"best_single_coverage": float(np.mean(single_cov)),
                      "best_team_coverage": float(np.mean(team_cov))}}


def run(path=DEFAULT_FILE, seed: int = 0, draws: int = 5) -> dict:
    rows = load(path)
    tagger = NeedsTagger().fit()
    return {"file": str(path), "needs": needs_metrics(rows, tagger), "curve": needs_curve(rows, tagger),
            "ranking": ranking_metrics(rows, seed=seed, draws=draws)}


def format_report(report: dict) -> str:
    n, r = report["needs"], report["ranking"]
    lines = [f"Free-text evaluation ({report['file']})",
             f"Text-to-needs on {n['requests']} requests: precision {n['precision']:.3f}, "
             f"recall {n['recall']:.3f} per request (micro {n['micro_precision']:.3f} / "
             f"{n['micro_recall']:.3f}; threshold {n['threshold']})",
             "precision / recall per request as the threshold moves: "
             + ", ".join(f"{c['threshold']:.1f}: {c['precision']:.2f}/{c['recall']:.2f}" for c in report["curve"]),
             f"Ranking on its {r['requests']} two-need requests ticking only the first need "
             f"({r['queries']} queries, {r['mentors']} synthetic mentors):",
             f"{'ranker':<10}{'NDCG@10':>9}{'x ticked':>10}"]
    for name, row in r["rankers"].items():
        lines.append(f"{name:<10}{row['ndcg@10']:>9.3f}{row['vs_ticked']:>10.2f}")
    t = r["teams"]
    lines.append(f"Coverage of the true needs: best single mentor {t['best_single_coverage']:.3f}, "
                 f"best team {t['best_team_coverage']:.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.evaluate_text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-file", default=str(DEFAULT_FILE))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not Path(args.eval_file).is_file():
        parser.error(f"no evaluation file at {args.eval_file}")
    report = run(args.eval_file, args.seed, args.draws)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
