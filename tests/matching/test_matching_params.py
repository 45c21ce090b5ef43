"""Mentor groups, their affinities and the city's regions are parameters of the matcher
(data the app owns), not module constants."""
import pytest

from matching import HelpRequest, Mentor, MentorMatcher, Reason
from matching.schema import DEFAULT_GROUPS


def mentor(id, group, region="象山县", skills=("technology",)):
    return Mentor(id=id, group=group, industries=("tea",), skills=skills, region=region, capacity=2)


def request(region="象山县", difficulties=("technology",)):
    return HelpRequest(id="r", industry="tea", difficulties=difficulties, region=region)


def test_default_groups_are_the_federations_three_teams():
    assert {zh for zh, _ in DEFAULT_GROUPS.values()} == {"凤麓女工匠", "优秀女企业家", "女科技工作者"}


def test_groups_and_affinities_are_taken_as_parameters():
    groups = {"rural_guides": {"technology": 1.0}, "bankers": {"financing": 1.0}}
    matcher = MentorMatcher(groups=groups, default_affinity=0.0).fit(
        [mentor("guide", "rural_guides"), mentor("banker", "bankers")])
    match = matcher.explain(request(), "guide")
    assert match.components["group"] == 1.0
    assert matcher.explain(request(), "banker").components["group"] == 0.0
    assert any(r.code == "group_fit" for r in match.reasons)
    assert matcher.get_params()["groups"] == groups


def test_a_mentor_of_a_group_the_matcher_does_not_know_is_refused():
    with pytest.raises(ValueError, match="unknown group 'astronaut'"):
        MentorMatcher().fit([mentor("m", "astronaut")])
    matcher = MentorMatcher(groups={"a": {}}).fit([mentor("m", "a")])
    with pytest.raises(ValueError, match="unknown group 'craftswoman'"):
        matcher.add_mentor(mentor("n", "craftswoman"))


@pytest.mark.parametrize("params, field", [
    ({"groups": {}}, "groups"),
    ({"groups": {"a": {"flying": 1.0}}}, "difficulty"),
    ({"groups": {"a": {"technology": 2}}}, "0..1"),
    ({"groups": {"a": "technology"}}, "groups"),
    ({"regions": "象山县"}, "regions"),
    ({"regions": ["象山县", "象山县"]}, "regions"),
    ({"default_affinity": -0.1}, "default_affinity"),
])
def test_bad_parameters_are_named(params, field):
    with pytest.raises(ValueError, match=field):
        MentorMatcher(**params).fit([mentor("m", "scientist")])


def test_regions_are_taken_as_parameters():
    # Two districts of another city: same city when given as regions, elsewhere by default.
    mentors = [mentor("m", "scientist", region="西湖区")]
    default = MentorMatcher().fit(mentors).explain(request(region="上城区"), "m")
    hangzhou = MentorMatcher(regions=["西湖区", "上城区"], same_city_score=0.4).fit(mentors) \
        .explain(request(region="上城区"), "m")
    assert default.components["region"] == 0.0
    assert hangzhou.components["region"] == pytest.approx(0.4)


def test_reason_labels_come_from_the_given_vocabularies():
    reason = Reason("group_fit", {"group": "guides", "difficulties": ("technology",)})
    labels = {"guides": ("乡村向导", "Rural guides")}
    assert reason.text("zh", groups=labels) == "乡村向导，适合解决技术支持问题"
    assert reason.text("en", groups=labels) == "Rural guides: suited to Technology"
    place = Reason("same_district", {"region": "石浦镇"})
    assert place.text("en", regions={"石浦镇": ("石浦镇", "Shipu Town")}) == "Same district: Shipu Town"
