"""The order and sub-order state machines: the one place that says which state may follow
which. Services call `transition`; nothing else assigns `status`."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    # A payment that arrives after the reservation expired is accepted only if the stock
    # can be reserved again (otherwise it is refunded at once).
    "cancelled": frozenset({"paid"}),
    "paid": frozenset({"partially_refunded", "refunded"}),
    "partially_refunded": frozenset({"partially_refunded", "refunded"}),
    "refunded": frozenset(),
}

SUB_ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "awaiting_shipment": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset(),
    "cancelled": frozenset(),
}

ORDER_STATE_LABELS = {
    "pending_payment": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "cancelled": _l("Cancelled"),
    "refunded": _l("Refunded"),
    "partially_refunded": _l("Partially refunded"),
}

SUB_ORDER_STATE_LABELS = {
    "awaiting_shipment": _l("Awaiting shipment"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
}


class InvalidTransition(ValueError):
    """A state change the machine does not allow; the message is safe to show."""


def can_transition(kind: str, current: str, new: str) -> bool:
    table = ORDER_TRANSITIONS if kind == "order" else SUB_ORDER_TRANSITIONS
    return new in table.get(current, frozenset())


def check_transition(kind: str, current: str, new_state: str) -> None:
    """Raise InvalidTransition unless `kind` ("order" or "sub_order") may go from `current` to `new_state`."""
    labels = ORDER_STATE_LABELS if kind == "order" else SUB_ORDER_STATE_LABELS
    if new_state not in labels:
        raise InvalidTransition(_l("Unknown state: %(state)s", state=new_state))
    if not can_transition(kind, current, new_state):
        raise InvalidTransition(_l(
            "This cannot be done: the order is “%(current)s” and cannot become “%(new)s”.",
            current=labels.get(current, current), new=labels[new_state],
        ))


def transition(obj, new_state: str) -> str:
    """Move an Order or SubOrder to `new_state`, or raise InvalidTransition. Returns the old state."""
    from market.models import Order

    kind = "order" if isinstance(obj, Order) else "sub_order"
    check_transition(kind, obj.status, new_state)
    old = obj.status
    obj.status = new_state
    return old
