"""The artisan ledger on the database: sales and commission posted when a sub-order is paid
(under the rule of that moment), refunds and commission given back, due and pending money,
payout batches paid once under a race, failed payouts back on the balance, a negative balance
carried forward, exports without formula injection, and a property test that the ledger
always agrees with the order, refund and payout records."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from market.extensions import db
from market.ledger import operations as ledger
from market.ledger import services as statements
from market.models import LedgerEntry, Order, Payout, Refund, SubOrder, User
from market.orders import operations as orders
from market.orders.services import sold
from tests.support import mails_to, place, race_in_threads, ship_and_deliver


def _paid(buyer, items) -> Order:
    order = place(buyer, items, token=uuid.uuid4().hex)
    assert orders.mark_paid(order.id, order.total_fen) == "paid"
    db.session.expire_all()
    return db.session.get(Order, order.id)


def _refund(order_id, *, sub_order_id=None, line_id=None, amount=None, succeed=True):
    """A refund on the service layer: reserved, then settled as the API would (no API here)."""
    record, _ = orders.reserve_refund(None, order_id, sub_order_id=sub_order_id, line_id=line_id, amount=amount)
    if succeed:
        orders.settle_refund(record.id, f"re_{uuid.uuid4().hex[:12]}")
    else:
        orders.release_refund(record.id)
    return record.id


def _kinds(artisan_id) -> dict[str, int]:
    rows = db.session.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount_fen))
                              .where(LedgerEntry.artisan_id == artisan_id).group_by(LedgerEntry.kind)).all()
    return {k: int(v) for k, v in rows}


@pytest.fixture
def market(app, make_user, make_artisan, make_product):
    app.config.update(PAYOUT_HOLD_DAYS=7, PAYOUT_MINIMUM_FEN=100)
    staff = make_user(("staff",))
    from market.accounts.services import grant_role

    grant_role(staff, staff, "finance")
    amei = make_artisan(name="阿梅刺绣")
    azhen = make_artisan(name="阿珍海鲜")
    return {"staff": staff, "buyer": make_user(("buyer",)), "amei": amei, "azhen": azhen,
            "scarf": make_product(amei, title="刺绣围巾", price_fen=10_000, stock=500),
            "fish": make_product(azhen, title="海鲜礼盒", category="seafood", price_fen=20_000, stock=500)}


def test_sale_and_commission_under_the_rule_of_the_payment_and_reversal_on_refund(market):
    m = market
    ledger.create_rule(m["staff"], "2026 标准", [
        {"name": "5%", "kind": "percent", "rate_bp": 500, "min_fen": 300},
        {"name": "海鲜加收", "kind": "percent", "rate_bp": 500, "category": "seafood"},
        {"name": "每单", "kind": "fixed_per_order", "fixed_fen": 100, "max_fen": 100},
    ])
    order = _paid(m["buyer"], {m["scarf"]: 2, m["fish"]: 1})
    assert _kinds(m["amei"].id) == {"sale": 20_000, "commission": -(1000 + 100)}
    assert _kinds(m["azhen"].id) == {"sale": 20_000, "commission": -(1000 + 1000 + 100)}
    # A new version applies to later orders only; the first order keeps its rule.
    ledger.create_rule(m["staff"], "2027 优惠", [{"name": "2%", "kind": "percent", "rate_bp": 200}])
    _paid(m["buyer"], {m["scarf"]: 1})
    assert _kinds(m["amei"].id)["commission"] == -(1100 + 200)
    ledger.sync()  # the sweep finds nothing new
    assert _kinds(m["amei"].id)["sale"] == 30_000

    scarf_sub = next(s for s in order.sub_orders if s.artisan_id == m["amei"].id)
    _refund(order.id, line_id=scarf_sub.lines[0].id, amount=5_000)  # a quarter of her parcel
    kinds = _kinds(m["amei"].id)
    assert kinds["refund"] == -5_000 and kinds["commission_reversal"] == 275
    _refund(order.id, sub_order_id=scarf_sub.id)  # the rest of it: the rest of its commission
    kinds = _kinds(m["amei"].id)
    assert kinds["refund"] == -20_000 and kinds["commission_reversal"] == 1100
    _refund(order.id, amount=100)  # "the rest of the order": no parcel, no artisan's entry
    assert _kinds(m["azhen"].id) == {"sale": 20_000, "commission": -2100}


def test_invalid_rules_are_refused(market):
    for components in ([], [{"name": "x", "kind": "tip"}], [{"name": "x", "kind": "percent", "rate_bp": 10_001}],
                       [{"name": "x", "kind": "percent", "rate_bp": 1, "min_fen": 5, "max_fen": 4}]):
        with pytest.raises(ledger.LedgerError):
            ledger.create_rule(market["staff"], "坏规则", components)


def test_due_after_the_return_window_payout_once_failed_back_and_negative_carried(market):
    m = market
    order = _paid(m["buyer"], {m["scarf"]: 1})
    sub_id = order.sub_orders[0].id
    aid = m["amei"].id
    assert ledger.balances()[aid] == (10_000, 0)  # all pending: not delivered
    ship_and_deliver(m["staff"], sub_id, days_ago=3)
    assert ledger.balances()[aid] == (10_000, 0)  # still in the return window
    _deliver_back = db.session.get(SubOrder, sub_id).delivered_at - timedelta(days=5)
    db.session.execute(db.update(SubOrder).where(SubOrder.id == sub_id).values(delivered_at=_deliver_back))
    db.session.commit()
    assert ledger.balances()[aid] == (10_000, 10_000)

    batch = ledger.create_batch(m["staff"])
    assert [(p.artisan_id, p.amount_fen, p.status) for p in batch.payouts] == [(aid, 10_000, "pending")]
    again = ledger.create_batch(m["staff"])  # nothing due any more (paid out, pending at the bank)
    assert again.payouts == []
    payout_id = batch.payouts[0].id
    assert ledger.mark_failed(m["staff"], payout_id, "账户名不符")
    assert "账户名不符" in mails_to(m["amei"].user.email)[-1].get_content()
    assert not ledger.mark_paid(m["staff"], payout_id, "B-1")  # settled already
    assert ledger.balances()[aid] == (10_000, 10_000)  # back on the balance
    batch = ledger.create_batch(m["staff"])
    assert ledger.mark_paid(m["staff"], batch.payouts[0].id, "ICBC-20261127-1")
    assert "ICBC-20261127-1" in mails_to(m["amei"].user.email)[-1].get_content()
    assert ledger.balances()[aid] == (0, 0)
    # A refund after the payout: the balance goes negative and the next payout nets it.
    _refund(order.id, sub_order_id=sub_id, amount=3_000)
    assert ledger.balances()[aid] == (-3_000, -3_000)
    assert ledger.create_batch(m["staff"]).payouts == []
    order2 = _paid(m["buyer"], {m["scarf"]: 1})
    ship_and_deliver(m["staff"], order2.sub_orders[0].id, days_ago=8)
    batch = ledger.create_batch(m["staff"])
    assert [p.amount_fen for p in batch.payouts] == [7_000]
    s = statements.statement(m["amei"])
    assert (s.balance_fen, s.due_fen, s.pending_fen) == (0, 0, 0)
    assert [p.status for p in s.payouts] == ["pending", "paid", "failed"]


def test_adjustments_need_a_reason_and_the_batch_minimum_holds(market):
    m = market
    with pytest.raises(ledger.LedgerError):
        ledger.adjust(m["staff"], m["amei"].id, 500, "")
    with pytest.raises(ledger.LedgerError):
        ledger.adjust(m["staff"], m["amei"].id, 0, "零")
    ledger.adjust(m["staff"], m["amei"].id, 500, "补贴运费")
    ledger.adjust(m["staff"], m["azhen"].id, 50, "小额")
    batch = ledger.create_batch(m["staff"], minimum_fen=100)
    assert [(p.artisan_id, p.amount_fen) for p in batch.payouts] == [(m["amei"].id, 500)]


def test_two_staff_marking_one_payout_paid_pay_once(app, market):
    m = market
    ledger.adjust(m["staff"], m["amei"].id, 8_000, "期初余额")
    payout_id = ledger.create_batch(m["staff"]).payouts[0].id
    staff_id = m["staff"].id

    def pay(ref):
        return lambda: ledger.mark_paid(db.session.get(User, staff_id), payout_id, ref)

    def fail():
        return ledger.mark_failed(db.session.get(User, staff_id), payout_id, "退票")

    results = race_in_threads(app, [pay("A-1"), pay("A-2"), fail, pay("A-3")])
    assert sum(r is True for r in results) == 1 and all(isinstance(r, bool) for r in results), results
    db.session.expire_all()
    payout = db.session.get(Payout, payout_id)
    failed_entries = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                       .where(LedgerEntry.kind == "payout_failed"))
    assert failed_entries == (1 if payout.status == "failed" else 0)
    assert ledger.balances()[m["amei"].id][0] == (8_000 if payout.status == "failed" else 0)


def test_two_batches_at_once_pay_each_balance_once_and_sales_post_once(app, market):
    m = market
    ledger.adjust(m["staff"], m["amei"].id, 8_000, "期初余额")
    ledger.adjust(m["staff"], m["azhen"].id, 6_000, "期初余额")
    staff_id = m["staff"].id
    results = race_in_threads(app, [lambda: ledger.create_batch(db.session.get(User, staff_id))] * 3)
    assert not any(isinstance(r, BaseException) for r in results), results
    db.session.expire_all()
    paid = db.session.execute(select(Payout.artisan_id, Payout.amount_fen).order_by(Payout.artisan_id)).all()
    assert [tuple(p) for p in paid] == [(m["amei"].id, 8_000), (m["azhen"].id, 6_000)]
    assert ledger.balances()[m["amei"].id][0] == 0

    order = place(m["buyer"], {m["scarf"]: 1}, token=uuid.uuid4().hex)
    orders.mark_paid(order.id, order.total_fen)
    sub_id = order.sub_orders[0].id
    race_in_threads(app, [lambda: ledger.post_sale(sub_id)] * 4)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.sub_order_id == sub_id, LedgerEntry.kind == "sale")) == 1


def test_exports_cannot_run_formulas(market):
    m = market
    m["amei"].display_name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    ledger.adjust(m["staff"], m["amei"].id, 500, "+1 调整")
    batch = ledger.create_batch(m["staff"])
    ledger.mark_paid(m["staff"], batch.payouts[0].id, "@SUM(A1)")
    body = statements.batch_csv(batch.id)
    assert "'=HYPERLINK" in body and "'@SUM" in body
    assert "'+1" in statements.statement_csv(statements.statement(m["amei"]))


ACTIONS = ("order", "deliver", "refund", "refund_fails", "request_declined", "batch", "pay", "fail", "adjust", "rule")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 10_000)), min_size=1, max_size=25))
def test_the_ledger_always_agrees_with_the_records(market, steps):
    from market.returns import operations as returns

    m = market
    staff = db.session.get(User, m["staff"].id)
    for action, n in steps:
        subs = list(db.session.scalars(select(SubOrder).join(Order).where(sold()).order_by(SubOrder.id)))
        pending = list(db.session.scalars(select(Payout).where(Payout.status == "pending").order_by(Payout.id)))
        try:
            if action == "order":
                items = {m["scarf"]: 1 + n % 3} if n % 3 else {m["scarf"]: 1, m["fish"]: 1 + n % 2}
                _paid(m["buyer"], items)
            elif action == "deliver" and subs:
                sub = subs[n % len(subs)]
                if sub.status == "awaiting_shipment":
                    ship_and_deliver(staff, sub.id, days_ago=n % 12)
            elif action in ("refund", "refund_fails") and subs:
                sub = subs[n % len(subs)]
                left = sub.subtotal_fen - sub.refunded_fen
                if left > 0 and sub.order.refundable_fen > 0:
                    _refund(sub.order_id, sub_order_id=sub.id, amount=1 + n % min(left, sub.order.refundable_fen),
                            succeed=action == "refund")
            elif action == "request_declined" and subs:
                sub = subs[n % len(subs)]
                if sub.status != "cancelled" and sub.subtotal_fen > sub.refunded_fen:
                    buyer = db.session.get(User, sub.order.buyer_id)
                    r = returns.open_request(buyer, sub.order_id, target=f"sub-{sub.id}", kind="refund",
                                             reason="damaged")
                    returns.decline(sub.artisan.user, r.id, "不符合")
            elif action == "batch":
                ledger.create_batch(staff, minimum_fen=n % 500)
            elif action == "pay" and pending:
                ledger.mark_paid(staff, pending[n % len(pending)].id, f"REF-{n}")
            elif action == "fail" and pending:
                ledger.mark_failed(staff, pending[n % len(pending)].id, "退票")
            elif action == "adjust":
                ledger.adjust(staff, (m["amei"], m["azhen"])[n % 2].id, (n % 2000) - 1000 or 1, "随机调整")
            elif action == "rule":
                ledger.create_rule(staff, f"规则{n}", [{"name": "p", "kind": "percent", "rate_bp": n % 2000,
                                                      "max_fen": n % 3000 or None}])
        except returns.RequestError:
            pass
    _check_invariants(m)


def _check_invariants(m):
    db.session.expire_all()
    ledger.sync()
    found = ledger.balances()
    for artisan in (m["amei"], m["azhen"]):
        k = _kinds(artisan.id)
        g = lambda name, k=k: k.get(name, 0)  # noqa: E731
        balance = found.get(artisan.id, (0, 0))[0]
        assert g("sale") + g("commission") + g("refund") + g("commission_reversal") + g("adjustment") + \
            g("payout") + g("payout_failed") == balance
        subs = list(db.session.scalars(select(SubOrder).join(Order).where(sold(), SubOrder.artisan_id == artisan.id)))
        assert g("sale") == sum(s.subtotal_fen for s in subs)
        refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_fen), 0))
                                     .join(SubOrder, SubOrder.id == Refund.sub_order_id)
                                     .where(SubOrder.artisan_id == artisan.id, Refund.status == "succeeded"))
        assert -g("refund") == refunded == sum(s.refunded_fen for s in subs)
        payouts = list(db.session.scalars(select(Payout).where(Payout.artisan_id == artisan.id)))
        assert -g("payout") == sum(p.amount_fen for p in payouts)
        assert g("payout_failed") == sum(p.amount_fen for p in payouts if p.status == "failed")
        assert 0 <= g("commission_reversal") <= -g("commission") <= g("sale")
        assert sum(p.status == "pending" for p in payouts) <= 1
