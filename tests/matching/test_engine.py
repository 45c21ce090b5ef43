"""One engine for people and businesses: both matchers are thin configurations of
`matching.engine` (text and category transformers, distance tiers, reasons, constraints)."""
from __future__ import annotations

import numpy as np
from sklearn.base import clone

from matching import HelpRequest, Mentor, MentorMatcher, engine
from matching.supply import Demand, Supplier, SupplyMatcher
from matching.text import STOP_WORDS_ZH

CITY = ("海曙区", "江北区", "鄞州区", "象山县", "宁海县")


def test_both_matchers_use_the_engine_transformers_and_are_estimators():
    supply = SupplyMatcher(regions=CITY).fit([Supplier("a", ("packaging",), "礼盒包装", 100)])
    mentors = MentorMatcher(needs_tagger=None).fit(
        [Mentor(1, "entrepreneur", ["handicraft"], ["e_commerce"], "海曙区", 3, bio="电商运营 直播")])
    assert isinstance(supply.text_, engine.TextFeatures)
    assert isinstance(mentors.text_, engine.TextFeatures)
    assert isinstance(supply.categories_, engine.CategoryFeatures)
    for matcher in (supply, mentors):
        for method in ("fit", "rank", "explain"):
            assert callable(getattr(matcher, method))
        assert clone(matcher).get_params() == matcher.get_params()


def test_text_features_expand_synonyms_only_when_asked():
    texts = ["手工刺绣工坊", "竹篮 竹编"]
    plain = engine.TextFeatures((1, 3)).fit(texts)
    expanded = engine.TextFeatures((1, 3), use_synonyms=True).fit(texts)
    query = ["绣花抱枕"]
    sim_plain = (plain.transform(query) @ plain.transform(texts).T).toarray()[0]
    sim_expanded = (expanded.transform(query) @ expanded.transform(texts).T).toarray()[0]
    assert sim_expanded[0] - sim_expanded[1] > sim_plain[0] - sim_plain[1]
    # fast transform equals scikit-learn's own
    direct = expanded.vectorizer_.transform(expanded.expand(query)).toarray()
    assert np.allclose(expanded.transform(query).toarray(), direct, atol=1e-6)


def test_category_features_exact_family_and_none():
    cats = engine.CategoryFeatures(("a", "b", "c"), {"a": "x", "b": "x", "c": "y"}, 0.4).fit()
    asked = cats.transform([["a"]])
    items = cats.transform([["a"], ["b"], ["c"], []])
    assert cats.similarity(asked, items).tolist() == [[1.0, np.float32(0.4), 0.0, 0.0]]


def test_counted_keeps_only_factors_that_moved_the_score():
    assert engine.counted([(0.5, "big"), (0.01, "tiny"), (0.0, "none"), (0.2, "mid")], 0.71) == ("big", "mid")


def test_top_k_respects_the_mask_and_breaks_ties_by_position():
    scores = np.array([0.5, 0.9, 0.9, 0.1])
    assert engine.top_k(scores, 2).tolist() == [1, 2]
    assert engine.top_k(scores, 2, mask=np.array([True, False, True, True])).tolist() == [2, 0]
    assert engine.first_allowed(scores, lambda j: j != 1, 2) == [2, 0]


def test_supply_reasons_show_no_stop_word_and_only_factors_that_counted():
    supplier = Supplier("s", ("packaging",), "我们需要 我们 礼盒包装 纸盒定制", 5000, (), "上海市")
    need = Demand("n", ("packaging",), "我们需要礼盒，纸盒定制", 100, (), "象山县")
    match = SupplyMatcher(regions=CITY).fit([supplier]).explain(need, "s")
    words = [w for r in match.reasons if r.code == "text" for w in r.detail]
    assert words and not set(words) & STOP_WORDS_ZH
    assert all(not w.startswith("我们") for w in words)
    # distance is "elsewhere": no distance reason; a zero-weight factor gives none either
    assert not {r.code for r in match.reasons} & {"same_district", "same_city"}
    no_text = SupplyMatcher(regions=CITY, text_weight=0).fit([supplier]).explain(need, "s")
    assert "text" not in {r.code for r in no_text.reasons}


def test_the_mentor_matcher_scores_as_before_through_the_engine():
    mentors = [Mentor(i, "entrepreneur", ["handicraft"], ["e_commerce"], r, 3, bio=b)
               for i, (r, b) in enumerate([("海曙区", "电商运营 直播带货"), ("象山县", "民宿经营"),
                                            ("杭州市", "电商 直播")])]
    matcher = MentorMatcher(needs_tagger=None, regions=CITY).fit(mentors)
    request = HelpRequest(1, "handicraft", ["e_commerce"], "海曙区", description="直播带货没人看")
    ranked = matcher.rank(request, k=3)
    assert ranked[0].mentor_id == 0
    by_id = {m.mentor_id: m for m in ranked}
    assert by_id[0].components["region"] == 1.0 and by_id[2].components["region"] == 0.0
    assert by_id[1].components["region"] == matcher.same_city_score
