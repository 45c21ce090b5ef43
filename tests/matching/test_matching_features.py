"""The similarity components, one at a time, on pairs whose value is known."""
import pytest

from matching import HelpRequest, Mentor, MentorMatcher
from matching.features import FEATURE_NAMES, normalise_text, shared_terms


def components(mentor: Mentor, request: HelpRequest, **params) -> dict:
    others = [Mentor("other", "craftswoman", ["ceramics"], ["legal"], "镇海区", 1,
                     bio="陶瓷木作")]
    matcher = MentorMatcher(**params).fit([mentor] + others)
    return matcher.explain(request, mentor.id).components


def base_mentor(**changes):
    fields = dict(id="m", group="entrepreneur", industries=["tea"],
                  skills=["e_commerce", "branding"], region="余姚市", capacity=3)
    fields.update(changes)
    return Mentor(**fields)


def base_request(**changes):
    fields = dict(id="r", industry="tea", difficulties=["e_commerce", "financing"],
                  region="余姚市")
    fields.update(changes)
    return HelpRequest(**fields)


def test_feature_names_are_the_component_keys():
    assert tuple(components(base_mentor(), base_request())) == FEATURE_NAMES


@pytest.mark.parametrize("region, expected", [("余姚市", 1.0), ("象山县", 0.4), ("杭州市", 0.0)])
def test_region_same_district_beats_same_city_beats_elsewhere(region, expected):
    got = components(base_mentor(), base_request(region=region))
    assert got["region"] == pytest.approx(expected)


def test_same_unknown_region_counts_as_same_place():
    got = components(base_mentor(region="杭州市"), base_request(region="杭州市"))
    assert got["region"] == 1.0


@pytest.mark.parametrize("industry, expected", [("tea", 1.0), ("agriculture", 0.4),
                                                ("embroidery", 0.0)])
def test_industry_same_related_unrelated(industry, expected):
    got = components(base_mentor(), base_request(industry=industry))
    assert got["industry"] == pytest.approx(expected)


def test_best_of_several_mentor_industries_counts():
    got = components(base_mentor(industries=["embroidery", "agriculture"]), base_request())
    assert got["industry"] == pytest.approx(0.4)


def test_skill_is_share_of_difficulties_covered():
    assert components(base_mentor(), base_request())["skill"] == pytest.approx(0.5)
    assert components(base_mentor(), base_request(difficulties=[]))["skill"] == 0.0


def test_group_affinity_follows_the_difficulties():
    tech = base_request(difficulties=["technology", "quality"])
    scientist = components(base_mentor(group="scientist"), tech)["group"]
    entrepreneur = components(base_mentor(group="entrepreneur"), tech)["group"]
    assert scientist == pytest.approx(1.0)
    assert entrepreneur < scientist


def test_text_cosine_identical_disjoint_and_partial():
    bio = "我做茶叶电商，擅长网店运营"
    same = components(base_mentor(bio=bio), base_request(description=bio))["text"]
    disjoint = components(base_mentor(bio=bio), base_request(description="贷款融资"))["text"]
    partial = components(base_mentor(bio=bio), base_request(description="茶叶网店没有流量"))["text"]
    assert same == pytest.approx(1.0, abs=1e-5)
    assert disjoint == 0.0
    assert 0.0 < partial < same


def test_text_works_without_spaces_and_ignores_punctuation():
    assert normalise_text("直播带货，网店！Taobao店") == "直播带货 网店 taobao店"


def test_score_is_weighted_sum_of_components():
    matcher = MentorMatcher(text_weight=0.1, skill_weight=0.2, industry_weight=0.3,
                            region_weight=0.25, group_weight=0.15)
    matcher.fit([base_mentor(bio="茶叶电商")])
    match = matcher.explain(base_request(description="茶叶网店"), "m")
    expected = sum(w * match.components[name] for w, name in
                   zip([0.1, 0.2, 0.3, 0.25, 0.15], FEATURE_NAMES, strict=True))
    assert match.score == pytest.approx(expected, abs=1e-6)


def test_shared_terms_prefers_longest_meaningful_overlap():
    contribution = {"直播": 0.2, "播带": 0.2, "带货": 0.2, "直播带": 0.1, "播带货": 0.1,
                    "象山": 0.05, "网店": 0.3}
    terms = shared_terms("我在象山想学直播带货，网店没有流量", "象山人，擅长直播带货和网店运营",
                         lambda ngram: contribution.get(ngram, 0.0), max_terms=3)
    assert terms == ("直播带货", "网店", "象山")


def test_shared_terms_skips_words_that_added_nothing():
    assert shared_terms("我们的", "我们的", lambda ngram: 0.0, max_terms=3) == ()
