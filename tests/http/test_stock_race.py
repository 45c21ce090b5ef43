"""Many buyers race for the last units, each in her own thread with her own database session
and connection (as concurrent requests are): exactly the stock is sold, never more, on
SQLite and on PostgreSQL."""
from __future__ import annotations

import uuid

from market.extensions import db
from market.models import Order, OrderLine, Product
from market.orders import operations as orders
from tests.support import ADDRESS, race_in_threads


def _race(app, buyer_ids: list[int], items_for) -> tuple[list[int], list[str]]:
    """Start every checkout at the same moment; returns (order ids placed, refusals)."""
    from market.models import User

    def checkout(buyer_id: int):
        def job() -> int:
            buyer = db.session.get(User, buyer_id)
            return orders.place_order(buyer, items_for(buyer_id), ADDRESS, uuid.uuid4().hex).id
        return job

    results = race_in_threads(app, [checkout(b) for b in buyer_ids])
    errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, orders.OutOfStock)]
    assert not errors, errors
    placed = [r for r in results if isinstance(r, int)]
    refused = [str(r) for r in results if isinstance(r, orders.OutOfStock)]
    return placed, refused


def _stock(product_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Product, product_id).stock


def _units_sold(product_id: int) -> int:
    return db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(OrderLine.quantity), 0)).join(Order)
        .where(OrderLine.product_id == product_id, Order.status == "pending_payment")
    )


def test_twelve_buyers_race_for_three_units(app, make_user, make_artisan, make_product):
    product = make_product(make_artisan(), title="最后三件的蓝印花布包", stock=3)
    buyers = [make_user().id for _ in range(12)]
    placed, refused = _race(app, buyers, lambda _bid: {product.id: 1})
    assert len(placed) == 3 and len(refused) == 9
    assert _stock(product.id) == 0
    assert _units_sold(product.id) == 3


def test_multi_line_orders_in_opposite_orders_never_oversell_or_deadlock(app, make_user, make_artisan, make_product):
    a, b = make_artisan(), make_artisan()
    tea = make_product(a, title="望海茶", stock=4)
    shrimp = make_product(b, title="象山虾干", stock=4)
    buyers = [make_user().id for _ in range(10)]

    # Half the buyers list the products one way round, half the other way.
    def items(bid: int) -> dict[int, int]:
        pairs = [(tea.id, 2), (shrimp.id, 1)] if bid % 2 else [(shrimp.id, 2), (tea.id, 1)]
        return dict(pairs)

    placed, refused = _race(app, buyers, items)
    assert placed and refused
    assert _stock(tea.id) >= 0 and _stock(shrimp.id) >= 0
    assert _units_sold(tea.id) + _stock(tea.id) == 4
    assert _units_sold(shrimp.id) + _stock(shrimp.id) == 4
    # Every order placed holds all its lines: no half-reserved order.
    for order_id in placed:
        assert len(db.session.get(Order, order_id).lines) == 2
