"""Placing an order: stock reserved atomically, one order per checkout token, the hoarding limits."""
from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from market import signals
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Order, OrderLine, Product, SubOrder, User
from market.orders.errors import LimitReached, OrderError, OutOfStock
from market.orders.operations.common import log, utcnow
from market.orders.operations.payment_outcome import expire_overdue_without_payment
from market.orders.services import Address


def place_order(buyer: User | None, items: dict[int, int], address: Address, checkout_token: str,
                guest_email: str | None = None) -> Order:
    """Create a pending order for `items` ({product_id: qty}), reserving stock atomically.
    A guest's order (`buyer` None) has no account, only `guest_email`.

    The same `checkout_token` always yields the same order (two tabs, a double submit).
    Not enough stock for any line, or a hoarding limit reached: nothing is written and the
    error says why.
    """
    if not checkout_token or len(checkout_token) > 64:
        raise OrderError(_l("Your checkout form expired. Please try again."))
    if buyer is None:
        guest_email = (guest_email or "").strip().lower()
        if not guest_email or "@" not in guest_email or len(guest_email) > 254:
            raise OrderError(_l("Enter your email address: the order confirmation goes there."))
    else:
        guest_email = None
    db.session.rollback()  # the reservation below must be this transaction's first write
    existing = _order_for_token(buyer, checkout_token, guest_email)
    if existing is not None:
        return existing
    items = {int(pid): int(q) for pid, q in items.items() if int(q) > 0}
    if not items:
        raise OrderError(_l("Your cart is empty."))
    address = address.cleaned()
    try:
        try:
            return _place(buyer, items, address, checkout_token, guest_email)
        except OutOfStock:
            # Overdue unpaid orders that never reached the payments API may hold the stock:
            # release those (no API call needed), then try once more. Overdue orders with a
            # PaymentIntent are settled by the reconcile job, which asks the API first.
            if expire_overdue_without_payment(product_ids=list(items)):
                return _place(buyer, items, address, checkout_token, guest_email)
            raise
    except IntegrityError:
        db.session.rollback()
        existing = _order_for_token(buyer, checkout_token, guest_email)
        if existing is None:
            raise
        return existing


def _order_for_token(buyer: User | None, token: str, guest_email: str | None = None) -> Order | None:
    order = db.session.scalar(select(Order).where(Order.checkout_token == token))
    if order is None:
        return None
    mine = (order.buyer_id == buyer.id) if buyer is not None else (
        order.buyer_id is None and order.guest_email == guest_email)
    if not mine:
        raise OrderError(_l("Your checkout form expired. Please try again."))
    return order


def _place(buyer: User | None, items: dict[int, int], address: Address, token: str,
           guest_email: str | None = None) -> Order:
    cfg = current_app.config
    products = {
        p.id: p for p in db.session.scalars(
            public_products().where(Product.id.in_(list(items))).options(joinedload(Product.artisan))
        ).unique()
    }
    for pid in items:
        if pid not in products:
            raise OrderError(_l("A product in your cart is no longer available. Please review your cart."))

    ttl = int(cfg.get("RESERVATION_TTL_MINUTES", 30))
    order = Order(
        buyer_id=buyer.id if buyer else None, guest_email=guest_email, status="pending_payment", checkout_token=token, currency="cny", total_fen=0,
        paid_fen=0, refunded_fen=0, ship_name=address.name, ship_phone=address.phone, ship_address=address.address,
        expires_at=utcnow() + timedelta(minutes=ttl), stock_reserved=True,
    )
    subs: dict[int, SubOrder] = OrderedDict()
    for pid in sorted(items):
        product, qty = products[pid], items[pid]
        sub = subs.get(product.artisan_id)
        if sub is None:
            sub = SubOrder(artisan_id=product.artisan_id, artisan_name=product.artisan.display_name,
                           status="awaiting_shipment", subtotal_fen=0)
            subs[product.artisan_id] = sub
            order.sub_orders.append(sub)
        line = OrderLine(product_id=pid, title=product.title, unit_price_fen=product.price_fen, quantity=qty,
                         artisan_id=product.artisan_id, artisan_name=product.artisan.display_name)
        sub.lines.append(line)
        order.lines.append(line)
        sub.subtotal_fen += line.total_fen
    order.total_fen = sum(s.subtotal_fen for s in subs.values())
    if buyer is not None and db.engine.dialect.name == "postgresql":
        # One checkout at a time per buyer, so the limits below count every other one.
        db.session.execute(select(User.id).where(User.id == buyer.id).with_for_update())
    db.session.add(order)
    db.session.flush()  # the first write: takes SQLite's write lock before anything is counted
    _check_limits(buyer, items, products, guest_email)

    # Ascending product id, so two checkouts never lock the same rows in opposite order.
    for pid in sorted(items):
        qty = items[pid]
        result = db.session.execute(
            update(Product).where(Product.id == pid, Product.stock >= qty)
            .values(stock=Product.stock - qty).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            left = db.session.scalar(select(Product.stock).where(Product.id == pid)) or 0
            title = products[pid].title
            if left <= 0:
                raise OutOfStock(_l("Sorry, “%(title)s” has just sold out.", title=title))
            raise OutOfStock(_l("Only %(n)s of “%(title)s” left. Please change the quantity.", n=left, title=title))
    db.session.commit()
    log.info("order placed id=%s buyer=%s total_fen=%s lines=%s", order.id, buyer.id if buyer else "guest",
             order.total_fen, len(items))
    signals.order_placed.send(order)
    return order


def _check_limits(buyer: User | None, items: dict[int, int], products: dict[int, Product],
                  guest_email: str | None = None) -> None:
    """Hoarding limits, counted with the new order already written (inside its transaction);
    a guest's are counted by her email."""
    cfg = current_app.config
    mine = Order.buyer_id == buyer.id if buyer is not None else Order.guest_email == guest_email
    max_unpaid = int(cfg.get("MAX_UNPAID_ORDERS_PER_BUYER", 3))
    unpaid = db.session.scalar(
        select(func.count()).select_from(Order).where(mine, Order.status == "pending_payment")
    ) or 0
    if max_unpaid and unpaid > max_unpaid:
        db.session.rollback()
        raise LimitReached(_l("You already have %(n)s unpaid orders. Please pay or cancel one first.",
                              n=max_unpaid))
    max_units = int(cfg.get("MAX_UNPAID_UNITS_PER_PRODUCT", 10))
    if not max_units:
        return
    held = dict(db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(mine, Order.status == "pending_payment", OrderLine.product_id.in_(list(items)))
        .group_by(OrderLine.product_id)
    ).all())
    for pid, units in held.items():
        if units > max_units:
            db.session.rollback()
            raise LimitReached(_l("You can hold at most %(n)s of “%(title)s” in unpaid orders.",
                                  n=max_units, title=products[pid].title))
