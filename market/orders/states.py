"""The order and sub-order state machines: the one place that says which state may follow
which. Only market.orders.operations moves a state, always with a conditional UPDATE whose
WHERE names the states it may move from (see `sources`).

The order's status is its lifecycle only; money is in paid_fen / refunded_fen and in the
payment and refund records. A payment that succeeds after the order was cancelled does not
revive it: the money is refunded automatically and the order stays cancelled.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    # cancelled from paid: every parcel was refunded before it shipped.
    "paid": frozenset({"fulfilled", "cancelled"}),
    "fulfilled": frozenset({"completed"}),  # every parcel that was not cancelled has shipped
    "completed": frozenset(),  # every parcel that was not cancelled was delivered
    "cancelled": frozenset(),
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
    "fulfilled": _l("Shipped"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}

SUB_ORDER_STATE_LABELS = {
    "awaiting_shipment": _l("Awaiting shipment"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
}

REFUND_STATE_LABELS = {
    "pending": _l("In progress"),
    "succeeded": _l("Refunded"),
    "failed": _l("Failed"),
}

# Why an order was cancelled (Order.cancel_reason), shown in the reader's language.
CANCEL_REASONS = {
    "card_declined": _l("Your card was declined. Nothing was charged; please try another card."),
    "authentication_failed": _l("The card's security check (3-D Secure) was not completed. Nothing was charged."),
    "payment_failed": _l("The payment did not go through. Nothing was charged; please try again."),
    "payment_cancelled": _l("The payment was cancelled. Nothing was charged."),
    "cancelled_by_buyer": _l("You cancelled this order."),
    "expired": _l("The order was not paid in time, so its items went back on sale."),
    "refunded": _l("The order was cancelled and refunded in full."),
}


def cancel_reason_message(code: str | None):
    if not code:
        return ""
    return CANCEL_REASONS.get(code, CANCEL_REASONS["payment_failed"])


class InvalidTransition(ValueError):
    """A state change the machine does not allow; the message is safe to show."""


def can_transition(kind: str, current: str, new: str) -> bool:
    table = ORDER_TRANSITIONS if kind == "order" else SUB_ORDER_TRANSITIONS
    return new in table.get(current, frozenset())


def sources(kind: str, new_state: str) -> tuple[str, ...]:
    """Every state that may move to `new_state`: the WHERE of a conditional transition."""
    table = ORDER_TRANSITIONS if kind == "order" else SUB_ORDER_TRANSITIONS
    return tuple(sorted(s for s, targets in table.items() if new_state in targets))


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
