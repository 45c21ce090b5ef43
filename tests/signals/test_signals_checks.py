"""The other signals (signals.checks) on hand-made inputs."""
import datetime as dt

import numpy as np

from signals.checks import (
    DayTotals,
    Parcel,
    ProductStock,
    best_sellers_out_of_stock,
    refund_shares,
    rising_refund_share,
    stale_catalogue,
    unshipped_parcels,
)

TODAY = dt.date(2026, 5, 20)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def test_unshipped_parcels_past_the_promise():
    parcels = [
        Parcel("A", "o1", paid_on=days_ago(6), promise_days=3),                         # 3 days late
        Parcel("A", "o2", paid_on=days_ago(4), promise_days=3),                         # 1 day late
        Parcel("A", "o3", paid_on=days_ago(2), promise_days=3),                         # not late yet
        Parcel("A", "o4", paid_on=days_ago(9), shipped_on=days_ago(5), promise_days=3),  # shipped
        Parcel("B", "o5", paid_on=days_ago(10), promise_days=3),                        # only one late
        Parcel("C", "o6", paid_on=days_ago(10), shipped_on=TODAY + dt.timedelta(days=1)),  # shipped after today
        Parcel("C", "o7", paid_on=days_ago(8)),
        Parcel("D", "o8", paid_on=TODAY + dt.timedelta(days=1)),                        # the future is not read
    ]
    warnings = unshipped_parcels(parcels, TODAY)
    assert [w.shop_id for w in warnings] == ["A", "C"]
    a = warnings[0]
    assert a.signal == "unshipped_parcels" and a.flagged_on == TODAY
    assert a.evidence == {"parcels": 2, "most_days_late": 3, "orders": ["o1", "o2"],
                          "oldest_paid_on": days_ago(6).isoformat()}
    assert a.score == round(2 + 3 / 7, 2)
    assert warnings[1].evidence["orders"] == ["o6", "o7"]
    assert [w.shop_id for w in unshipped_parcels(parcels, TODAY, min_parcels=1)] == ["A", "B", "C"]


def _days(shop, first_day, n, orders, price, refunds_per_day=0.0):
    rows = []
    for k in range(n):
        refunded = int(round(refunds_per_day * price)) if refunds_per_day else 0
        rows.append(DayTotals(shop, first_day + dt.timedelta(days=k), orders, orders * price, refunded))
    return rows


def test_rising_refund_share():
    start = days_ago(118)               # 91 days before + 28 recent
    rows = []
    # A: 2 % refunded before, 25 % in the last four weeks: flagged
    rows += _days("A", start, 91, 4, 5000, refunds_per_day=0.08)
    rows += _days("A", days_ago(27), 28, 4, 5000, refunds_per_day=1.0)
    # B: always 25 %: high, but not rising
    rows += _days("B", start, 119, 4, 5000, refunds_per_day=1.0)
    # C: one refund in a quiet month (one order a week): not a trend
    rows += [DayTotals("C", days_ago(7 * k), 1, 5000, 0) for k in range(17)]
    rows += [DayTotals("C", days_ago(3), 0, 0, 5000)]
    # D: rising, but the refunds are in the future
    rows += _days("D", start, 119, 4, 5000)
    rows += [DayTotals("D", TODAY + dt.timedelta(days=1), 0, 0, 500_000)]
    warnings = rising_refund_share(rows, TODAY)
    assert [w.shop_id for w in warnings] == ["A"]
    w = warnings[0]
    assert w.signal == "refund_share"
    assert w.evidence["refund_share_28d"] == 0.25 and w.evidence["refund_share_before"] == 0.02
    assert w.evidence["orders_28d"] == 112 and w.evidence["revenue_28d_fen"] == 112 * 5000
    assert w.score == round(0.25 / 0.03, 2)   # an earlier share under 3 % counts as 3 %


def test_refund_shares_read_no_later_column():
    rev = np.array([[100.0] * 10])
    ref = np.array([[0, 0, 0, 0, 0, 50, 50, 0, 0, 0]])
    full = refund_shares(np.ones_like(rev), rev, ref, recent_days=3, before_days=3)
    cut = refund_shares(np.ones((1, 6)), rev[:, :6], ref[:, :6], recent_days=3, before_days=3)
    for name in full:
        assert np.allclose(full[name][:, :6], cut[name], equal_nan=True)
    assert full["share_recent"][0, 6] == 100 / 300 and full["share_before"][0, 6] == 0.0


def test_best_sellers_out_of_stock():
    products = [
        ProductStock("A", "p1", 60, out_of_stock_since=days_ago(5)),   # best seller, out 5 days
        ProductStock("A", "p2", 30),
        ProductStock("A", "p3", 10, out_of_stock_since=days_ago(20)),  # top 3 too
        ProductStock("A", "p4", 4, out_of_stock_since=days_ago(30)),   # sells too little to count
        ProductStock("B", "p5", 50, out_of_stock_since=days_ago(1)),   # out only since yesterday
        ProductStock("B", "p6", 40),
        ProductStock("C", "p7", 9),
        ProductStock("C", "p8", 8),
        ProductStock("C", "p9", 7),
        ProductStock("C", "p10", 6, out_of_stock_since=days_ago(9)),   # fourth best: not a best seller
    ]
    warnings = best_sellers_out_of_stock(products, TODAY)
    assert [w.shop_id for w in warnings] == ["A"]
    assert warnings[0].evidence["products"] == [
        {"product_id": "p1", "units_sold_90d": 60, "days_out_of_stock": 5},
        {"product_id": "p3", "units_sold_90d": 10, "days_out_of_stock": 20},
    ]
    assert warnings[0].score == round(70 / 104, 3)
    assert [w.shop_id for w in best_sellers_out_of_stock(products, TODAY, min_days=1)] == ["A", "B"]


def test_stale_catalogue_while_sales_fall():
    def orders(recent_per_week, before_per_week):
        out = {}
        for week in range(16):
            out[days_ago(7 * week)] = recent_per_week if week < 8 else before_per_week
        return out

    last_new = {"A": days_ago(200), "B": days_ago(30), "C": None, "D": days_ago(150), "E": days_ago(130)}
    daily = {"A": orders(5, 10),   # stale, halved: flagged
             "B": orders(5, 10),   # a new product last month: not stale
             "C": orders(2, 10),   # never added one, fell 80 %: flagged
             "D": orders(10, 10),  # stale but steady
             "E": orders(1, 1)}    # stale, too few orders to say
    warnings = stale_catalogue(last_new, daily, TODAY)
    assert [(w.shop_id, w.score) for w in warnings] == [("A", 0.5), ("C", 0.8)]
    assert warnings[0].evidence == {"last_new_product_on": days_ago(200).isoformat(), "orders_recent": 40,
                                    "orders_before": 80, "weeks": 8}
    assert warnings[1].evidence["last_new_product_on"] is None
