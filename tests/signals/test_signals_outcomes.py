"""The outcome estimator on generated populations whose true effect of help is known."""
import numpy as np
import pytest

from signals.outcomes import HelpedCase, case_outcomes, estimate, estimates_by, synthetic_population


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_interval_contains_the_true_effect(seed):
    p = synthetic_population(seed=seed)
    outcomes = case_outcomes(p.orders, p.revenue, p.cases, categories=p.categories)
    e = estimate(outcomes, seed=seed)
    assert e.enough and e.n == len(p.cases)
    assert e.orders_low <= p.true_effect_orders <= e.orders_high
    assert e.orders_low > 0          # help that works is seen to work


def test_no_effect_interval_contains_zero_while_before_after_misleads():
    p = synthetic_population(seed=11, effect=0.0)
    outcomes = case_outcomes(p.orders, p.revenue, p.cases, categories=p.categories)
    e = estimate(outcomes)
    assert p.true_effect_orders == 0
    assert e.orders_low <= 0 <= e.orders_high
    # shops helped after a visible fall bounce back anyway: plain before/after shows a gain
    assert np.mean([o.change_orders for o in outcomes]) > e.orders_high


def test_same_data_same_numbers_and_too_few_cases():
    p = synthetic_population(seed=3, n_shops=120, n_helped=20)
    a = estimate(case_outcomes(p.orders, p.revenue, p.cases, categories=p.categories), seed=5)
    b = estimate(case_outcomes(p.orders, p.revenue, p.cases, categories=p.categories), seed=5)
    assert a == b
    few = case_outcomes(p.orders, p.revenue, p.cases[:3], categories=p.categories)
    small = estimate(few, min_cases=8)
    assert not small.enough and small.orders is None and small.n == 3
    groups = estimates_by(case_outcomes(p.orders, p.revenue, p.cases, categories=p.categories), p.cases, "channel",
                          min_cases=8)
    assert set(groups) == {"visit", "early_warning"}
    assert sum(g.n for g in groups.values()) == 20


def test_before_after_figures_and_controls_never_helped_or_self():
    orders = np.ones((6, 400), dtype=int)
    orders[0, 300:] = 3                          # she sells 3 a day after the case closed
    revenue = orders * 100
    cases = [HelpedCase("a", 0, opened=150, closed=200), HelpedCase("b", 1, opened=160, closed=210)]
    out = case_outcomes(orders, revenue, cases, n_controls=3)
    a = out[0]
    assert (a.orders_before, a.revenue_before) == (90, 9000)
    assert a.orders_after == 90 and a.change_orders == 0   # her 90 days after closing end before day 300
    assert 0 not in a.controls and 1 not in a.controls and len(a.controls) == 3
    # a case whose 90 days after closing run past the data is left out
    assert [o.key for o in case_outcomes(orders, revenue, [HelpedCase("late", 2, 300, 350)])] == []


def test_bad_input_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="negative"):
        case_outcomes(-np.ones((2, 10)), None, [])
    with pytest.raises(ValueError, match="categories"):
        case_outcomes(np.ones((2, 10)), None, [], categories=["x"])
