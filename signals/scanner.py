"""The sales scanner: which shops' business has really turned down.

Two steps, run together day by day, both causal (what is decided on day d uses only the
counts up to day d):

1. **Expected orders.** Each shop has a *level* (its orders on an ordinary day) and each
   pool of shops (all shops in the data, or one category when a `category` is given and the
   category has at least `min_pool` shops) has a daily *index*: how busy that day is for
   everybody (weekday, 618, Double 11 and the slumps after them, the Spring Festival). The
   index of day d is a robust (Huber) Poisson fit of the pool's counts on day d to their
   levels, so a minority of shops that boom or fall does not move it much. The Huber fit cuts
   a shop's big days more than her empty days (daily counts are skewed), so on its own it runs
   about 9 % low; it is scaled by the median, over the last `debias_days`, of the plain fit's
   ratio to it (a median: a few weeks of one kind of shop booming do not count). A shop's level is
   the trimmed mean of her last `window_weeks` weekly rates (orders / index; the best and
   worst week dropped, so a holiday week or a festival peak does not count), ending `lag`
   ordinary days back (counted in index units: the couriers' week at the Spring Festival
   does not count), so the first weeks of a fall stay out of her own baseline. While
   evidence of a fall is building, her baseline is held at what it was before the fall
   began (at most `max_hold` more days). Expected orders on day d = level x index.

2. **A sequential change test.** A negative-binomial CUSUM per shop (shape `dispersion`)
   accumulates the evidence that the shop now sells `1 - fall` of what was expected rather
   than all of it (log-likelihood ratio, in nats). The shape is smaller than the day-to-day
   noise alone would need (12 in the generated sets): the expected orders are themselves an
   estimate whose error (a slow wander, the baseline's own noise) lasts for weeks and does not
   average out day by day, so a busy shop's day must not count as much evidence as its orders
   alone would say; this keeps one threshold right for small and big shops. A run of zero
   days that is improbable at the expected rate (at least `pause_expected` orders expected)
   is taken for a closure (a holiday) and does not count, unless it lasts more than
   `max_pause` days (a holiday is about a week; a small shop in trouble has long empty
   runs, and their evidence must not be thrown away). A warning is
   raised when the evidence passes `threshold`, the fall began at least `min_days` ago
   (anything shorter is a holiday or noise) and the last week still points down
   (`week_min`). After a warning the shop is quiet for `cooldown` days.

No decision is taken in the first `warmup` days (the levels need history). If the whole data
has fewer than `min_pool` shops, no index is estimated (a few shops cannot tell a season from
a fall) and the CUSUM runs on each shop's level alone.

The defaults were chosen on generated histories (`signals.synthetic`, tuning seeds 0 and 4) for the
best F1; `python -m signals.evaluate` measures them on other seeds (1-3, never used for choosing).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class EarlyWarning:
    """One warning: which shop, on which day, from which signal, how sure, and why."""

    shop_id: str
    flagged_on: dt.date
    signal: str
    score: float
    evidence: dict = field(default_factory=dict, compare=False)


def _robust_index(x: np.ndarray, mu: np.ndarray, k: float, iterations: int = 8) -> float:
    """c such that x ~ c * mu, by iteratively reweighted Huber on Pearson residuals."""
    total = mu.sum()
    if total <= 0:
        return 1.0
    c = x.sum() / total
    for _ in range(iterations):
        e = np.maximum(c * mu, 1e-6)
        r = np.abs(x - e) / np.sqrt(e)
        w = np.minimum(1.0, k / np.maximum(r, 1e-12))
        denominator = (w * mu).sum()
        if denominator <= 0:
            break
        c_new = (w * x).sum() / denominator
        if abs(c_new - c) < 1e-4 * max(c, 1e-3):
            c = c_new
            break
        c = c_new
    return float(c)


def pools_for(categories: Sequence[str] | None, n_shops: int, min_pool: int) -> np.ndarray:
    """Pool number per shop: its category's if the category has `min_pool` shops, else pool 0 (the rest)."""
    pools = np.zeros(n_shops, dtype=int)
    if categories is None:
        return pools
    names, inverse, sizes = np.unique(np.asarray(categories, dtype=object).astype(str), return_inverse=True,
                                      return_counts=True)
    number = 1
    for j in range(len(names)):
        if sizes[j] >= min_pool:
            pools[inverse == j] = number
            number += 1
    return pools


def _weekly_level(X, C, end, weeks, trim, fallback):
    """Per shop, the trimmed mean of the weekly rates (orders / index) of the `weeks` weeks
    before `end` (one day index per shop, exclusive); `fallback` where no full week is there."""
    rows = np.arange(X.shape[0])[:, None]
    ends = end[:, None] - 7 * np.arange(weeks)[None, :]
    ok = ends - 7 >= 0
    e = np.where(ok, ends, 7)
    orders = X[rows, e] - X[rows, e - 7]
    busy = C[rows, e] - C[rows, e - 7]
    rates = np.where(ok & (busy > 0.7), orders / np.maximum(busy, 1e-9), np.nan)  # skip the weeks nobody sold
    rates = np.sort(rates, axis=1)   # NaN last
    valid = np.sum(~np.isnan(rates), axis=1)
    level = fallback.copy()
    for m in np.unique(valid):
        if m == 0:
            continue
        sel = valid == m
        t = min(trim, (m - 1) // 2)
        level[sel] = rates[sel, t:m - t].mean(axis=1)
    return level


def nb_llr(x: np.ndarray, mu: np.ndarray, ratio: float, dispersion: float) -> np.ndarray:
    """Log-likelihood ratio of rate `ratio * mu` against `mu` for negative-binomial counts (shape `dispersion`)."""
    k = dispersion
    return x * math.log(ratio) + (k + x) * (np.log(k + mu) - np.log(k + ratio * mu))


@dataclass
class CusumResult:
    flags: list[tuple[int, int, float, int]]   # (shop, day, statistic, change-point day), in day order
    statistic: np.ndarray                       # (shops, days), after any reset
    expected: np.ndarray | None = None          # (shops, days) expected orders, when estimated
    index: np.ndarray | None = None             # (shops, days) the pool's index of each day
    first_ready: np.ndarray | None = None       # (thresholds, shops) first day each threshold would flag, -1 never


class _Cusum:
    """Per-shop CUSUM state, advanced one day at a time."""

    def __init__(self, n: int, *, fall: float, dispersion: float, pause_expected: float, max_pause: int):
        self.ratio, self.dispersion = 1.0 - fall, dispersion
        self.pause_expected, self.max_pause = pause_expected, max_pause
        self.value = np.zeros(n)
        self.last_zero = np.full(n, -1)      # last day the statistic was 0: the change point is the day after
        self.run_len = np.zeros(n, dtype=int)
        self.run_expected = np.zeros(n)
        self.run_incr = np.zeros(n)
        self.before_run = np.zeros(n)
        self.before_zero = np.full(n, -1)
        self.quiet_until = np.full(n, -1)
        self.week = np.zeros((n, 7))         # the last 7 days' counted increments (a ring)
        self.paused = np.zeros(n, dtype=bool)

    def step(self, d: int, x: np.ndarray, mu: np.ndarray) -> None:
        inc = nb_llr(x, mu, self.ratio, self.dispersion)
        zero = x == 0
        self.run_len = np.where(zero, self.run_len + 1, 0)
        self.run_expected = np.where(zero, self.run_expected + mu, 0.0)
        starting = zero & (self.run_len == 1)
        self.before_run = np.where(starting, self.value, self.before_run)
        self.before_zero = np.where(starting, self.last_zero, self.before_zero)
        self.run_incr = np.where(zero, np.where(starting, 0.0, self.run_incr) + inc, 0.0)
        closed = zero & (self.run_expected >= self.pause_expected)
        # A run of zeros improbable at the expected rate is a closure (a holiday): its days do not
        # count, unless it lasts longer than max_pause days; then they all count.
        self.paused = closed & (self.run_len <= self.max_pause)
        S = np.where(self.paused, self.before_run, np.maximum(0.0, self.value + inc))
        self.last_zero = np.where(self.paused, self.before_zero, self.last_zero)
        stopped = closed & (self.run_len == self.max_pause + 1)
        self.value = np.where(stopped, np.maximum(0.0, self.before_run + self.run_incr), S)
        self.last_zero = np.where(self.value <= 0, d, self.last_zero)
        self.week[:, d % 7] = np.where(self.paused, 0.0, inc)

    def ready(self, d: int, threshold: float, min_days: int, week_min: float) -> np.ndarray:
        ready = (self.value >= threshold) & (d - self.last_zero >= min_days) & ~self.paused & (d > self.quiet_until)
        if week_min > -math.inf:
            ready &= self.week.sum(axis=1) >= week_min
        return ready

    def flag(self, i: int, d: int, cooldown: int) -> tuple[int, int, float, int]:
        flag = (int(i), d, float(self.value[i]), int(self.last_zero[i]) + 1)
        self.value[i] = 0.0
        self.last_zero[i] = d
        self.quiet_until[i] = d + cooldown
        return flag


def cusum(counts: np.ndarray, expected: np.ndarray, *, threshold: float, fall: float = 0.4,
          dispersion: float = 10.0, start_day: int = 0, min_days: int = 0, week_min: float = -math.inf,
          pause_expected: float = math.inf, max_pause: int = 21, cooldown: int = 90,
          grid: Sequence[float] = ()) -> CusumResult:
    """The CUSUM against given expected orders (the oracle's way); day d's decision reads columns up to d.
    `grid` as in `scan_counts`."""
    counts = np.asarray(counts, dtype=float)
    n, days = counts.shape
    state = _Cusum(n, fall=fall, dispersion=dispersion, pause_expected=pause_expected, max_pause=max_pause)
    stat = np.zeros((n, days))
    flags = []
    first_ready = np.full((len(grid), n), -1)
    for d in range(days):
        state.step(d, counts[:, d], expected[:, d])
        if d >= start_day:
            _record_first(first_ready, grid, state, d, min_days, week_min)
            flags += [state.flag(i, d, cooldown) for i in np.flatnonzero(state.ready(d, threshold, min_days, week_min))]
        stat[:, d] = state.value
    return CusumResult(flags=flags, statistic=stat, first_ready=first_ready)


def _record_first(first_ready: np.ndarray, grid: Sequence[float], state: _Cusum, d: int, min_days: int,
                  week_min: float) -> None:
    for g, h in enumerate(grid):
        new = (first_ready[g] < 0) & state.ready(d, h, min_days, week_min)
        first_ready[g, new] = d


def scan_counts(counts: np.ndarray, pools: np.ndarray | None = None, *, threshold: float, fall: float, dispersion: float,
                lag: int, window_weeks: int, trim: int, min_pool: int, huber: float, start_day: int, min_days: int,
                week_min: float, pause_expected: float, max_pause: int, cooldown: int,
                max_hold: int = 21, bootstrap_days: int = 28, debias_days: int = 0,
                grid: Sequence[float] = ()) -> CusumResult:
    """Expected orders and the CUSUM together, day by day; nothing on day d reads a column after d.

    While a shop's CUSUM is above zero (evidence of a fall is building) her level is held where
    it was when the evidence began, so a real fall does not teach the baseline to expect it.
    The first `bootstrap_days` days give every shop a starting level: no decision may be taken
    before `bootstrap_days + lag` (the caller's `start_day`).

    `grid`: thresholds for which to record, per shop, the first day a warning would be raised
    (`first_ready`); a shop's first warning does not depend on anything after it, so one pass
    with `threshold=inf` tells every threshold's first warnings (how `signals.evaluate` tunes).
    Nearly: a warning releases that shop's held baseline, which moves the pooled index a hair
    for the others (in tests, at least 90 % of shops agree to the day).
    """
    counts = np.asarray(counts, dtype=float)
    n, days = counts.shape
    pools = np.zeros(n, dtype=int) if pools is None else np.asarray(pools)
    X = np.zeros((n, days + 1))
    np.cumsum(counts, axis=1, out=X[:, 1:])
    C = np.zeros((n, days + 1))           # cumulative index, filled as we go
    index = np.ones((n, days))
    expected = np.zeros((n, days))
    stat = np.zeros((n, days))
    boot = max(1, min(bootstrap_days, days))
    boot_level = X[:, boot] / boot
    use_index = n >= min_pool
    # (shops, the shops their index is fitted on): a pool too small for its own index (the
    # shops of small categories) takes the index of all the shops in the data
    everyone = np.arange(n)
    members = []
    for p in np.unique(pools):
        shops = np.flatnonzero(pools == p)
        members.append((shops, shops if len(shops) >= min_pool else everyone))
    ratios = np.full((len(members), days), np.nan)
    state = _Cusum(n, fall=fall, dispersion=dispersion, pause_expected=pause_expected, max_pause=max_pause)
    flags = []
    first_ready = np.full((len(grid), n), -1)
    for d in range(days):
        # The baseline: weeks up to `lag` ordinary days ago (counted in index units, so the
        # couriers' week at the Spring Festival does not count), or up to the change point if
        # the evidence of a fall began earlier (what was normal before it, not the fall itself).
        lagged = np.empty(n, dtype=int)
        for shops, _ in members:
            row = C[shops[0], :d + 1]
            lagged[shops] = np.searchsorted(row, row[d] - lag, side="right") - 1
        held = np.where(state.value > 0, np.maximum(state.last_zero + 1, lagged - max_hold), d + 1)
        end = np.minimum(lagged, held)
        level = _weekly_level(X, C, end, window_weeks, trim, boot_level)
        if use_index:
            for m, (shops, fit) in enumerate(members):
                robust = _robust_index(counts[fit, d], level[fit], huber)
                total = level[fit].sum()
                # The Huber fit is biased low on skewed counts (a shop's big days are cut more than
                # its empty days): scale it by the median, over the last `debias_days`, of the plain
                # fit's ratio to it (a median, so a minority's boom for a few weeks does not count).
                if robust > 0 and total > 0:
                    ratios[m, d] = counts[fit, d].sum() / total / robust
                recent = ratios[m, max(0, d + 1 - debias_days):d + 1]
                recent = recent[~np.isnan(recent)]
                index[shops, d] = robust * (float(np.median(recent)) if debias_days and len(recent) else 1.0)
        expected[:, d] = level * index[:, d]
        C[:, d + 1] = C[:, d] + index[:, d]
        state.step(d, counts[:, d], expected[:, d])
        if d < start_day - min_days:
            state.value[:] = 0.0       # the bootstrap baseline is rough: gather no evidence on it
            state.last_zero[:] = d
        elif d >= start_day:
            _record_first(first_ready, grid, state, d, min_days, week_min)
            flags += [state.flag(i, d, cooldown) for i in np.flatnonzero(state.ready(d, threshold, min_days, week_min))]
        stat[:, d] = state.value
    return CusumResult(flags=flags, statistic=stat, expected=expected, index=index, first_ready=first_ready)


class SalesScanner:
    """Flags shops whose orders fell for real. Parameters only in `__init__` (scikit-learn style).

    `scan(counts, start, shop_ids, categories=None)` takes daily orders (shops x days, day 0 =
    `start`) and returns the warnings a nightly run would have raised, in date order; `fit`
    does the same work without building warnings. After either, `expected_` (the expected
    band's centre), `index_` and `statistic_` hold the day-by-day working (for charts).
    """

    signal = "sales_drop"

    def __init__(self, *, threshold: float = 9.0, fall: float = 0.6, dispersion: float = 8.0, lag: int = 21,
                 window_weeks: int = 8, trim: int = 1, min_pool: int = 30, huber: float = 1.0, warmup: int = 91,
                 min_days: int = 21, week_min: float = 0.5, pause_expected: float = 9.0, max_pause: int = 12,
                 cooldown: int = 90, max_hold: int = 21, debias_days: int = 56):
        self.threshold = threshold
        self.fall = fall
        self.dispersion = dispersion
        self.lag = lag
        self.window_weeks = window_weeks
        self.trim = trim
        self.min_pool = min_pool
        self.huber = huber
        self.warmup = warmup
        self.min_days = min_days
        self.week_min = week_min
        self.pause_expected = pause_expected
        self.max_pause = max_pause
        self.cooldown = cooldown
        self.max_hold = max_hold
        self.debias_days = debias_days

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def _check(self, counts, categories):
        counts = np.asarray(counts)
        if counts.ndim != 2:
            raise ValueError("counts must be a 2-D array: shops x days")
        if (counts < 0).any():
            raise ValueError("counts must not be negative")
        if categories is not None and len(categories) != counts.shape[0]:
            raise ValueError("categories must have one entry per shop")
        return counts

    def run(self, counts, categories: Sequence[str] | None = None, threshold: float | None = None,
            grid: Sequence[float] = ()) -> CusumResult:
        """The day-by-day working: raw flags (shop row, day, statistic, change-point day), expected orders,
        index; with `grid`, each of those thresholds' first warning per shop (`first_ready`)."""
        counts = self._check(counts, categories)
        return scan_counts(
            counts, pools_for(categories, counts.shape[0], self.min_pool),
            threshold=self.threshold if threshold is None else threshold, fall=self.fall,
            dispersion=self.dispersion, lag=self.lag, window_weeks=self.window_weeks, trim=self.trim,
            min_pool=self.min_pool, huber=self.huber, start_day=max(self.warmup, self.lag + 28),
            min_days=self.min_days, week_min=self.week_min, pause_expected=self.pause_expected,
            max_pause=self.max_pause, cooldown=self.cooldown, max_hold=self.max_hold,
            debias_days=self.debias_days, grid=grid)

    def fit(self, counts, categories: Sequence[str] | None = None) -> SalesScanner:
        """Run over daily orders (shops x days); keep the working in `counts_`, `expected_`,
        `index_`, `statistic_` and the raw flags in `flags_` (shop row, day, score, change-point day)."""
        counts = self._check(counts, categories)
        result = self.run(counts, categories)
        self.counts_, self.expected_, self.index_ = counts, result.expected, result.index
        self.statistic_, self.flags_ = result.statistic, result.flags
        return self

    def scan(self, counts, start: dt.date, shop_ids: Sequence[str],
             categories: Sequence[str] | None = None) -> list[EarlyWarning]:
        """The warnings a nightly run from `start` (day 0 of `counts`) would have raised, by date and shop."""
        counts = self._check(counts, categories)
        if len(shop_ids) != counts.shape[0]:
            raise ValueError("shop_ids must have one entry per row of counts")
        self.fit(counts, categories)
        warnings = [self._warning(shop_ids[i], start, i, d, s, cp) for i, d, s, cp in self.flags_]
        warnings.sort(key=lambda w: (w.flagged_on, w.shop_id))
        return warnings

    def _warning(self, shop_id: str, start: dt.date, i: int, d: int, statistic: float, change: int) -> EarlyWarning:
        counts, expected = self.counts_[i], self.expected_[i]
        since = slice(change, d + 1)
        exp_since, obs_since = float(expected[since].sum()), int(counts[since].sum())
        last = slice(max(0, d - 27), d + 1)
        exp28 = float(expected[last].sum())
        # 90 % band of the last 28 days' orders at the expected rate (negative binomial, normal approximation)
        sd = math.sqrt(exp28 + float((expected[last] ** 2).sum()) / self.dispersion)
        day = start + dt.timedelta(days=d)
        return EarlyWarning(
            shop_id=shop_id, flagged_on=day, signal=self.signal, score=round(statistic, 2),
            evidence={
                "change_point": (start + dt.timedelta(days=change)).isoformat(),
                "expected_since_change": round(exp_since, 1),
                "orders_since_change": obs_since,
                "fall": round(1 - obs_since / exp_since, 3) if exp_since > 0 else 0.0,
                "expected_28d": round(exp28, 1),
                "band_28d": [max(0.0, round(exp28 - 1.645 * sd, 1)), round(exp28 + 1.645 * sd, 1)],
                "orders_28d": int(counts[last].sum()),
            })
