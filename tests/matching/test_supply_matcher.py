"""The supply-chain matcher on hand-made cases: certifications are a hard constraint, capacity
below the quantity is marked, distance tiers order equal suppliers, Chinese synonyms bring a
supplier who writes another word; both directions; bad input named; the quality figure on the
generated set beats the keyword baseline."""
from __future__ import annotations

import pytest

from matching.supply import Demand, Supplier, SupplyMatcher
from matching.supply_evaluate import evaluate

CITY = ("海曙区", "江北区", "鄞州区", "象山县", "宁海县")


def _matcher(*suppliers, demands=()):
    return SupplyMatcher(regions=CITY).fit(list(suppliers), list(demands))


def test_a_supplier_without_the_required_certification_is_never_suggested():
    certified = Supplier("sc", ("food_processing",), "海鲜干货加工，鱼鲞 虾干", 5000, ("sc",), "象山县")
    better_text = Supplier("nosc", ("food_processing",), "海鲜干货加工，鱼鲞 虾干 墨鱼干 专业加工", 5000, (), "象山县")
    need = Demand("n", ("food_processing",), "代加工鱼鲞，需要SC", 1000, ("sc",), "象山县")
    matcher = _matcher(certified, better_text)
    assert [m.id for m in matcher.rank(need)] == ["sc"]
    assert matcher.explain(need, "nosc").extra["allowed"] is False
    # without the requirement both are suggested
    open_need = Demand("n2", ("food_processing",), "代加工鱼鲞", 1000, (), "象山县")
    assert {m.id for m in matcher.rank(open_need)} == {"sc", "nosc"}


def test_capacity_below_the_quantity_is_marked_and_ranked_below():
    small = Supplier("small", ("packaging",), "礼盒包装 纸盒", 500, (), "鄞州区")
    big = Supplier("big", ("packaging",), "礼盒包装 纸盒", 5000, (), "鄞州区")
    need = Demand("n", ("packaging",), "每月需要2000个礼盒", 2000, (), "鄞州区")
    ranked = _matcher(small, big).rank(need)
    assert [m.id for m in ranked] == ["big", "small"]
    assert ranked[1].capacity_short and not ranked[0].capacity_short
    assert "月产能500低于需求量2000" in ranked[1].reason_texts("zh")
    assert "Monthly capacity covers the quantity" in ranked[0].reason_texts("en")


def test_distance_tiers_same_district_then_same_city_then_elsewhere():
    args = (("cold_chain",), "冷链运输 冷藏车 每周两次", 100, ())
    near, city, far = Supplier("near", *args, "象山县"), Supplier("city", *args, "江北区"), Supplier("far", *args, "上海市")
    need = Demand("n", ("cold_chain",), "冷链运输到上海，每周两次", 8, (), "象山县")
    ranked = _matcher(far, city, near).rank(need)
    assert [m.id for m in ranked] == ["near", "city", "far"]
    assert [m.distance_tier for m in ranked] == ["same_district", "same_city", "elsewhere"]
    local = Demand("l", ("cold_chain",), "冷链运输", 8, (), "象山县", region_preference="city")
    assert [m.id for m in _matcher(far, city, near).rank(local)] == ["near", "city"]
    own = Demand("o", ("cold_chain",), "冷链运输", 8, (), "象山县", region_preference="district")
    assert [m.id for m in _matcher(far, city, near).rank(own)] == ["near"]


def test_chinese_synonyms_find_a_supplier_who_writes_another_word():
    embroidery = Supplier("emb", ("textile",), "手工刺绣工坊，承接订单", None, (), "宁海县")
    basket = Supplier("bas", ("textile",), "竹篮 竹编 工坊，承接订单", None, (), "宁海县")
    need = Demand("n", ("textile",), "找工厂绣花五百个抱枕", 500, (), "宁海县")
    with_syn = _matcher(embroidery, basket).rank(need)
    assert with_syn[0].id == "emb"
    assert any(r.code == "text" for r in with_syn[0].reasons)
    without = SupplyMatcher(regions=CITY, use_synonyms=False).fit([embroidery, basket]).rank(need)
    gap_with = with_syn[0].components["text"] - with_syn[1].components["text"]
    gap_without = abs(without[0].components["text"] - without[1].components["text"])
    assert gap_with > gap_without


def test_both_ways_and_never_its_own_owner():
    factory = Supplier("f", ("embroidery",), "刺绣加工厂 小单也接", 2000, ("export",), "鄞州区", owner=1)
    needs = [Demand(10, ("embroidery",), "刺绣抱枕500个", 500, (), "鄞州区", owner=2),
             Demand(11, ("seafood",), "收购干货", 100, (), "象山县", owner=3),
             Demand(12, ("embroidery",), "刺绣订单", 100, ("organic",), "鄞州区", owner=4),
             Demand(13, ("embroidery",), "刺绣订单", 100, (), "鄞州区", owner=1)]
    ranked = _matcher(factory, demands=needs).rank_demands(factory)
    assert [m.id for m in ranked][:2] == [10, 11]
    assert 12 not in [m.id for m in ranked] and 13 not in [m.id for m in ranked]


@pytest.mark.parametrize("make, message", [
    (lambda: Supplier("x", ("nope",)), "categories"),
    (lambda: Supplier("x", certifications=("iso",)), "certifications"),
    (lambda: Demand("x", quantity=-1), "quantity"),
    (lambda: Demand("x", region_preference="moon"), "region_preference"),
    (lambda: SupplyMatcher(text_weight=-1).fit([]), "weights"),
    (lambda: SupplyMatcher().fit([Supplier("a")]).rank(Demand("d"), k=0), "k"),
    (lambda: SupplyMatcher().fit([Supplier("a")]).explain(Demand("d"), "zz"), "supplier_id"),
])
def test_bad_input_is_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_quality_on_the_generated_set_beats_the_keyword_baseline():
    result = evaluate(n_suppliers=150, n_needs=120, seed=3)
    assert result["needs"] > 50
    ours, baseline = result["matcher"], result["keyword_baseline"]
    assert ours["uncertified_in_top5"] == 0.0
    assert ours["mrr"] > baseline["mrr"] + 0.2
    assert ours["p_at_1"] > result["matcher_without_synonyms"]["p_at_1"]
