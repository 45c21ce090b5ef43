"""Generated daily sales histories whose right answers are known.

Each shop's true daily rate of orders is a product of:

- a base size: most shops sell a few orders a day (log-normal), a fifth are tiny shops that
  sell about one day in three (0.2-0.5 orders a day);
- slow growth or decline (between -35 % and +35 % a year) and a slow wander (a log-AR(1)
  process, sd 0.10, about a month's memory);
- a weekly rhythm (more on Sunday-Monday evenings' orders, fewer on Friday-Saturday), with a
  little shop-to-shop variation;
- the shopping calendar of the shop's category: the run-up to 618 and Double 11 (11.11)
  with their peak days and the slump after them, and the Spring Festival: food shops boom
  in the three weeks before it, every shop sends (almost) nothing in the week of the
  festival because the couriers stop, and sales come back over the week after;
- ordinary trouble-free dips: a one-week holiday closure (a third of shops), a short deep
  dip (1-2 weeks at half the rate) and a long shallow one (6-12 weeks at 75-85 %);
- for "troubled" shops (a fifth by default), *trouble*: the underlying rate falls by 40-80 %
  over 0-14 days and stays down for at least six weeks (to the end of the history for most).

Counts are negative-binomial around the rate (daily gamma noise, shape `dispersion`), which
is what real daily orders look like: more variable than Poisson.

`expected` is each shop's true rate *without* its trouble (everything a perfect model of the
shop's normal business could know, closures and dips included); the oracle in
`signals.evaluate` tests the counts against it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

# Chinese New Year's Day (the first day of the first lunar month).
SPRING_FESTIVAL = {
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
}

CATEGORIES = ("food", "textile", "craft", "beauty")
# How strongly each category joins the shopping festivals (multiplier on the festival lift)
# and whether it booms before the Spring Festival (gifts of local food).
FESTIVAL_LIFT = {"food": 0.8, "textile": 1.2, "craft": 0.6, "beauty": 1.5}
CATEGORY_SHARE = (0.3, 0.3, 0.25, 0.15)
# Mon..Sun: orders are placed more at the start of the week and less on Friday/Saturday.
WEEKLY = np.array([1.15, 1.05, 1.0, 0.98, 0.88, 0.86, 1.08])

DEFAULT_START = dt.date(2025, 3, 1)
TROUBLE_MIN_DAYS = 42
TROUBLE_MIN_FALL = 0.4


@dataclass
class SalesSet:
    """Generated histories: `counts[i, d]` orders of shop i on day `start + d`."""

    start: dt.date
    shop_ids: list[str]
    categories: list[str]
    counts: np.ndarray           # (shops, days) int
    rate: np.ndarray             # (shops, days) true rate, trouble included
    expected: np.ndarray         # (shops, days) true rate without trouble (the oracle's)
    trouble_start: np.ndarray    # (shops,) day index, -1 for healthy shops
    trouble_fall: np.ndarray     # (shops,) fraction lost, 0 for healthy shops
    closures: list[tuple[int, int]] = field(default_factory=list)  # (shop, first day) of each week's closure

    @property
    def n_days(self) -> int:
        return self.counts.shape[1]

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=d) for d in range(self.n_days)]

    def day_index(self, day: dt.date) -> int:
        return (day - self.start).days

    def to_rows(self, rng: np.random.Generator | None = None):
        """CSV rows (shop_id, date, orders, revenue_fen, refunded_fen, category) for days with orders."""
        rng = rng or np.random.default_rng(0)
        price = rng.integers(1500, 12000, size=len(self.shop_ids))
        for i, shop in enumerate(self.shop_ids):
            for d in np.flatnonzero(self.counts[i]):
                n = int(self.counts[i, d])
                revenue = int(n * price[i])
                refunded = int(price[i]) * int(rng.binomial(n, 0.03))
                yield (shop, (self.start + dt.timedelta(days=int(d))).isoformat(), n, revenue, refunded,
                       self.categories[i])


def calendar_effect(dates: list[dt.date], category: str) -> np.ndarray:
    """Multiplier of a category's sales on each date from 618, Double 11 and the Spring Festival."""
    lift = FESTIVAL_LIFT[category]
    out = np.ones(len(dates))
    for k, day in enumerate(dates):
        m = 1.0
        for month, peak_day, run_up, slump_days, slump in ((6, 18, 18, 14, 0.75), (11, 11, 21, 21, 0.65)):
            peak = dt.date(day.year, month, peak_day)
            delta = (day - peak).days
            if -run_up <= delta < 0:
                m *= 1 + lift * 0.5 * (1 + delta / run_up) ** 2 + lift * 0.15
            elif delta == 0:
                m *= 1 + lift * 2.5
            elif 0 < delta <= slump_days:
                # the slump after the festival: buyers have stocked up
                m *= 1 - (1 - slump) * (1 - 0.5 * delta / slump_days) * min(1.0, lift)
        sf = SPRING_FESTIVAL.get(day.year + 1) if day.month >= 12 else SPRING_FESTIVAL.get(day.year)
        if sf is not None:
            delta = (day - sf).days
            if category == "food" and -24 <= delta < -8:
                m *= 1.9
            elif category != "food" and -24 <= delta < -8:
                m *= 1.05
            if -8 <= delta < -1:
                m *= 0.6 if category == "food" else 0.8   # last orders before the couriers stop
            elif -1 <= delta <= 6:
                m *= 0.03                                  # the couriers' holiday
            elif 6 < delta <= 13:
                m *= 0.5 + 0.5 * (delta - 6) / 7           # coming back
        out[k] = m
    return out


def generate(n_shops: int = 400, n_days: int = 549, *, start: dt.date = DEFAULT_START,
             trouble_share: float = 0.2, dispersion: float = 12.0, wander: float = 0.10, dips: bool = True,
             random_state: int | None = 0) -> SalesSet:
    """Generate `n_shops` histories of `n_days` days from `start` (default 18 months from March 2025).

    `wander` is the sd of the slow log-AR(1) wander; `dips=False` leaves out the holiday
    closures and the ordinary dips (for tests that isolate the calendar).
    """
    rng = np.random.default_rng(random_state)
    dates = [start + dt.timedelta(days=d) for d in range(n_days)]
    days = np.arange(n_days)
    weekday = np.array([d.weekday() for d in dates])
    categories = list(rng.choice(CATEGORIES, size=n_shops, p=CATEGORY_SHARE))
    calendar = {c: calendar_effect(dates, c) for c in CATEGORIES}

    tiny = rng.random(n_shops) < 0.2
    base = np.where(tiny, rng.uniform(0.2, 0.5, n_shops), np.exp(rng.normal(np.log(3.0), 0.9, n_shops)))
    base = np.clip(base, 0.2, 80.0)
    growth = rng.uniform(-0.35, 0.35, n_shops)

    expected = np.empty((n_shops, n_days))
    closures = []
    for i in range(n_shops):
        weekly = WEEKLY * np.exp(rng.normal(0, 0.05, 7))
        weekly /= weekly.mean()
        # slow wander: log-AR(1) with a month's memory, stationary sd 0.10
        phi, sd = 0.97, wander
        eps = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n_days)
        drift = np.empty(n_days)
        drift[0] = rng.normal(0, sd)
        for d in range(1, n_days):
            drift[d] = phi * drift[d - 1] + eps[d]
        r = base[i] * np.exp(growth[i] * days / 365 + drift) * weekly[weekday] * calendar[categories[i]]
        if not dips:
            expected[i] = r
            continue
        if rng.random() < 1 / 3:  # a week's holiday
            first = int(rng.integers(0, n_days - 7))
            r[first:first + 7] *= 0.0
            closures.append((i, first))
        if rng.random() < 0.15:  # a short deep dip
            first, length = int(rng.integers(0, n_days - 14)), int(rng.integers(7, 15))
            r[first:first + length] *= 0.5
        if rng.random() < 0.15:  # a long shallow dip
            first, length = int(rng.integers(0, n_days - 42)), int(rng.integers(42, 85))
            r[first:first + length] *= rng.uniform(0.75, 0.85)
        expected[i] = r

    trouble_start = np.full(n_shops, -1)
    trouble_fall = np.zeros(n_shops)
    rate = expected.copy()
    earliest = min(120, max(0, n_days - TROUBLE_MIN_DAYS - 1))
    for i in np.flatnonzero(rng.random(n_shops) < trouble_share):
        if n_days - TROUBLE_MIN_DAYS <= earliest:
            break
        t0 = int(rng.integers(earliest, n_days - TROUBLE_MIN_DAYS))
        fall = rng.uniform(TROUBLE_MIN_FALL, 0.8)
        ramp = int(rng.integers(0, 15))
        end = n_days if rng.random() < 0.75 else min(n_days, t0 + int(rng.integers(TROUBLE_MIN_DAYS, 120)))
        factor = np.ones(n_days)
        span = np.arange(t0, end)
        factor[t0:end] = 1 - fall * np.minimum(1.0, (span - t0 + 1) / (ramp + 1))
        rate[i] *= factor
        trouble_start[i], trouble_fall[i] = t0, fall

    daily = rng.gamma(dispersion, 1 / dispersion, size=rate.shape)
    counts = rng.poisson(rate * daily)
    return SalesSet(start=start, shop_ids=[f"S{i + 1:04d}" for i in range(n_shops)], categories=categories,
                    counts=counts, rate=rate, expected=expected, trouble_start=trouble_start,
                    trouble_fall=trouble_fall, closures=closures)
