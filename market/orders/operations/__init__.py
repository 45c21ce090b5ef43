"""The only code that changes an order, its sub-orders, their stock reservations and the
order's refund records: place, mark paid, fail, cancel, expire, reserve / settle / release a
refund, ship, deliver.

Every operation validates, changes the rows with a conditional UPDATE whose WHERE says what
must still be true (the states it may move from, the stock it needs, the money still
refundable), logs, and sends a signal. A conditional UPDATE holds on both databases:
PostgreSQL re-checks the WHERE on the newest row version after waiting for a concurrent
writer, and on SQLite the UPDATE is the transaction's first write (pysqlite begins the
transaction there), so it runs under the database's write lock on the newest data. Callers
never assign an order column; market.payments turns what the payments API says into calls
of these functions.

One module per concern; callers import this package (`from market.orders import operations`):
- `common`: the clock, compare-and-set moves of an order and a sub-order, the lifecycle from parcels
- `placing`: place an order (stock reserved atomically, one order per checkout token, limits)
- `payment_outcome`: paid, paid too late, cancelled, expired; reserved stock released once
- `refunds`: reserve, settle, release, external refunds, the refund-total invariant
- `fulfilment`: ship, deliver
"""
from market.orders.errors import LimitReached, NotFound, OrderError, OutOfStock
from market.orders.operations.common import utcnow
from market.orders.operations.fulfilment import deliver, ship
from market.orders.operations.payment_outcome import (
    cancel_unpaid,
    expire,
    expire_overdue_without_payment,
    mark_paid,
    overdue_orders,
)
from market.orders.operations.placing import place_order
from market.orders.operations.refunds import (
    pending_refunds,
    record_external_refund,
    refund_totals_consistent,
    release_refund,
    reserve_refund,
    settle_refund,
)
from market.orders.services import Address

__all__ = [
    "Address", "LimitReached", "NotFound", "OrderError", "OutOfStock", "cancel_unpaid", "deliver", "expire",
    "expire_overdue_without_payment", "mark_paid", "overdue_orders", "pending_refunds", "place_order",
    "record_external_refund", "refund_totals_consistent", "release_refund", "reserve_refund", "settle_refund",
    "ship", "utcnow",
]
