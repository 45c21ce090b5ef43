"""Signals besides the sales level: simple rules over data passed in, each with its evidence.

Every function takes plain records and the day of the check (`today`), reads nothing after
`today`, and returns `EarlyWarning`s (at most one per shop and signal), in shop order.

- `unshipped_parcels`: parcels paid for and not shipped past the promised days;
- `rising_refund_share`: the share of revenue refunded in the last 4 weeks is high, at
  least twice what it was in the 13 weeks before, and too many refunds to be chance;
- `best_sellers_out_of_stock`: one of the shop's best sellers has been out of stock for days;
- `stale_catalogue`: no new product for months while the orders fall.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .scanner import EarlyWarning


@dataclass(frozen=True)
class Parcel:
    shop_id: str
    order_id: str
    paid_on: dt.date
    shipped_on: dt.date | None = None
    promise_days: int = 3          # the shop promises to ship within this many days of payment


@dataclass(frozen=True)
class DayTotals:
    shop_id: str
    date: dt.date
    orders: int
    revenue_fen: int
    refunded_fen: int


@dataclass(frozen=True)
class ProductStock:
    shop_id: str
    product_id: str
    units_sold_90d: int
    out_of_stock_since: dt.date | None = None   # None while in stock


def unshipped_parcels(parcels: Iterable[Parcel], today: dt.date, *, min_parcels: int = 2) -> list[EarlyWarning]:
    """Shops with at least `min_parcels` paid parcels not shipped (as of `today`) past their promise."""
    late = defaultdict(list)
    for p in parcels:
        if p.paid_on > today or (p.shipped_on is not None and p.shipped_on <= today):
            continue
        days_late = (today - p.paid_on).days - p.promise_days
        if days_late > 0:
            late[p.shop_id].append((days_late, p))
    warnings = []
    for shop in sorted(late):
        parcels_late = sorted(late[shop], key=lambda t: (-t[0], t[1].order_id))
        if len(parcels_late) < min_parcels:
            continue
        worst = parcels_late[0][0]
        warnings.append(EarlyWarning(
            shop_id=shop, flagged_on=today, signal="unshipped_parcels",
            score=round(len(parcels_late) + worst / 7, 2),
            evidence={"parcels": len(parcels_late), "most_days_late": worst,
                      "orders": [p.order_id for _, p in parcels_late],
                      "oldest_paid_on": min(p.paid_on for _, p in parcels_late).isoformat()}))
    return warnings


def refund_shares(orders: np.ndarray, revenue: np.ndarray, refunded: np.ndarray, *, recent_days: int = 28,
                  before_days: int = 91) -> dict[str, np.ndarray]:
    """Per shop and day: orders, revenue and refunds of the last `recent_days` days, and the refund
    share then and in the `before_days` days before. Arrays are shops x days (money in fen); day
    d's figures read columns up to d only. Shares are NaN where there was no revenue."""
    sums = {}
    for name, a in (("orders", orders), ("revenue", revenue), ("refunded", refunded)):
        a = np.asarray(a, dtype=float)
        c = np.zeros((a.shape[0], a.shape[1] + 1))
        np.cumsum(a, axis=1, out=c[:, 1:])
        sums[name] = c
    days = np.asarray(orders).shape[1]
    end = np.arange(1, days + 1)
    mid = np.maximum(0, end - recent_days)
    first = np.maximum(0, mid - before_days)
    out = {f"{name}_recent": c[:, end] - c[:, mid] for name, c in sums.items()}
    out.update({f"{name}_before": c[:, mid] - c[:, first] for name, c in sums.items()})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_recent"] = np.where(out["revenue_recent"] > 0, out["refunded_recent"] / out["revenue_recent"], np.nan)
        out["share_before"] = np.where(out["revenue_before"] > 0, out["refunded_before"] / out["revenue_before"], np.nan)
    return out


def refund_rule(f: dict[str, np.ndarray], *, min_share: float = 0.10, min_ratio: float = 2.0, floor: float = 0.03,
                p_value: float = 0.001) -> tuple[np.ndarray, np.ndarray]:
    """The refund-share rule on `refund_shares` output: (mask, score = recent share / earlier share).

    Fires when the recent share is at least `min_share`, at least `min_ratio` times the earlier
    share (an earlier share below `floor` counts as `floor`), and so many refunds are unlikely
    by chance: the refunds, counted in orders of the shop's average value, are tested against
    a binomial at the earlier share (one-sided, below `p_value`), so one refund in a quiet
    month is not a trend.
    """
    from scipy.stats import binom

    baseline = np.maximum(np.nan_to_num(f["share_before"], nan=0.0), floor)
    recent = np.nan_to_num(f["share_recent"], nan=0.0)
    n = np.round(f["orders_recent"]).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(n > 0, f["revenue_recent"] / np.maximum(n, 1), 0.0)
        k = np.where(price > 0, np.round(f["refunded_recent"] / np.maximum(price, 1e-9)), 0).astype(int)
    k = np.minimum(k, n)
    hit = (recent >= min_share) & (recent >= min_ratio * baseline) & (n > 0)
    if hit.any():
        hit[hit] = binom.sf(k[hit] - 1, n[hit], baseline[hit]) < p_value
    return hit, recent / baseline


def rising_refund_share(days: Iterable[DayTotals], today: dt.date, *, recent_days: int = 28, before_days: int = 91,
                        **rule) -> list[EarlyWarning]:
    """Shops refunding a rising share of their revenue: the last `recent_days` days against the
    `before_days` days before (see `refund_rule` for the thresholds, passed as keywords)."""
    span = recent_days + before_days
    first = today - dt.timedelta(days=span - 1)
    by_shop: dict[str, np.ndarray] = {}
    for row in days:
        if not first <= row.date <= today:
            continue
        a = by_shop.setdefault(row.shop_id, np.zeros((3, span)))
        k = (row.date - first).days
        a[:, k] += (row.orders, row.revenue_fen, row.refunded_fen)
    warnings = []
    for shop in sorted(by_shop):
        a = by_shop[shop]
        f = refund_shares(a[None, 0], a[None, 1], a[None, 2], recent_days=recent_days, before_days=before_days)
        last = {name: v[:, -1:] for name, v in f.items()}
        hit, score = refund_rule(last, **rule)
        if hit[0, 0]:
            warnings.append(refund_warning(shop, today, last, 0, 0, float(score[0, 0])))
    return warnings


def refund_warning(shop: str, today: dt.date, f: dict[str, np.ndarray], i: int, d: int, score: float) -> EarlyWarning:
    before = float(f["share_before"][i, d])
    return EarlyWarning(
        shop_id=shop, flagged_on=today, signal="refund_share", score=round(score, 2),
        evidence={"refund_share_28d": round(float(f["share_recent"][i, d]), 3),
                  "refund_share_before": None if np.isnan(before) else round(before, 3),
                  "orders_28d": int(f["orders_recent"][i, d]), "revenue_28d_fen": int(f["revenue_recent"][i, d]),
                  "refunded_28d_fen": int(f["refunded_recent"][i, d])})


def best_sellers_out_of_stock(products: Iterable[ProductStock], today: dt.date, *, top: int = 3,
                              min_days: int = 3, min_units: int = 5) -> list[EarlyWarning]:
    """Shops where one of their `top` best sellers (by units sold in 90 days, at least `min_units`)
    has been out of stock for `min_days` days or more. Score: the share of the shop's 90-day
    units that those products made up (what she is losing)."""
    by_shop = defaultdict(list)
    for p in products:
        by_shop[p.shop_id].append(p)
    warnings = []
    for shop in sorted(by_shop):
        items = by_shop[shop]
        total = sum(p.units_sold_90d for p in items)
        best = sorted((p for p in items if p.units_sold_90d >= min_units),
                      key=lambda p: (-p.units_sold_90d, p.product_id))[:top]
        out = [(p, (today - p.out_of_stock_since).days) for p in best
               if p.out_of_stock_since is not None and p.out_of_stock_since <= today
               and (today - p.out_of_stock_since).days >= min_days]
        if not out or total == 0:
            continue
        warnings.append(EarlyWarning(
            shop_id=shop, flagged_on=today, signal="best_sellers_out_of_stock",
            score=round(sum(p.units_sold_90d for p, _ in out) / total, 3),
            evidence={"products": [{"product_id": p.product_id, "units_sold_90d": p.units_sold_90d,
                                    "days_out_of_stock": days} for p, days in out]}))
    return warnings


def stale_catalogue(last_new_product: Mapping[str, dt.date | None], daily_orders: Mapping[str, Mapping[dt.date, int]],
                    today: dt.date, *, stale_days: int = 120, weeks: int = 8, min_fall: float = 0.2,
                    min_orders: int = 10) -> list[EarlyWarning]:
    """Shops that added no product for `stale_days` days (or never) while their orders in the last
    `weeks` weeks fell by at least `min_fall` against the `weeks` weeks before (which need `min_orders`)."""
    span = 7 * weeks
    warnings = []
    for shop in sorted(last_new_product):
        added = last_new_product[shop]
        if added is not None and (today - added).days < stale_days:
            continue
        orders = daily_orders.get(shop, {})
        recent = sum(n for day, n in orders.items() if 0 <= (today - day).days < span)
        before = sum(n for day, n in orders.items() if span <= (today - day).days < 2 * span)
        if before < min_orders:
            continue
        fall = 1 - recent / before
        if fall < min_fall:
            continue
        warnings.append(EarlyWarning(
            shop_id=shop, flagged_on=today, signal="stale_catalogue", score=round(fall, 3),
            evidence={"last_new_product_on": added.isoformat() if added else None,
                      "orders_recent": recent, "orders_before": before, "weeks": weeks}))
    return warnings
