"""The scheduler's input and output (matching.meetings): `Meeting`, `Schedule`, and the checked,
indexed `Problem` built from the caller's slots, tables, participants, requests and previous
meetings. Invalid input raises ValueError naming the field."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

INPUT_KEYS = {"slots", "tables", "participants", "requests", "previous"}
PARTICIPANT_KEYS = {"id", "available"}
REQUEST_KEYS = {"a", "b", "weight"}
PREVIOUS_KEYS = {"a", "b", "slot", "table"}


@dataclass(frozen=True)
class Meeting:
    a: str
    b: str
    slot: str
    table: int
    weight: float = 0.0

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "slot": self.slot, "table": self.table}


@dataclass
class Schedule:
    meetings: list[Meeting]
    unscheduled: list[tuple[str, str]]
    total_weight: float
    # Re-scheduling: previous meetings kept at their (slot, table), and those whose request
    # still exists but that moved (new placement, or None when no longer scheduled).
    kept: int = 0
    moved: list[tuple[Meeting, Meeting | None]] = field(default_factory=list)
    # Previous meetings that no longer correspond to a request (cancelled participant or request).
    dropped: list[Meeting] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"meetings": [m.to_dict() for m in self.meetings],
                "unscheduled": [{"a": a, "b": b} for a, b in self.unscheduled]}


# ---------------------------------------------------------------------------------------------
# Validation: everything the search relies on is checked here, with the field named.

@dataclass
class Problem:
    slots: list[str]
    tables: int
    ids: list[str]
    available: list[list[int]]            # participant row -> slot rows
    ea: list[int]                         # request row -> participant row of a
    eb: list[int]
    weight: list[float]
    cand: list[list[int]]                 # request row -> slots both are present in
    request_pairs: list[tuple[str, str]]  # as given
    previous: list[Meeting]


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_keys(obj, allowed: set[str], required: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: must be an object, got {type(obj).__name__}")
    missing = sorted(required - obj.keys())
    if missing:
        raise ValueError(f"{where}: missing {', '.join(repr(k) for k in missing)}")
    unknown = sorted(set(obj) - allowed, key=str)
    if unknown:
        raise ValueError(f"{where}: unknown field {', '.join(repr(k) for k in unknown)}")


def _check_id(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: must be a non-empty string, got {value!r}")
    return value


def build_problem(slots, tables, participants, requests, previous=None) -> Problem:
    """Checks the input and indexes it. Raises ValueError naming the first bad field."""
    if not isinstance(slots, list | tuple):
        raise ValueError("slots: must be a list of slot ids")
    slot_row: dict[str, int] = {}
    for i, s in enumerate(slots):
        _check_id(s, f"slots[{i}]")
        if s in slot_row:
            raise ValueError(f"slots[{i}]: duplicate slot {s!r}")
        slot_row[s] = i
    if not isinstance(tables, int) or isinstance(tables, bool) or tables < 1:
        raise ValueError(f"tables: must be a whole number of at least 1, got {tables!r}")

    if not isinstance(participants, list | tuple):
        raise ValueError("participants: must be a list")
    person_row: dict[str, int] = {}
    available: list[list[int]] = []
    for i, p in enumerate(participants):
        where = f"participants[{i}]"
        _check_keys(p, PARTICIPANT_KEYS, PARTICIPANT_KEYS, where)
        pid = _check_id(p["id"], f"{where}.id")
        if pid in person_row:
            raise ValueError(f"{where}.id: duplicate participant id {pid!r}")
        if not isinstance(p["available"], list | tuple):
            raise ValueError(f"{where}.available: must be a list of slot ids")
        rows = set()
        for j, s in enumerate(p["available"]):
            if not isinstance(s, str) or s not in slot_row:
                raise ValueError(f"{where}.available[{j}]: slot {s!r} is not in slots")
            rows.add(slot_row[s])
        person_row[pid] = len(available)
        available.append(sorted(rows))

    if not isinstance(requests, list | tuple):
        raise ValueError("requests: must be a list")
    seen_pairs: dict[frozenset, int] = {}
    ea, eb, weight, cand, pairs = [], [], [], [], []
    for i, r in enumerate(requests):
        where = f"requests[{i}]"
        _check_keys(r, REQUEST_KEYS, REQUEST_KEYS, where)
        for end in ("a", "b"):
            if not isinstance(r[end], str) or r[end] not in person_row:
                raise ValueError(f"{where}.{end}: unknown participant {r[end]!r}")
        a, b, w = r["a"], r["b"], r["weight"]
        if a == b:
            raise ValueError(f"{where}: a request with oneself ({a!r})")
        if not _is_number(w) or not math.isfinite(w) or w <= 0:
            raise ValueError(f"{where}.weight: must be a number > 0, got {w!r}")
        key = frozenset((a, b))
        if key in seen_pairs:
            raise ValueError(f"{where}: duplicate pair {a!r}-{b!r} "
                             f"(also requests[{seen_pairs[key]}])")
        seen_pairs[key] = i
        pa, pb = person_row[a], person_row[b]
        ea.append(pa)
        eb.append(pb)
        weight.append(float(w))
        cand.append(sorted(set(available[pa]) & set(available[pb])))
        pairs.append((a, b))

    kept_previous: list[Meeting] = []
    if previous is not None:
        if not isinstance(previous, list | tuple):
            raise ValueError("previous: must be a list of meetings")
        seen_previous: dict[frozenset, int] = {}
        for i, m in enumerate(previous):
            where = f"previous[{i}]"
            _check_keys(m, PREVIOUS_KEYS, PREVIOUS_KEYS, where)
            for end in ("a", "b", "slot"):
                _check_id(m[end], f"{where}.{end}")
            t = m["table"]
            if not isinstance(t, int) or isinstance(t, bool) or t < 1:
                raise ValueError(f"{where}.table: must be a whole number of at least 1, got {t!r}")
            key = frozenset((m["a"], m["b"]))
            if len(key) == 1:
                raise ValueError(f"{where}: a meeting with oneself ({m['a']!r})")
            if key in seen_previous:
                raise ValueError(f"{where}: duplicate pair {m['a']!r}-{m['b']!r} "
                                 f"(also previous[{seen_previous[key]}])")
            seen_previous[key] = i
            # Participants, requests and slots that are gone are not errors here: that is what
            # a re-schedule is for (a cancellation removes them). Such meetings are dropped.
            kept_previous.append(Meeting(m["a"], m["b"], m["slot"], t))

    return Problem(list(slots), tables, list(person_row), available, ea, eb, weight, cand,
                   pairs, kept_previous)


def parse_input(data) -> Problem:
    """The command's input document (already decoded from JSON) as a Problem."""
    if not isinstance(data, dict):
        raise ValueError("input: must be a JSON object")
    _check_keys(data, INPUT_KEYS, {"slots", "tables", "participants", "requests"}, "input")
    return build_problem(data["slots"], data["tables"], data["participants"], data["requests"],
                         data.get("previous"))
