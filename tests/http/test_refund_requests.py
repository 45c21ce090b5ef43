"""Buyers' refund and return requests: the rules (what may be asked, when, how much), each
answer (accept, offer, decline, return received, staff, escalation) ending in the order's one
refund path, the mails each step promises, and a race of the artisan and staff deciding one
request at the same moment (exactly one refund)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from market.extensions import db
from market.models import Order, Refund, RefundRequest, SubOrder
from market.orders.errors import NotFound, OrderError
from market.returns import operations as returns
from market.returns.operations import RequestError
from tests.support import (
    mails_to,
    move_delivery_back,
    pay_card,
    place,
    race_in_threads,
    refund_totals_consistent,
    refunds_at_api,
    ship_and_deliver,
    use_localstripe,
)


@pytest.fixture
def shop(app, localstripe_url, make_user, make_artisan, make_product):
    """A paid order of two parcels: 阿梅's scarf (¥99 × 2) and 阿珍's seafood (¥269)."""
    use_localstripe(app, localstripe_url)
    buyer = make_user(("buyer",), email="buyer@example.cn")
    amei = make_artisan(name="阿梅刺绣", email="amei@example.cn")
    azhen = make_artisan(name="阿珍海鲜", email="azhen@example.cn")
    scarf = make_product(amei, title="刺绣围巾", price_fen=9900, stock=5)
    fish = make_product(azhen, title="海鲜礼盒", category="seafood", price_fen=26900, stock=5)
    staff = make_user(("staff",), email="staff@example.cn")
    order = place(buyer, {scarf: 2, fish: 1})
    assert pay_card(order).status == "paid"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    subs = {s.artisan_id: s for s in order.sub_orders}
    return {"buyer": buyer, "amei": amei, "azhen": azhen, "staff": staff, "order": order,
            "scarf_sub": subs[amei.id], "fish_sub": subs[azhen.id],
            "scarf_line": subs[amei.id].lines[0], "fish_line": subs[azhen.id].lines[0], "url": localstripe_url}


def _ask(s, target, **kw):
    kw.setdefault("kind", "refund")
    kw.setdefault("reason", "damaged")
    return returns.open_request(s["buyer"], s["order"].id, target=target, **kw)


def _order(s) -> Order:
    db.session.expire_all()
    return db.session.get(Order, s["order"].id)


def test_accepted_line_refund_goes_through_the_reserved_refund_path_and_mails_both(shop):
    s = shop
    record = _ask(s, f"line-{s['scarf_line'].id}", amount=9900, note="一条围巾线头松了")
    assert record.status == "open" and record.amount_fen == 9900 and record.artisan_id == s["amei"].id
    opened = mails_to("amei@example.cn")
    assert opened and record.number in opened[-1]["Subject"] and "/shop/requests/" in opened[-1].get_content()

    done = returns.accept(s["amei"].user, record.id, "抱歉")
    assert done.status == "refunded" and done.refund_fen == 9900 and done.active_key is None
    order = _order(s)
    refunds = db.session.query(Refund).filter_by(order_id=order.id).all()
    assert [(r.amount_fen, r.status, r.origin, r.line_id, r.request_token) for r in refunds] == \
        [(9900, "succeeded", "request", s["scarf_line"].id, f"refund-request-{record.id}")]
    assert order.refunded_fen == 9900 and refund_totals_consistent(order.id)
    assert [r["amount"] for r in refunds_at_api(s["url"], order.payment_intent_id)] == [9900]
    told = mails_to("buyer@example.cn")
    assert any(record.number in m["Subject"] and "¥99.00" in m.get_content() for m in told)


def test_bad_requests_change_nothing(shop):
    s = shop
    line = f"line-{s['scarf_line'].id}"
    cases = [
        dict(target=line, amount=19801),  # beyond the line (¥198)
        dict(target=line, amount=0),
        dict(target="line-999999"),
        dict(target="sub-x"),
        dict(target=line, kind="swap"),
        dict(target=line, reason="bored"),
        dict(target=line, kind="return"),  # nothing shipped yet: nothing to send back
        dict(target=line, reason="changed_mind"),  # not delivered yet
        dict(target=line, note="长" * 1001),
    ]
    for case in cases:
        with pytest.raises(RequestError):
            _ask(s, **case)
    assert db.session.query(RefundRequest).count() == 0
    with pytest.raises(NotFound):  # someone else's order
        returns.open_request(s["staff"], s["order"].id, target=line, kind="refund", reason="damaged")


def test_one_active_request_per_parcel_and_none_on_a_refunded_line(shop):
    s = shop
    first = _ask(s, f"line-{s['scarf_line'].id}", amount=5000)
    with pytest.raises(RequestError, match="已有"):
        _ask(s, f"sub-{s['scarf_sub'].id}")  # the same parcel, named differently
    other = _ask(s, f"sub-{s['fish_sub'].id}")  # another parcel is free
    assert other.status == "open"
    returns.accept(s["amei"].user, first.id)
    # Refunded ¥50 of ¥198: ¥148 is left on the line; asking more than that is refused.
    with pytest.raises(RequestError):
        _ask(s, f"line-{s['scarf_line'].id}", amount=14801)
    second = _ask(s, f"line-{s['scarf_line'].id}", amount=14800)
    returns.accept(s["amei"].user, second.id)
    with pytest.raises(RequestError):  # nothing left on the line
        _ask(s, f"line-{s['scarf_line'].id}")
    assert _order(s).refunded_fen == 19800 and refund_totals_consistent(s["order"].id)


def test_changed_my_mind_window_and_excluded_categories(app, shop):
    s = shop
    app.config.update(RETURN_WINDOW_DAYS=7, RETURN_EXCLUDED_CATEGORIES="seafood", REFUND_REQUEST_DAYS=30)
    ship_and_deliver(s["staff"], s["fish_sub"].id)
    with pytest.raises(RequestError, match="不支持"):
        _ask(s, f"sub-{s['fish_sub'].id}", kind="return", reason="changed_mind")
    ship_and_deliver(s["staff"], s["scarf_sub"].id, days_ago=8)
    with pytest.raises(RequestError, match="期限"):
        _ask(s, f"sub-{s['scarf_sub'].id}", kind="return", reason="changed_mind")
    # Other reasons stay open for 30 days after delivery.
    record = _ask(s, f"sub-{s['scarf_sub'].id}", kind="return", reason="not_as_described")
    returns.withdraw(s["buyer"], record.id)
    move_delivery_back(s["scarf_sub"].id, 30)
    with pytest.raises(RequestError, match="期限"):
        _ask(s, f"sub-{s['scarf_sub'].id}", reason="not_as_described")


def test_partial_offer_taken_by_the_buyer(shop):
    s = shop
    record = _ask(s, f"sub-{s['fish_sub'].id}", reason="not_as_described")
    with pytest.raises(RequestError):
        returns.offer(s["azhen"].user, record.id, 26901)
    with pytest.raises(NotFound):  # not her parcel
        returns.offer(s["amei"].user, record.id, 1000)
    offered = returns.offer(s["azhen"].user, record.id, 10000, "一半的补偿")
    assert offered.status == "offered" and offered.offered_fen == 10000
    assert any("¥100.00" in m.get_content() for m in mails_to("buyer@example.cn"))
    done = returns.take_offer(s["buyer"], record.id)
    assert done.status == "refunded" and done.refund_fen == 10000
    sub = db.session.get(SubOrder, s["fish_sub"].id)
    assert sub.refunded_fen == 10000 and _order(s).refunded_fen == 10000


def test_refused_offer_and_overdue_requests_go_to_staff_who_decide(app, shop):
    s = shop
    refused = _ask(s, f"sub-{s['fish_sub'].id}", reason="damaged")
    returns.offer(s["azhen"].user, refused.id, 5000)
    assert returns.refuse_offer(s["buyer"], refused.id).status == "escalated"
    assert any(refused.number in m["Subject"] for m in mails_to("staff@example.cn"))

    quiet = _ask(s, f"sub-{s['scarf_sub'].id}", reason="not_received")
    assert returns.escalate_overdue() == 0  # not due yet
    assert returns.escalate_overdue(now=quiet.respond_by + timedelta(seconds=1)) == 1
    assert db.session.get(RefundRequest, quiet.id).status == "escalated"
    with pytest.raises(RequestError):  # too late for the artisan now
        returns.accept(s["amei"].user, quiet.id)

    with pytest.raises(RequestError, match="原因"):
        returns.staff_decide(s["staff"], refused.id, "decline")
    assert returns.staff_decide(s["staff"], refused.id, "decline", note="照片显示完好").status == "declined"
    done = returns.staff_decide(s["staff"], quiet.id, "refund", amount=15000, note="物流丢件")
    assert done.status == "refunded" and done.refund_fen == 15000
    assert _order(s).refunded_fen == 15000 and refund_totals_consistent(s["order"].id)


def test_return_is_refunded_when_the_parcel_arrives_back(shop):
    s = shop
    ship_and_deliver(s["staff"], s["scarf_sub"].id)
    record = _ask(s, f"sub-{s['scarf_sub'].id}", kind="return", reason="changed_mind")
    accepted = returns.accept(s["amei"].user, record.id)
    assert accepted.status == "awaiting_return" and _order(s).refunded_fen == 0
    assert any("send the parcel back" in m.get_content() or record.number in m.get_content()
               for m in mails_to("buyer@example.cn"))
    with pytest.raises(NotFound):
        returns.return_received(s["azhen"].user, record.id)
    done = returns.return_received(s["amei"].user, record.id)
    assert done.status == "refunded" and _order(s).refunded_fen == 19800


def test_a_refused_refund_puts_the_request_back(shop):
    s = shop
    record = _ask(s, f"sub-{s['scarf_sub'].id}", amount=19800)
    # Staff refund the parcel directly meanwhile: the request's refund no longer fits.
    from market.payments import services as payments

    payments.refund(s["staff"], s["order"].id, sub_order_id=s["scarf_sub"].id, amount=10000)
    with pytest.raises(OrderError, match="98.00"):
        returns.accept(s["amei"].user, record.id)
    again = db.session.get(RefundRequest, record.id)
    assert again.status == "open" and again.active_key == s["scarf_sub"].id and again.refund_fen is None
    assert _order(s).refunded_fen == 10000 and refund_totals_consistent(s["order"].id)


def test_accept_and_staff_decision_at_once_refund_exactly_once(app, shop):
    s = shop
    amei_id, staff_id = s["amei"].user.id, s["staff"].id
    results_all = []
    for _round in range(3):
        record = _ask(s, f"sub-{s['fish_sub'].id}", amount=5000)

        def artisan(rid=record.id):
            from market.models import User

            return returns.accept(db.session.get(User, s["azhen"].user.id), rid)

        def staff(rid=record.id):
            from market.models import User

            return returns.staff_decide(db.session.get(User, staff_id), rid, "refund")

        results = race_in_threads(app, [artisan, staff, artisan, staff])
        won = [r for r in results if isinstance(r, RefundRequest)]
        lost = [r for r in results if isinstance(r, RequestError)]
        assert len(won) == 1 and len(lost) == 3, results
        results_all.append(record.id)
    assert amei_id  # (her parcel is not part of this race)
    order = _order(s)
    ours = db.session.query(Refund).filter_by(order_id=order.id).all()
    assert sorted(r.amount_fen for r in ours) == [5000, 5000, 5000]
    assert sorted(r["amount"] for r in refunds_at_api(s["url"], order.payment_intent_id)) == [5000, 5000, 5000]
    assert order.refunded_fen == 15000 and refund_totals_consistent(order.id)
    assert all(db.session.get(RefundRequest, rid).status == "refunded" for rid in results_all)


def test_refund_request_notices_go_through_the_notification_service_once_each(shop):
    from market.models import Notice

    s = shop
    record = _ask(s, f"line-{s['scarf_line'].id}", amount=9900)
    returns.accept(s["amei"].user, record.id)

    def notices(user, kind):
        return db.session.scalars(db.select(Notice).where(Notice.user_id == user.id, Notice.kind == kind)).all()

    # in-app and mail, recorded by notify() with the request's number, delivered after the commit
    opened = notices(s["amei"].user, "refund_request_opened")
    assert sorted(n.channel for n in opened) == ["inapp", "mail"] and all(record.number in n.subject for n in opened)
    told = notices(s["buyer"], "refund_request_update")
    assert sorted(n.channel for n in told) == ["inapp", "mail"] and all("¥99.00" in n.body for n in told)
    assert {n.status for n in told} == {"sent"}
    # recording the same step again (a retried job) tells nobody twice
    from market.returns import notifications

    notifications.decided(db.session.get(RefundRequest, record.id))
    assert len(notices(s["buyer"], "refund_request_update")) == 2
