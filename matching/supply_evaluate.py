"""Quality of the supply-chain matcher on a generated set whose right answers are known,
beside a keyword baseline: `python -m matching.supply_evaluate [--suppliers 400] [--needs 300] [--seed 0]`.

How the set is made: products are the shipped synonym groups of `synonyms` (each an
equivalence group with at least two Chinese terms, e.g. 竹篮 / 竹筐 / 竹编篮), each given a
category. A supplier makes one or two products and describes them with one term of each group;
a need asks for one product with a *different* term of its group (so exact keywords fail where
synonyms succeed), a quantity, sometimes a certification and a region preference. The right
answers of a need are the suppliers that make its product, hold its certifications, have the
capacity and are in its region; the best of them are those in its own district.

Figures: P@1 (the first suggestion is right), R@5 (share of the right answers found in the
first five, out of at most five), MRR, and the share of top-5 suggestions that lack a required
certification (the matcher must keep it at 0). The set uses the shipped synonym lists, so it
measures the whole pipeline, not how well those lists cover real descriptions.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import time

from .supply import CERTIFICATIONS, SUPPLY_CATEGORIES, Demand, Supplier, SupplyMatcher, keyword_baseline

DISTRICTS = ("海曙区", "江北区", "北仑区", "镇海区", "鄞州区", "奉化区", "余姚市", "慈溪市", "宁海县", "象山县")
ELSEWHERE = ("杭州市", "上海市", "温州市")
_CJK = re.compile(r"^[\u4e00-\u9fff]{2,}$")
FILLERS = ("我们是一家本地企业，", "专业从事", "常年供应", "工厂直供，", "合作社出品，", "")
NEED_FILLERS = ("我们需要", "求购", "寻找供应商：", "长期采购", "急需一批")


def product_groups() -> list[tuple[str, ...]]:
    from synonyms import Thesaurus

    groups = []
    for g in Thesaurus.default().groups:
        terms = tuple(t for t in g.terms if _CJK.match(t))
        if g.broader is None and len(terms) >= 2:
            groups.append(terms)
    return groups


def generate(n_suppliers: int = 400, n_needs: int = 300, seed: int = 0):
    rng = random.Random(seed)
    groups = product_groups()
    cats = [c for c in SUPPLY_CATEGORIES if c != "other"]
    category_of = {i: rng.choice(cats) for i in range(len(groups))}
    certs = list(CERTIFICATIONS)
    suppliers, makes = [], {}
    for sid in range(n_suppliers):
        products = rng.sample(range(len(groups)), rng.choice((1, 2)))
        words = []
        for p in products:
            words.append(groups[p][0] if rng.random() < 0.5 else rng.choice(groups[p]))
        # a supplier names one term of each group; needs name another one
        text = rng.choice(FILLERS) + "、".join(words)
        held = tuple(c for c in certs if rng.random() < 0.3)
        district = rng.choice(DISTRICTS) if rng.random() < 0.9 else rng.choice(ELSEWHERE)
        s = Supplier(id=f"s{sid}", categories=tuple(sorted({category_of[p] for p in products})), text=text,
                     capacity=rng.choice((None, 100, 500, 2000, 10000)), certifications=held, district=district)
        suppliers.append(s)
        makes[s.id] = {(p, w) for p, w in zip(products, words, strict=True)}
    needs, answers = [], {}
    makers = {}
    for s in suppliers:
        for p, w in makes[s.id]:
            makers.setdefault(p, []).append((s, w))
    products_made = sorted(makers)
    for nid in range(n_needs):
        p = rng.choice(products_made)
        used = {w for _s, w in makers[p]}
        other = [t for t in groups[p] if t not in used] or list(groups[p])
        word = rng.choice(other)
        required = tuple(c for c in certs if rng.random() < 0.15)
        pref = rng.choices(("any", "city", "district"), weights=(6, 3, 1))[0]
        d = Demand(id=f"n{nid}", categories=(category_of[p],), text=rng.choice(NEED_FILLERS) + word + "，量大从优",
                   quantity=rng.choice((None, 50, 300, 1000, 5000)), required_certifications=required,
                   district=rng.choice(DISTRICTS), region_preference=pref)
        right = []
        for s, _w in makers[p]:
            ok = set(required) <= set(s.certifications)
            ok = ok and (d.quantity is None or s.capacity is None or s.capacity >= d.quantity)
            ok = ok and (pref == "any" or (pref == "city" and s.district in DISTRICTS)
                         or (pref == "district" and s.district == d.district))
            if ok:
                right.append(s.id)
        if right:
            needs.append(d)
            answers[d.id] = set(right)
    terms = sorted({t for g in groups for t in g}, key=len, reverse=True)
    return suppliers, needs, answers, terms


def score(ranked: dict[str, list], answers: dict[str, set], needs, suppliers) -> dict:
    by_id = {s.id: s for s in suppliers}
    p1 = r5 = mrr = 0.0
    bad = shown = 0
    for d in needs:
        got, right = ranked[d.id], answers[d.id]
        p1 += bool(got) and got[0] in right
        r5 += len(set(got[:5]) & right) / min(5, len(right))
        mrr += next((1.0 / (i + 1) for i, sid in enumerate(got) if sid in right), 0.0)
        for sid in got[:5]:
            shown += 1
            bad += not set(d.required_certifications) <= set(by_id[sid].certifications)
    n = max(1, len(needs))
    return {"p_at_1": round(p1 / n, 3), "recall_at_5": round(r5 / n, 3), "mrr": round(mrr / n, 3),
            "uncertified_in_top5": round(bad / max(1, shown), 3)}


def evaluate(n_suppliers=400, n_needs=300, seed=0) -> dict:
    suppliers, needs, answers, terms = generate(n_suppliers, n_needs, seed)
    started = time.perf_counter()
    matcher = SupplyMatcher(regions=DISTRICTS).fit(suppliers)
    ranked = {d.id: [m.id for m in matcher.rank(d, k=10)] for d in needs}
    seconds = time.perf_counter() - started
    plain = SupplyMatcher(regions=DISTRICTS, use_synonyms=False).fit(suppliers)
    ranked_plain = {d.id: [m.id for m in plain.rank(d, k=10)] for d in needs}
    baseline = {d.id: keyword_baseline(d, suppliers, terms, k=10) for d in needs}
    return {"suppliers": len(suppliers), "needs": len(needs), "seed": seed,
            "matcher": score(ranked, answers, needs, suppliers),
            "matcher_without_synonyms": score(ranked_plain, answers, needs, suppliers),
            "keyword_baseline": score(baseline, answers, needs, suppliers),
            "seconds": round(seconds, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.supply_evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--suppliers", type=int, default=400)
    parser.add_argument("--needs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(evaluate(args.suppliers, args.needs, args.seed), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
