"""Validation of the data shapes and the bilingual vocabularies."""
import pytest

from matching import HelpRequest, Mentor, Outcome, Reason
from matching.schema import (
    BUSINESS_STAGES,
    DIFFICULTIES,
    INDUSTRIES,
    INDUSTRY_FAMILIES,
)
from matching.schema import (
    DEFAULT_GROUP_AFFINITY as GROUP_AFFINITY,
)
from matching.schema import (
    DEFAULT_GROUPS as GROUPS,
)
from matching.schema import (
    DEFAULT_REGIONS as REGIONS,
)


def mentor(**changes):
    fields = dict(id=1, group="scientist", industries=["tea"], skills=["technology"],
                  region="余姚市", capacity=2)
    fields.update(changes)
    return Mentor(**fields)


def request(**changes):
    fields = dict(id=1, industry="tea", difficulties=["technology"], region="余姚市")
    fields.update(changes)
    return HelpRequest(**fields)


@pytest.mark.parametrize("changes, field", [
    ({"capacity": -1}, "capacity"),
    ({"current_load": -1}, "current_load"),
    ({"capacity": 2, "current_load": 3}, "current_load"),
    ({"group": ""}, "group"),
    ({"group": None}, "group"),
    ({"skills": ["juggling"]}, "skill"),
    ({"industries": ["mining"]}, "industry"),
    ({"region": ""}, "region"),
    ({"region": "   "}, "region"),
    ({"skills": "technology"}, "skills"),
    ({"capacity": 1.5}, "capacity"),
    ({"bio": None}, "bio"),
    ({"id": None}, "id"),
    ({"id": ["unhashable"]}, "id"),
])
def test_bad_mentor_field_is_named(changes, field):
    with pytest.raises(ValueError, match=field):
        mentor(**changes)


@pytest.mark.parametrize("changes, field", [
    ({"difficulties": ["market_access", "flying"]}, "difficulty"),
    ({"industry": "mining"}, "industry"),
    ({"region": ""}, "region"),
    ({"stage": "retired"}, "stage"),
    ({"description": None}, "description"),
])
def test_bad_request_field_is_named(changes, field):
    with pytest.raises(ValueError, match=field):
        request(**changes)


def test_region_outside_ningbo_is_accepted():
    assert mentor(region="杭州市").region == "杭州市"
    assert request(region="上海市").region == "上海市"


def test_lists_become_tuples():
    m = mentor(skills=["technology", "quality"])
    assert m.skills == ("technology", "quality")


def test_every_vocabulary_has_chinese_and_english_labels():
    for vocab in (DIFFICULTIES, GROUPS, INDUSTRIES, REGIONS, BUSINESS_STAGES):
        for code, labels in vocab.items():
            zh, en = labels
            assert zh and en, code
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), code
            assert en.isascii(), code
    assert set(INDUSTRY_FAMILIES) == set(INDUSTRIES)
    assert set(GROUP_AFFINITY) == set(GROUPS)
    for affinities in GROUP_AFFINITY.values():
        assert set(affinities) <= set(DIFFICULTIES)


def test_industries_cover_the_issue_list():
    for code in ("handicraft", "embroidery", "agriculture", "food", "seafood", "homestay",
                 "ecommerce", "textiles", "tea"):
        assert code in INDUSTRIES


@pytest.mark.parametrize("reason, zh, en", [
    (Reason("shared_skills", {"skills": ("live_streaming", "e_commerce")}),
     "擅长您需要的：直播带货、电商运营", "Skilled in what you need: Live streaming, E-commerce"),
    (Reason("same_district", {"region": "象山县"}), "同在象山县", "Same district: Xiangshan County"),
    (Reason("same_city", {"region": "鄞州区"}), "同在宁波（鄞州区）", "Also in Ningbo (Yinzhou District)"),
    (Reason("same_industry", {"industry": "seafood"}), "同行业：水产海鲜",
     "Same industry: Aquaculture & seafood"),
    (Reason("related_industry", {"industry": "tea", "request_industry": "agriculture"}),
     "相近行业：茶叶", "Related industry: Tea"),
    (Reason("group_fit", {"group": "scientist", "difficulties": ("technology",)}),
     "女科技工作者，适合解决技术支持问题", "Women scientists and engineers: suited to Technology"),
    (Reason("similar_words", {"terms": ("直播带货", "网店")}), "描述相近：直播带货、网店",
     "Similar wording: 直播带货, 网店"),
])
def test_reason_texts_in_both_languages(reason, zh, en):
    assert reason.text("zh") == zh
    assert reason.text() == zh
    assert reason.text("en") == en


def test_reason_rejects_unknown_language_and_serialises():
    reason = Reason("shared_skills", {"skills": ("legal",)})
    with pytest.raises(ValueError, match="lang"):
        reason.text("fr")
    assert reason.to_dict() == {"code": "shared_skills", "params": {"skills": ["legal"]}}


@pytest.mark.parametrize("kwargs, success", [
    ({"accepted": False}, False),
    ({"accepted": True}, True),
    ({"accepted": True, "resolved": False, "satisfaction": 5}, False),
    ({"accepted": True, "resolved": True}, True),
    ({"accepted": True, "satisfaction": 3}, False),
    ({"accepted": True, "satisfaction": 4}, True),
])
def test_outcome_success_label(kwargs, success):
    assert Outcome(request(), 1, **kwargs).success is success


def test_outcome_rejects_bad_satisfaction():
    with pytest.raises(ValueError, match="satisfaction"):
        Outcome(request(), 1, accepted=True, satisfaction=6)


def test_reason_stored_as_json_renders_the_same():
    import json
    reason = Reason("group_fit", {"group": "scientist", "difficulties": ("technology", "quality")})
    stored = json.loads(json.dumps(reason.to_dict()))
    restored = Reason(stored["code"], stored["params"])
    assert restored.text("zh") == reason.text("zh")
    assert restored.text("en") == reason.text("en") == "Women scientists and engineers: suited to Technology, Quality"
