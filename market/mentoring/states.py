"""The three state machines of the help desk, the one place that says which status may
follow which: cases, difficulties and introductions. Services call `check`/`can` with the
table; nothing else decides whether a status may change."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    # proposed: something suggests she may need help; nobody has talked to her yet.
    "proposed": frozenset({"open", "dismissed"}),
    # open: waiting for a mentor (suggestions shown, perhaps one asked).
    "open": frozenset({"matched", "closed_unresolved"}),
    # matched: a mentor accepted; the first follow-up moves the case on. Back to open when
    # staff withdraw or reassign the mentor.
    "matched": frozenset({"in_progress", "closure_proposed", "resolved", "closed_unresolved", "open"}),
    "in_progress": frozenset({"closure_proposed", "resolved", "closed_unresolved", "open"}),
    # closure_proposed: the mentor says it is done; she confirms (or staff verify) or not yet.
    "closure_proposed": frozenset({"resolved", "in_progress", "closed_unresolved", "open"}),
    # Closed cases are reopened by staff, with a reason.
    "resolved": frozenset({"in_progress", "open"}),
    "closed_unresolved": frozenset({"in_progress", "open"}),
    "dismissed": frozenset(),
}

CASE_LABELS = {
    "proposed": _l("Proposed"),
    "open": _l("Open"),
    "matched": _l("Matched"),
    "in_progress": _l("In progress"),
    "closure_proposed": _l("Closure proposed"),
    "resolved": _l("Resolved"),
    "closed_unresolved": _l("Closed, not resolved"),
    "dismissed": _l("Dismissed"),
}
# Cases still being worked on (counted as active, checked for being overdue).
ACTIVE_CASE_STATES = ("open", "matched", "in_progress", "closure_proposed")
# Cases with a mentor at work: she holds a place of her capacity for each.
MENTORED_CASE_STATES = ("matched", "in_progress", "closure_proposed")
CLOSED_CASE_STATES = ("resolved", "closed_unresolved", "dismissed")

DIFFICULTY_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_hand", "solved", "unsolvable"}),
    "in_hand": frozenset({"open", "solved", "unsolvable"}),
    "solved": frozenset({"in_hand"}),
    "unsolvable": frozenset({"in_hand"}),
}

DIFFICULTY_LABELS = {
    "open": _l("Not yet tackled"),
    "in_hand": _l("In hand"),
    "solved": _l("Solved"),
    "unsolvable": _l("Cannot be solved here"),
}

INTRODUCTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "suggested": frozenset({"asked", "superseded", "withdrawn"}),
    # An ask is answered, or expires after MENTORING_ASK_HOURS, or staff withdraw it.
    "asked": frozenset({"accepted", "declined", "expired", "withdrawn", "superseded"}),
    # An accepted mentor is released when staff reassign the case or withdraw her.
    "accepted": frozenset({"released"}),
    "declined": frozenset(),
    "expired": frozenset(),
    "withdrawn": frozenset(),
    # No longer needed once a mentor accepted; needed again when she is released.
    "superseded": frozenset({"suggested"}),
    "released": frozenset(),
}

INTRODUCTION_LABELS = {
    "suggested": _l("Suggested"),
    "asked": _l("Waiting for her answer"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Not answered in time"),
    "superseded": _l("No longer needed"),
    "released": _l("Released from the case"),
}

# What status lines of the case log say (the case's statuses, and escalations).
STATUS_LOG_LABELS = {
    **CASE_LABELS,
    "escalated_1": _l("Overdue: the staff of its area were told"),
    "escalated_2": _l("Still overdue: a supervisor was told"),
}

# Kept for code written against the single table of the older help desk.
TRANSITIONS = CASE_TRANSITIONS
LABELS = CASE_LABELS

_TABLES = {
    "case": (CASE_TRANSITIONS, CASE_LABELS),
    "difficulty": (DIFFICULTY_TRANSITIONS, DIFFICULTY_LABELS),
    "introduction": (INTRODUCTION_TRANSITIONS, INTRODUCTION_LABELS),
}


class InvalidTransition(ValueError):
    """A status change the machine does not allow; the message is safe to show."""


def can(current: str, new: str, machine: str = "case") -> bool:
    transitions, _labels = _TABLES[machine]
    return new in transitions.get(current, frozenset())


def check(current: str, new: str, machine: str = "case") -> None:
    _transitions, labels = _TABLES[machine]
    if new not in labels:
        raise InvalidTransition(_l("Unknown state: %(state)s", state=new))
    if not can(current, new, machine):
        raise InvalidTransition(_l("This cannot be done: the case is “%(current)s” and cannot become “%(new)s”.",
                                   current=labels.get(current, current), new=labels[new]))


def sources_of(new: str, machine: str = "case") -> tuple[str, ...]:
    """Every status that may become `new` (for conditional updates)."""
    transitions, _labels = _TABLES[machine]
    return tuple(s for s, targets in transitions.items() if new in targets)
