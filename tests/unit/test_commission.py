"""Commission arithmetic (market.ledger.commission), no database."""
import pytest

from market.ledger.commission import Component, Line, commission_fen, component_fen, reversal_fen


def test_percentage_with_minimum_and_maximum_per_parcel():
    pct = Component("5%", "percent", rate_bp=500, min_fen=200, max_fen=1000)
    assert component_fen(pct, [Line(10_000)]) == 500
    assert component_fen(pct, [Line(1_000)]) == 200  # 50 -> the minimum
    assert component_fen(pct, [Line(100_000)]) == 1000  # 5000 -> the maximum
    assert component_fen(Component("x", "percent", rate_bp=333), [Line(1_001)]) == 33  # 33.33 half up


def test_several_components_by_category_and_brand_never_above_the_parcel():
    rules = [Component("base", "percent", rate_bp=1000),
             Component("seafood", "percent", rate_bp=500, category="seafood"),
             Component("brand", "fixed_per_order", fixed_fen=300, brand_id=7),
             Component("per order", "fixed_per_order", fixed_fen=100)]
    lines = [Line(10_000, "seafood"), Line(5_000, "tea", 7)]
    assert commission_fen(rules, lines) == 1500 + 500 + 300 + 100
    assert commission_fen([Component("huge", "fixed_per_order", fixed_fen=10**9)], lines) == 15_000
    assert commission_fen([], lines) == 0
    with pytest.raises(ValueError, match="kind"):
        component_fen(Component("bad", "tip"), lines)


def test_reversal_is_proportional_and_complete_on_a_full_refund():
    assert reversal_fen(1000, 0, 2500, 2500, 10_000) == 250
    assert reversal_fen(1000, 250, 7500, 10_000, 10_000) == 750  # the rest, exactly
    assert reversal_fen(1000, 1000, 100, 10_000, 10_000) == 0
    assert reversal_fen(333, 0, 1, 1, 3) == 111
