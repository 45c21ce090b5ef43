"""What the help changed: each helped shop against similar shops that were not helped.

A pure library (no Flask). The web side (`market.insights`) passes daily orders (and revenue)
as arrays, the helped cases as `HelpedCase`s, and shows what comes back.

**The method (a matched difference-in-differences).** For each case of a woman with a shop:

1. *What happened*: her orders per day in the `window` days before the case opened and in the
   `window` days after it closed, and the change.
2. *What would have happened anyway*: the `n_controls` shops most like hers that were not
   helped at any time from `window` days before the opening to `window` days after the
   closing: same category (when categories are given), closest in size (the log of orders per
   day before) and in trend (the log ratio of the second half of the "before" window to the
   first half). Their change over the *same* calendar days is what the season, the market and
   the slide she was on would have done without help.
3. *The effect of help on her shop* = her change minus her comparison shops' average change.

The estimate for a group of cases is the mean of their effects; its 95 % interval comes from
a bootstrap over cases (resampled `n_boot` times with a fixed seed), so the same data always
gives the same numbers. Below `min_cases` cases the answer is "too few cases to say".

What it cannot tell: shops chosen for help may differ from their comparisons in ways the
sales do not show (her own drive, a family event); matching on size and trend removes what
the sales show, not the rest. Comparison shops may be shared between cases, so the interval
is somewhat too narrow when cases are few.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

WINDOW = 90


@dataclass(frozen=True)
class HelpedCase:
    """One case of a woman with a shop: the shop's row, the day (column) the case opened and the
    day it closed, and the groups it counts in (e.g. {"difficulty": ["finance"], "channel": "visit"})."""

    key: str
    shop: int
    opened: int
    closed: int
    groups: dict = field(default_factory=dict, compare=False)


@dataclass
class CaseOutcome:
    key: str
    orders_before: int
    orders_after: int
    revenue_before: int
    revenue_after: int
    effect_orders: float | None       # orders per `window` days added by the help (None: no comparison)
    effect_revenue: float | None      # fen per `window` days
    controls: list[int]

    @property
    def change_orders(self) -> int:
        return self.orders_after - self.orders_before

    @property
    def change_revenue(self) -> int:
        return self.revenue_after - self.revenue_before


@dataclass
class Estimate:
    """The mean effect of help over `n` cases, with its 95 % bootstrap interval; `enough` is
    False (and the figures None) below the minimum number of cases."""

    n: int
    enough: bool
    orders: float | None = None
    orders_low: float | None = None
    orders_high: float | None = None
    revenue: float | None = None
    revenue_low: float | None = None
    revenue_high: float | None = None


def _window_sum(cum: np.ndarray, row: int, start: int, end: int) -> float:
    return float(cum[row, end] - cum[row, start])


def _features(cum: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Per shop: the log of orders per day over [start, end) and its trend (second half against first)."""
    mid = (start + end) // 2
    first = cum[:, mid] - cum[:, start]
    second = cum[:, end] - cum[:, mid]
    days = max(end - start, 1)
    size = np.log((first + second) / days + 0.1)
    trend = np.log((second + 1.0) / (first + 1.0))
    return size, trend


def case_outcomes(orders: np.ndarray, revenue: np.ndarray | None, cases: Sequence[HelpedCase], *,
                  categories: Sequence[str] | None = None, window: int = WINDOW, n_controls: int = 5,
                  helped_spans: Iterable[tuple[int, int, int]] | None = None,
                  trend_days: int = 2 * WINDOW) -> list[CaseOutcome]:
    """Before/after figures and the matched effect of each case (in case order).

    `orders` and `revenue` are shops x days (day 0 is the first column); a case whose windows
    fall outside the data is left out. `helped_spans` lists every (shop, opened, closed) of any
    case, so a shop helped around the same time is never a comparison (default: `cases`)."""
    orders = np.asarray(orders, dtype=float)
    if orders.ndim != 2:
        raise ValueError("orders must be a 2-D array: shops x days")
    if (orders < 0).any():
        raise ValueError("orders must not be negative")
    revenue = np.zeros_like(orders) if revenue is None else np.asarray(revenue, dtype=float)
    if revenue.shape != orders.shape:
        raise ValueError("revenue must have the shape of orders")
    if categories is not None and len(categories) != orders.shape[0]:
        raise ValueError("categories must have one entry per shop")
    n, days = orders.shape
    cum = np.zeros((n, days + 1))
    np.cumsum(orders, axis=1, out=cum[:, 1:])
    rcum = np.zeros((n, days + 1))
    np.cumsum(revenue, axis=1, out=rcum[:, 1:])
    spans = list(helped_spans) if helped_spans is not None else [(c.shop, c.opened, c.closed) for c in cases]
    cats = np.asarray(categories, dtype=object) if categories is not None else None
    results = []
    for case in cases:
        if not 0 <= case.shop < n or case.closed < case.opened:
            raise ValueError(f"case {case.key}: bad shop row or dates")
        b0, b1, a0, a1 = case.opened - window, case.opened, case.closed, case.closed + window
        if b0 < 0 or a1 > days:
            continue
        eligible = np.ones(n, dtype=bool)
        for shop, opened, closed in spans:
            if opened - window < a1 and closed + window > b0:     # helped around the same time
                eligible[shop] = False
        eligible[case.shop] = False
        if cats is not None:
            eligible &= cats == cats[case.shop]
        size, _ = _features(cum, b0, b1)
        # the trend over a longer stretch when the data has it: 90 days of a small shop's
        # orders barely show a slide of a few percent a month
        _, trend = _features(cum, max(0, case.opened - trend_days), b1)
        candidates = np.flatnonzero(eligible)
        controls: list[int] = []
        effect_o = effect_r = None
        if len(candidates):
            sd_size = max(float(np.std(size)), 1e-6)
            sd_trend = max(float(np.std(trend)), 1e-6)
            distance = (((size[candidates] - size[case.shop]) / sd_size) ** 2
                        + ((trend[candidates] - trend[case.shop]) / sd_trend) ** 2)
            order = np.lexsort((candidates, distance))      # ties broken by row: deterministic
            controls = [int(c) for c in candidates[order[:n_controls]]]
            c = np.array(controls)
            control_o = float(np.mean((cum[c, a1] - cum[c, a0]) - (cum[c, b1] - cum[c, b0])))
            control_r = float(np.mean((rcum[c, a1] - rcum[c, a0]) - (rcum[c, b1] - rcum[c, b0])))
            effect_o = (_window_sum(cum, case.shop, a0, a1) - _window_sum(cum, case.shop, b0, b1)) - control_o
            effect_r = (_window_sum(rcum, case.shop, a0, a1) - _window_sum(rcum, case.shop, b0, b1)) - control_r
        results.append(CaseOutcome(
            key=case.key, orders_before=int(round(_window_sum(cum, case.shop, b0, b1))),
            orders_after=int(round(_window_sum(cum, case.shop, a0, a1))),
            revenue_before=int(round(_window_sum(rcum, case.shop, b0, b1))),
            revenue_after=int(round(_window_sum(rcum, case.shop, a0, a1))),
            effect_orders=effect_o, effect_revenue=effect_r, controls=controls))
    return results


def estimate(outcomes: Sequence[CaseOutcome], *, min_cases: int = 8, n_boot: int = 2000, seed: int = 0,
             level: float = 0.95) -> Estimate:
    """The mean effect over the cases that have a comparison, with a percentile bootstrap interval."""
    usable = [o for o in outcomes if o.effect_orders is not None]
    n = len(usable)
    if n < max(min_cases, 2):
        return Estimate(n=n, enough=False)
    eo = np.array([o.effect_orders for o in usable])
    er = np.array([o.effect_revenue for o in usable])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    boot_o, boot_r = eo[draws].mean(axis=1), er[draws].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo_o, hi_o = np.percentile(boot_o, [tail, 100 - tail])
    lo_r, hi_r = np.percentile(boot_r, [tail, 100 - tail])
    return Estimate(n=n, enough=True, orders=float(eo.mean()), orders_low=float(lo_o), orders_high=float(hi_o),
                    revenue=float(er.mean()), revenue_low=float(lo_r), revenue_high=float(hi_r))


def estimates_by(outcomes: Sequence[CaseOutcome], cases: Sequence[HelpedCase], dimension: str, **kwargs
                 ) -> dict[str, Estimate]:
    """One estimate per value of `cases[i].groups[dimension]` (a value or a list of values: a
    case with two difficulties counts in both), in name order."""
    by_key = {o.key: o for o in outcomes}
    groups: dict[str, list[CaseOutcome]] = {}
    for case in cases:
        outcome = by_key.get(case.key)
        if outcome is None:
            continue
        values = case.groups.get(dimension)
        if values is None:
            continue
        for value in (values if isinstance(values, (list, tuple, set)) else [values]):
            groups.setdefault(str(value), []).append(outcome)
    return {name: estimate(groups[name], **kwargs) for name in sorted(groups)}


# ---- a generated population whose true effect is known (for tests and the README) ----------

@dataclass
class Population:
    orders: np.ndarray
    revenue: np.ndarray
    categories: list[str]
    cases: list[HelpedCase]
    true_effect_orders: float      # the mean, over the cases, of the orders per window the help added


def synthetic_population(*, n_shops: int = 400, n_days: int = 720, n_helped: int = 60, effect: float = 0.5,
                         window: int = WINDOW, seed: int = 0) -> Population:
    """Shops with a level, a trend, a weekly rhythm and a seasonal swing per category, and
    negative-binomial noise. Help goes to shops whose sales visibly fell: the helped shops are
    drawn among those whose orders in the 90 days before the opening were lowest against the
    90 days before that (so a plain before/after comparison would mislead). From the day a
    case closes, help adds `effect` x her expected daily orders at the opening (Poisson extra
    orders). The true effect is computed from the rates, not from the noise."""
    rng = np.random.default_rng(seed)
    cats = ["food", "craft", "farm", "clothes"]
    category = [cats[i % len(cats)] for i in range(n_shops)]
    level = np.exp(rng.normal(math.log(3.0), 0.8, n_shops))
    trend = rng.normal(0.0, 0.5, n_shops)                     # log change per year
    t = np.arange(n_days)
    phase = {c: rng.uniform(0, 2 * math.pi) for c in cats}
    season = np.array([1 + 0.3 * np.sin(2 * math.pi * t / 365 + phase[c]) for c in category])
    weekly = 1 + 0.15 * np.cos(2 * math.pi * t / 7)
    rate = level[:, None] * np.exp(trend[:, None] * t[None, :] / 365) * season * weekly[None, :]
    shape = 8.0
    orders = rng.negative_binomial(shape, shape / (shape + rate))
    opened = rng.integers(2 * window, n_days - 2 * window - 60, n_shops)
    closed = opened + rng.integers(20, 60, n_shops)
    rows = np.arange(n_shops)
    cum = np.concatenate([np.zeros((n_shops, 1)), np.cumsum(orders, axis=1)], axis=1)
    last = cum[rows, opened] - cum[rows, opened - window]
    before = cum[rows, opened - window] - cum[rows, opened - 2 * window]
    fell = np.log((last + 1) / (before + 1))
    candidates = np.flatnonzero(fell < np.quantile(fell, 0.4))
    helped = sorted(rng.choice(candidates, size=min(n_helped, len(candidates)), replace=False))
    cases, true = [], []
    for k, shop in enumerate(helped):
        o, c = int(opened[shop]), int(closed[shop])
        added = effect * rate[shop, o - 28:o].mean()
        orders[shop, c:] += rng.poisson(added, n_days - c)
        true.append(added * window)
        cases.append(HelpedCase(key=str(k), shop=int(shop), opened=o, closed=c,
                                groups={"channel": "visit" if k % 2 else "early_warning"}))
    price = rng.integers(3000, 20000, n_shops)
    revenue = orders * price[:, None]
    return Population(orders=orders, revenue=revenue, categories=category, cases=cases,
                      true_effect_orders=float(np.mean(true)))


def main() -> None:
    """`python -m signals.outcomes`: the estimator on 20 generated populations (seeds 0-19) whose
    true effect is known; how often the 95 % interval holds it, against plain before/after."""
    rows, covered, zero_covered = [], 0, 0
    for seed in range(20):
        p = synthetic_population(seed=seed)
        out = case_outcomes(p.orders, p.revenue, p.cases, categories=p.categories)
        e = estimate(out, seed=seed)
        naive = float(np.mean([o.change_orders for o in out]))
        covered += e.orders_low <= p.true_effect_orders <= e.orders_high
        z = synthetic_population(seed=100 + seed, effect=0.0)
        ez = estimate(case_outcomes(z.orders, z.revenue, z.cases, categories=z.categories), seed=seed)
        zero_covered += ez.orders_low <= 0 <= ez.orders_high
        rows.append((seed, p.true_effect_orders, e.orders, e.orders_low, e.orders_high, naive))
    print("seed  true  estimate  95% interval      before/after")
    for seed, true, est, lo, hi, naive in rows:
        print(f"{seed:>4} {true:6.1f} {est:8.1f}  [{lo:6.1f}, {hi:6.1f}]  {naive:8.1f}")
    bias = np.mean([r[2] - r[1] for r in rows])
    naive_bias = np.mean([r[5] - r[1] for r in rows])
    print(f"interval holds the true effect: {covered}/20; with no effect, holds 0: {zero_covered}/20")
    print(f"mean error: matched estimate {bias:+.1f}, plain before/after {naive_bias:+.1f} orders per 90 days")


if __name__ == "__main__":
    main()
