"""The cart: guests keep it in the session, logged-in buyers in the database; the guest cart
is merged into the stored one at login. Quantities are checked against stock whenever they
change, and again, atomically, when the order is placed."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import g, has_request_context, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from market.catalog.queries import public_products
from market.extensions import db
from market.models import CartItem, Product

log = logging.getLogger(__name__)
SESSION_KEY = "cart"
MAX_QUANTITY = 99
MAX_LINES = 50


class CartError(ValueError):
    """A cart rule was broken; the message is safe to show."""


# ---- where the cart lives ------------------------------------------------------------

class SessionCart:
    """{product_id: quantity} in the signed session cookie."""

    def items(self) -> dict[int, int]:
        raw = session.get(SESSION_KEY) or {}
        out = {}
        for k, v in raw.items():
            try:
                out[int(k)] = int(v)
            except (TypeError, ValueError):
                continue
        return out

    def set(self, product_id: int, quantity: int) -> None:
        _cart_changed()
        raw = dict(session.get(SESSION_KEY) or {})
        raw[str(product_id)] = quantity
        session[SESSION_KEY] = raw

    def remove(self, product_id: int) -> None:
        _cart_changed()
        raw = dict(session.get(SESSION_KEY) or {})
        raw.pop(str(product_id), None)
        session[SESSION_KEY] = raw

    def clear(self) -> None:
        _cart_changed()
        session.pop(SESSION_KEY, None)


class StoredCart:
    def __init__(self, user_id: int):
        self.user_id = user_id

    def items(self) -> dict[int, int]:
        rows = db.session.execute(
            select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == self.user_id).order_by(CartItem.id)
        )
        return {pid: qty for pid, qty in rows}

    def _where(self, product_id: int):
        return (CartItem.user_id == self.user_id, CartItem.product_id == product_id)

    def _insert(self, product_id: int, quantity: int) -> bool:
        """A new line; False when another request (a double click, a second tab) made it first."""
        try:
            db.session.add(CartItem(user_id=self.user_id, product_id=product_id, quantity=quantity))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return False
        return True

    def set(self, product_id: int, quantity: int) -> None:
        for _attempt in range(2):
            done = db.session.execute(update(CartItem).where(*self._where(product_id)).values(quantity=quantity)
                                      .execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            if done or self._insert(product_id, quantity):
                return

    def add(self, product_id: int, quantity: int, limit: int) -> bool:
        """Add `quantity` in one statement, so two adds at once both count and neither fails;
        False (nothing changed) when the line would pass `limit`."""
        for _attempt in range(3):
            done = db.session.execute(
                update(CartItem).where(*self._where(product_id), CartItem.quantity + quantity <= limit)
                .values(quantity=CartItem.quantity + quantity).execution_options(synchronize_session=False)
            ).rowcount
            db.session.commit()
            if done:
                return True
            current = db.session.scalar(select(CartItem.quantity).where(*self._where(product_id)))
            if current is not None:
                if current + quantity > limit:
                    return False
                continue  # the line was made by another request since the update: add to it
            if quantity > limit:
                return False
            if self._insert(product_id, quantity):
                return True
        return False

    def remove(self, product_id: int) -> None:
        db.session.execute(delete(CartItem).where(CartItem.user_id == self.user_id, CartItem.product_id == product_id))
        db.session.commit()

    def clear(self) -> None:
        db.session.execute(delete(CartItem).where(CartItem.user_id == self.user_id))
        db.session.commit()


def cart_for(user) -> SessionCart | StoredCart:
    if user is not None and getattr(user, "is_authenticated", False):
        return StoredCart(user.id)
    return SessionCart()


# ---- what the cart shows ---------------------------------------------------------------

@dataclass
class CartLine:
    product: Product
    quantity: int

    @property
    def total_fen(self) -> int:
        return self.product.price_fen * self.quantity

    @property
    def short_by(self) -> int:
        return max(0, self.quantity - self.product.stock)


@dataclass
class CartView:
    lines: list[CartLine] = field(default_factory=list)
    # Products that left the catalogue since they were added (removed from the cart).
    dropped: int = 0

    @property
    def total_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def problems(self) -> list[CartLine]:
        return [line for line in self.lines if line.short_by]

    def by_artisan(self) -> list[tuple]:
        groups: dict[int, list[CartLine]] = {}
        for line in self.lines:
            groups.setdefault(line.product.artisan_id, []).append(line)
        return [(lines[0].product.artisan, lines) for lines in groups.values()]


def _buyable(product_ids) -> dict[int, Product]:
    if not product_ids:
        return {}
    stmt = public_products().where(Product.id.in_(list(product_ids))).options(
        joinedload(Product.artisan), selectinload(Product.images)
    )
    return {p.id: p for p in db.session.scalars(stmt).unique()}


def view_cart(user) -> CartView:
    store = cart_for(user)
    items = store.items()
    products = _buyable(items.keys())
    view = CartView()
    for pid, qty in items.items():
        product = products.get(pid)
        if product is None:
            store.remove(pid)
            view.dropped += 1
            continue
        view.lines.append(CartLine(product, qty))
    return view


def count_items(user) -> int:
    """How many items are in her cart: counted by the statement that loaded her
    (market.auth.load_user) unless the cart changed since in this request."""
    if has_request_context() and getattr(user, "is_authenticated", False):
        known = g.get("cart_count")
        if known is not None and known[0] == user.id:
            return known[1]
    return sum(cart_for(user).items().values())


def _cart_changed() -> None:
    if has_request_context():
        g.pop("cart_count", None)


def _check_quantity(product: Product, quantity: int) -> None:
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise CartError(_l("Choose a quantity between 1 and %(n)s.", n=MAX_QUANTITY))
    if product.stock <= 0:
        raise CartError(_l("“%(title)s” is sold out.", title=product.title))
    if quantity > product.stock:
        raise CartError(_l("Only %(n)s of “%(title)s” left.", n=product.stock, title=product.title))


def add_item(user, product_id: int, quantity: int = 1) -> Product:
    product = _buyable([product_id]).get(product_id)
    if product is None:
        raise CartError(_l("This product is not available."))
    store = cart_for(user)
    items = store.items()
    if product_id not in items and len(items) >= MAX_LINES:
        raise CartError(_l("Your cart is full."))
    _check_quantity(product, items.get(product_id, 0) + quantity)
    if isinstance(store, StoredCart):
        if not store.add(product_id, quantity, min(product.stock, MAX_QUANTITY)):
            # Another request added to the same line meanwhile: say what the limit is now.
            _check_quantity(product, store.items().get(product_id, 0) + quantity)
            raise CartError(_l("Choose a quantity between 1 and %(n)s.", n=MAX_QUANTITY))
    else:
        store.set(product_id, items.get(product_id, 0) + quantity)
    return product


def set_quantity(user, product_id: int, quantity: int) -> None:
    store = cart_for(user)
    if quantity <= 0:
        store.remove(product_id)
        return
    product = _buyable([product_id]).get(product_id)
    if product is None:
        store.remove(product_id)
        raise CartError(_l("This product is not available."))
    _check_quantity(product, quantity)
    store.set(product_id, quantity)


def remove_item(user, product_id: int) -> None:
    cart_for(user).remove(product_id)


def clear(user) -> None:
    cart_for(user).clear()


def merge_guest_cart(user) -> None:
    """At login: add the guest cart to the stored one, capped at the stock."""
    guest = SessionCart()
    items = guest.items()
    if not items:
        return
    stored = StoredCart(user.id)
    existing = stored.items()
    products = _buyable(items.keys())
    for pid, qty in items.items():
        product = products.get(pid)
        if product is None or product.stock <= 0:
            continue
        merged = min(existing.get(pid, 0) + qty, product.stock, MAX_QUANTITY)
        stored.set(pid, merged)
    guest.clear()
    log.info("guest cart merged user=%s lines=%s", user.id, len(items))


def restore_lines(user_id: int | None, lines: dict[int, int]) -> None:
    """Put the lines of an unpaid order back into the buyer's stored cart (after a decline);
    a guest's order (no account) back into the session cart of the browser asking, if any."""
    if user_id is None:
        from flask import has_request_context

        if not has_request_context():
            return
        guest = SessionCart()
        existing = guest.items()
        for pid, qty in lines.items():
            guest.set(pid, min(max(existing.get(pid, 0), qty), MAX_QUANTITY))
        return
    stored = StoredCart(user_id)
    existing = stored.items()
    for pid, qty in lines.items():
        stored.set(pid, min(max(existing.get(pid, 0), qty), MAX_QUANTITY))
