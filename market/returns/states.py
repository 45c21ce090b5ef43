"""The refund request's lifecycle: the one table of which state may follow which.
market.returns.operations moves a request only with a conditional UPDATE whose WHERE names
the states it may move from (`sources`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

TRANSITIONS: dict[str, frozenset[str]] = {
    # waiting for the artisan (until respond_by)
    "open": frozenset({"offered", "awaiting_return", "refunded", "declined", "escalated", "withdrawn"}),
    # the artisan offered a partial refund: the buyer takes it or sends it to staff
    "offered": frozenset({"refunded", "escalated", "declined", "withdrawn"}),
    # the artisan did not answer in time, or the buyer refused her offer: staff decide
    "escalated": frozenset({"awaiting_return", "refunded", "declined"}),
    # a return was accepted: refunded when the artisan (or staff) marks the parcel received
    "awaiting_return": frozenset({"refunded"}),
    "refunded": frozenset(),
    "declined": frozenset(),
    "withdrawn": frozenset(),
}

LABELS = {
    "open": _l("Waiting for the shop"),
    "offered": _l("Partial refund offered"),
    "escalated": _l("With the federation's staff"),
    "awaiting_return": _l("Waiting for the returned parcel"),
    "refunded": _l("Refund made"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}

KIND_LABELS = {"refund": _l("Refund"), "return": _l("Return and refund")}

REASON_LABELS = {
    "not_received": _l("Not received"),
    "damaged": _l("Arrived damaged"),
    "not_as_described": _l("Not as described"),
    "changed_mind": _l("Changed my mind"),
}


def sources(new_state: str) -> tuple[str, ...]:
    return tuple(sorted(s for s, targets in TRANSITIONS.items() if new_state in targets))
