"""The case state machine: the one place that says which status may follow which. Services
call `check`/`transition`; nothing else assigns `HelpRequest.status`."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

TRANSITIONS: dict[str, frozenset[str]] = {
    # open: waiting for a mentor (suggestions shown, perhaps one asked).
    "open": frozenset({"matched", "closed_unresolved"}),
    # matched: a mentor accepted; the first follow-up moves the case on.
    "matched": frozenset({"in_progress", "resolved", "closed_unresolved"}),
    "in_progress": frozenset({"resolved", "closed_unresolved"}),
    "resolved": frozenset(),
    "closed_unresolved": frozenset(),
}

LABELS = {
    "open": _l("Open"),
    "matched": _l("Matched"),
    "in_progress": _l("In progress"),
    "resolved": _l("Resolved"),
    "closed_unresolved": _l("Closed, not resolved"),
}

INTRODUCTION_LABELS = {
    "suggested": _l("Suggested"),
    "asked": _l("Waiting for her answer"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("No longer needed"),
}


class InvalidTransition(ValueError):
    """A status change the machine does not allow; the message is safe to show."""


def can(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def check(current: str, new: str) -> None:
    if new not in LABELS:
        raise InvalidTransition(_l("Unknown state: %(state)s", state=new))
    if not can(current, new):
        raise InvalidTransition(_l("This cannot be done: the case is “%(current)s” and cannot become “%(new)s”.",
                                   current=LABELS.get(current, current), new=LABELS[new]))
