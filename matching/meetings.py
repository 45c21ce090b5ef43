"""The matchmaking-day scheduler (对接会排程): one-to-one meetings into (time slot, table).

Rules: no participant has two meetings in one slot, no table holds two meetings in one slot,
each participant is booked only in slots she said she is present, and the total value of the
meetings scheduled is as high as we can make it. A request's ``weight`` is its whole value:
the app weights a mutual request higher, so mutual requests come first through the weights.

Python::

    from matching.meetings import schedule
    result = schedule(["s1", "s2"], tables=40,
                      participants=[{"id": "p1", "available": ["s1", "s2"]}, ...],
                      requests=[{"a": "p1", "b": "p2", "weight": 2.5}, ...],
                      previous=None, time_limit=3.0, random_state=0)
    result.meetings        # [Meeting(a, b, slot, table, weight)], by slot then table
    result.unscheduled     # [(a, b)] in request order
    result.total_weight; result.moved; result.kept; result.to_dict()

Command::

    python -m matching.meetings INPUT.json --out OUTPUT.json [--time-limit 3] [--seed 0]
                                [--max-iterations N]

INPUT is ``{"slots": [...], "tables": 40, "participants": [{"id", "available"}],
"requests": [{"a", "b", "weight"}], "previous": [{"a", "b", "slot", "table"}]}`` ("previous"
optional); OUTPUT is ``{"meetings": [{"a", "b", "slot", "table"}], "unscheduled":
[{"a", "b"}]}``. Invalid input raises ValueError naming the field (the command prints it to
stderr and exits 2).

How. Tables are interchangeable within a slot, so the search only decides each request's slot
(a slot holds at most ``tables`` meetings) and table numbers are given at the end. A greedy
pass by weight places each request in the feasible slot that blocks the least; then a local
search with a time budget repeatedly takes an unscheduled request, puts it into one of its
slots, evicts what stands in its way (the two participants' meetings in that slot and, when the
slot is full, the meeting there that is cheapest or can move elsewhere), re-places the evicted
meetings wherever they fit (directly, or after moving one meeting out of the way), and keeps
the change when the total does not drop (or, early on, drops a little: simulated annealing).
The best schedule seen is returned. `lp_bound` gives the linear-programming relaxation's
optimum (an upper bound on any schedule) and `greedy_schedule` the plain greedy baseline;
`python -m matching.meetings_bench` compares the three.

Re-scheduling. With ``previous`` (the schedule already sent out), every previous meeting that
is still possible (the request is still there, both are still present in that slot, the slot
and the table still exist) is kept at its slot and table; with the default ``keep_bonus=None``
they are never moved, so only the meetings that became impossible move, which is the fewest
possible. Freed tables and slots are then filled with unscheduled requests (new meetings).
A finite ``keep_bonus`` instead lets the search move a previous meeting when that gains more
than ``keep_bonus`` in total weight. ``Schedule.moved`` lists the previous meetings whose
request still exists but whose (slot, table) changed or that could not be scheduled again.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field

import numpy as np

INPUT_KEYS = {"slots", "tables", "participants", "requests", "previous"}
PARTICIPANT_KEYS = {"id", "available"}
REQUEST_KEYS = {"a", "b", "weight"}
PREVIOUS_KEYS = {"a", "b", "slot", "table"}
# Inputs with at most this many (request, slot) pairs are solved exactly (HiGHS MIP, well
# under a second); larger ones by the search.
EXACT_MAX_VARIABLES = 600


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


# ---------------------------------------------------------------------------------------------
# The search state: each request's slot, who is busy when, how full each slot is.

class _State:
    def __init__(self, n_people: int, n_slots: int, n_requests: int, ea, eb):
        self.S = n_slots
        self.ea, self.eb = ea, eb
        self.slot = [-1] * n_requests
        self.busy = [-1] * (n_people * n_slots)   # (person, slot) -> request row or -1
        self.members: list[set[int]] = [set() for _ in range(n_slots)]

    def place(self, e: int, s: int) -> None:
        S = self.S
        self.slot[e] = s
        self.busy[self.ea[e] * S + s] = e
        self.busy[self.eb[e] * S + s] = e
        self.members[s].add(e)

    def remove(self, e: int) -> None:
        S, s = self.S, self.slot[e]
        self.slot[e] = -1
        self.busy[self.ea[e] * S + s] = -1
        self.busy[self.eb[e] * S + s] = -1
        self.members[s].discard(e)

    def free(self, e: int, s: int, tables: int) -> bool:
        S = self.S
        return (len(self.members[s]) < tables and self.busy[self.ea[e] * S + s] < 0
                and self.busy[self.eb[e] * S + s] < 0)


def _value(problem: Problem, prev_slot: list[int], keep_bonus: float):
    w = problem.weight

    def value(e: int, s: int) -> float:
        return w[e] + keep_bonus if s >= 0 and s == prev_slot[e] else (w[e] if s >= 0 else 0.0)
    return value


def _greedy(problem: Problem, state: _State, order, value) -> None:
    """Places each request of `order` in its feasible slot that keeps most options open."""
    T, S = problem.tables, len(problem.slots)
    busy, members = state.busy, state.members
    # How many still-unplaced requests of each person could use each slot: placing a meeting
    # where a person is in demand costs her options, so prefer slots where she is not.
    demand = [0] * (len(problem.ids) * S)
    for e in order:
        if state.slot[e] < 0:
            for s in problem.cand[e]:
                demand[problem.ea[e] * S + s] += 1
                demand[problem.eb[e] * S + s] += 1
    for e in order:
        if state.slot[e] >= 0:
            continue
        a, b = problem.ea[e] * S, problem.eb[e] * S
        best, best_key = -1, None
        for s in problem.cand[e]:
            if busy[a + s] >= 0 or busy[b + s] >= 0 or len(members[s]) >= T:
                continue
            key = (-value(e, s), demand[a + s] + demand[b + s], len(members[s]))
            if best_key is None or key < best_key:
                best, best_key = s, key
        for s in problem.cand[e]:
            demand[a + s] -= 1
            demand[b + s] -= 1
        if best >= 0:
            state.place(e, best)


def _local_search(problem: Problem, state: _State, value, pinned: list[bool],
                  deadline: float, rng: random.Random, temperature: float,
                  max_iterations: int | None) -> dict:
    T, S = problem.tables, len(problem.slots)
    cand, ea, eb, w = problem.cand, problem.ea, problem.eb, problem.weight
    busy, members, slot = state.busy, state.members, state.slot
    n = len(w)
    cand_mask = [sum(1 << s for s in c) for c in cand]
    incident: list[list[int]] = [[] for _ in problem.ids]
    for e in range(n):
        if cand[e]:
            incident[ea[e]].append(e)
            incident[eb[e]].append(e)
    total = sum(value(e, slot[e]) for e in range(n) if slot[e] >= 0)
    best_total, best_slots = total, list(slot)

    class IndexedSet:
        """A list with O(1) add, discard and random choice."""
        def __init__(self, items):
            self.items = list(items)
            self.where = {x: i for i, x in enumerate(self.items)}

        def add(self, x):
            if x not in self.where:
                self.where[x] = len(self.items)
                self.items.append(x)

        def discard(self, x):
            i = self.where.pop(x, None)
            if i is not None:
                last = self.items.pop()
                if last != x:
                    self.items[i] = last
                    self.where[last] = i

    # What the moves draw from: unscheduled requests that have a common slot, and scheduled
    # requests that may move (not pinned, more than one possible slot).
    pool = IndexedSet(e for e in range(n) if slot[e] < 0 and cand[e])
    movable = IndexedSet(e for e in range(n) if slot[e] >= 0 and not pinned[e]
                         and len(cand[e]) > 1)

    log: list[tuple[int, int]] = []   # (request, slot before) for undo

    def move(e, s):
        log.append((e, slot[e]))
        if slot[e] >= 0:
            state.remove(e)
        if s >= 0:
            state.place(e, s)

    def can_move_out(g, s) -> int:
        """A free slot other than s where g can go at no loss, or -1."""
        ag, bg = ea[g] * S, eb[g] * S
        for s2 in cand[g]:
            if s2 != s and len(members[s2]) < T and busy[ag + s2] < 0 and busy[bg + s2] < 0 \
                    and value(g, s2) >= value(g, s):
                return s2
        return -1

    def relocate(f, keep) -> int:
        """Puts the unplaced request f into a free slot, or frees one by moving a single
        meeting (not `keep`, the one just placed) elsewhere; returns the slot or -1."""
        af, bf = ea[f] * S, eb[f] * S
        options = cand[f]
        for s in options:
            if len(members[s]) < T and busy[af + s] < 0 and busy[bf + s] < 0:
                move(f, s)
                return s
        for s in options:
            x, y = busy[af + s], busy[bf + s]
            if x >= 0 and y >= 0:
                continue
            if x < 0 and y < 0:    # only the table is missing: move another meeting out
                for g in members[s]:
                    if not pinned[g] and g != keep:
                        s2 = can_move_out(g, s)
                        if s2 >= 0:
                            move(g, s2)
                            move(f, s)
                            return s
                continue
            g = x if x >= 0 else y
            if not pinned[g] and g != keep:
                s2 = can_move_out(g, s)
                if s2 >= 0:
                    move(g, s2)
                    move(f, s)
                    return s
        return -1

    def fill(person, s) -> float:
        """Places the most valuable unscheduled request of `person` that fits in slot s."""
        if busy[person * S + s] >= 0 or len(members[s]) >= T:
            return 0.0
        bit = 1 << s
        best, best_value = -1, 0.0
        for f in incident[person]:
            if slot[f] < 0 and cand_mask[f] & bit and busy[ea[f] * S + s] < 0 \
                    and busy[eb[f] * S + s] < 0:
                v = value(f, s)
                if v > best_value:
                    best, best_value = f, v
        if best >= 0:
            move(best, s)
        return best_value

    iterations = accepted = last_gain = 0
    # Stop early when the best has not improved for a long while (small inputs finish fast).
    stall = max(2000, 200 * n)
    limit = math.inf if max_iterations is None else max_iterations
    started = time.perf_counter()
    span = max(deadline - started, 1e-9)
    temp = temperature
    while (pool.items or movable.items) and iterations < limit and iterations - last_gain < stall:
        iterations += 1
        if iterations & 63 == 1:
            # Cool down linearly over the budget: time, or iterations when they are capped.
            if max_iterations is None:
                now = time.perf_counter()
                if now >= deadline:
                    break
                done = (now - started) / span
            else:
                done = iterations / max_iterations
            temp = temperature * max(0.0, 1.0 - done)
        # Mostly insert an unscheduled request; sometimes move a scheduled one.
        if pool.items and (not movable.items or rng.random() < 0.7):
            e = pool.items[rng.randrange(len(pool.items))]
        else:
            e = movable.items[rng.randrange(len(movable.items))]
        options = cand[e]
        s = options[rng.randrange(len(options))]
        old = slot[e]
        if s == old:
            continue
        a, b = ea[e] * S, eb[e] * S
        blockers = {x for x in (busy[a + s], busy[b + s]) if x >= 0}
        if any(pinned[x] for x in blockers):
            continue
        log.clear()
        delta = 0.0
        freed = []
        if old >= 0:
            delta -= value(e, old)
            move(e, -1)
            freed += [(ea[e], old), (eb[e], old)]
        evicted = []
        for x in blockers:
            delta -= value(x, s)
            move(x, -1)
            evicted.append(x)
        if len(members[s]) >= T:
            # Slot full: first try to move a meeting out of it at no loss, else evict the cheapest.
            out, cheapest, cheapest_value = None, -1, math.inf
            for g in members[s]:
                if pinned[g]:
                    continue
                s2 = can_move_out(g, s)
                if s2 >= 0:
                    out = (g, s2)
                    break
                v = value(g, s)
                if v < cheapest_value:
                    cheapest, cheapest_value = g, v
            if out:
                move(*out)
            elif cheapest >= 0:
                delta -= cheapest_value
                move(cheapest, -1)
                evicted.append(cheapest)
            else:
                for x, before in reversed(log):
                    move(x, before)
                continue
        move(e, s)
        delta += value(e, s)
        evicted.sort(key=lambda x: -w[x])
        for x in evicted:
            for person in (ea[x], eb[x]):
                if person != ea[e] and person != eb[e]:
                    freed.append((person, s))
            s2 = relocate(x, e)
            if s2 >= 0:
                delta += value(x, s2)
        for person, t in freed:
            delta += fill(person, t)
        if delta >= -1e-12 or (temp > 0 and rng.random() < math.exp(delta / temp)):
            accepted += 1
            total += delta
            for x in {x for x, _ in log}:
                if slot[x] >= 0:
                    pool.discard(x)
                    if not pinned[x] and len(cand[x]) > 1:
                        movable.add(x)
                else:
                    movable.discard(x)
                    if cand[x]:
                        pool.add(x)
            if total > best_total + 1e-9:
                best_total, best_slots = total, list(slot)
                last_gain = iterations
        else:
            for x, before in reversed(log):
                move(x, before)
    # Return the best schedule seen.
    for e in range(n):
        if slot[e] >= 0:
            state.remove(e)
    for e in range(n):
        if best_slots[e] >= 0:
            state.place(e, best_slots[e])
    return {"iterations": iterations, "accepted": accepted,
            "search_seconds": time.perf_counter() - started}


def solve(problem: Problem, *, time_limit: float = 3.0, random_state=0,
          keep_bonus: float | None = None, temperature: float | None = None,
          max_iterations: int | None = None, exact="auto") -> Schedule:
    """Schedules a checked Problem (see `schedule`)."""
    started = time.perf_counter()
    S, T = len(problem.slots), problem.tables
    n = len(problem.weight)
    rng = random.Random(random_state)
    slot_row = {s: i for i, s in enumerate(problem.slots)}
    request_row = {frozenset(p): i for i, p in enumerate(problem.request_pairs)}

    # Previous meetings: which request, which slot and table, and whether they can stay.
    prev_slot = [-1] * n
    prev_table = [0] * n
    prev_meeting: dict[int, Meeting] = {}
    dropped: list[Meeting] = []
    for m in problem.previous:
        e = request_row.get(frozenset((m.a, m.b)))
        if e is None:
            dropped.append(m)
            continue
        prev_meeting[e] = m
        s = slot_row.get(m.slot, -1)
        if s >= 0 and s in problem.cand[e] and m.table <= T:
            prev_slot[e], prev_table[e] = s, m.table

    state = _State(len(problem.ids), S, n, problem.ea, problem.eb)
    pinned = [False] * n
    bonus = 0.0 if keep_bonus is None else float(keep_bonus)
    value = _value(problem, prev_slot, bonus)
    # Keep what can be kept: heaviest first, so that when two previous meetings collide (which
    # a schedule this function produced never has) the more valuable one stays.
    taken_tables = set()
    for e in sorted((e for e in range(n) if prev_slot[e] >= 0), key=lambda e: -problem.weight[e]):
        s = prev_slot[e]
        if (s, prev_table[e]) not in taken_tables and state.free(e, s, T):
            state.place(e, s)
            taken_tables.add((s, prev_table[e]))
            pinned[e] = keep_bonus is None
        else:
            prev_slot[e] = -1

    optimum = None
    n_variables = sum(len(c) for c in problem.cand)
    if exact is True or (exact == "auto" and n_variables <= EXACT_MAX_VARIABLES):
        optimum = _exact(problem, value, prev_slot, pinned, time_limit / 2)
    if optimum is not None:
        for e in range(n):
            if state.slot[e] >= 0:
                state.remove(e)
        for e, s in enumerate(optimum):
            if s >= 0:
                state.place(e, s)
        stats = {"method": "exact", "iterations": 0}
    else:
        order = sorted(range(n), key=lambda e: (-problem.weight[e], e))
        _greedy(problem, state, order, value)
        greedy_total = sum(value(e, state.slot[e]) for e in range(n) if state.slot[e] >= 0)
        if temperature is None:
            temperature = 0.05 * (sum(problem.weight) / n) if n else 0.0
        stats = _local_search(problem, state, value, pinned, started + time_limit, rng,
                              temperature, max_iterations)
        stats.update(method="search", greedy_value=greedy_total)

    # Tables: kept meetings keep theirs; the others take the free numbers from 1 up.
    meetings_by_slot: list[list[tuple[int, int]]] = [[] for _ in range(S)]
    for s in range(S):
        members = sorted(state.members[s])
        used = {prev_table[e] for e in members if prev_slot[e] == s}
        free_tables = (t for t in range(1, T + 1) if t not in used)
        for e in members:
            table = prev_table[e] if prev_slot[e] == s else next(free_tables)
            meetings_by_slot[s].append((table, e))

    meetings, placed = [], {}
    for s in range(S):
        for table, e in sorted(meetings_by_slot[s]):
            a, b = problem.request_pairs[e]
            m = Meeting(a, b, problem.slots[s], table, problem.weight[e])
            meetings.append(m)
            placed[e] = m
    unscheduled = [problem.request_pairs[e] for e in range(n) if state.slot[e] < 0]
    kept, moved = 0, []
    for e, old in prev_meeting.items():
        new = placed.get(e)
        if new is not None and new.slot == old.slot and new.table == old.table:
            kept += 1
        else:
            moved.append((old, new))
    stats["seconds"] = time.perf_counter() - started
    return Schedule(meetings, unscheduled, sum(m.weight for m in meetings), kept, moved,
                    dropped, stats)


def schedule(slots, tables, participants, requests, previous=None, *, time_limit: float = 3.0,
             random_state=0, keep_bonus: float | None = None,
             max_iterations: int | None = None, exact="auto") -> Schedule:
    """Schedules the meetings; see the module docstring. `participants` are dicts with "id"
    and "available", `requests` dicts with "a", "b" and "weight", `previous` dicts with "a",
    "b", "slot" and "table".

    `time_limit` bounds the whole call (seconds, wall clock); the search also stops once it
    has long stopped improving. With `max_iterations` the search stops after that many moves
    instead of watching the clock, so the result depends only on the input and `random_state`.
    `exact`: "auto" (default) solves small inputs (at most EXACT_MAX_VARIABLES request-slot
    pairs) to proven optimality with HiGHS' integer programming, and searches if that takes
    more than half the time limit; False always searches; True tries the exact solver whatever
    the size. `keep_bonus`: see "Re-scheduling" in the module docstring.

    Raises ValueError naming the bad field."""
    problem = build_problem(slots, tables, participants, requests, previous)
    return solve(problem, time_limit=time_limit, random_state=random_state,
                 keep_bonus=keep_bonus, max_iterations=max_iterations, exact=exact)


# ---------------------------------------------------------------------------------------------
# Baseline and bound, for the benchmark and the tests.

def greedy_schedule(problem: Problem) -> float:
    """The plain greedy baseline: requests by weight, each into its first feasible slot.
    Returns the total weight scheduled."""
    S, T = len(problem.slots), problem.tables
    state = _State(len(problem.ids), S, len(problem.weight), problem.ea, problem.eb)
    total = 0.0
    for e in sorted(range(len(problem.weight)), key=lambda e: -problem.weight[e]):
        for s in problem.cand[e]:
            if state.free(e, s, T):
                state.place(e, s)
                total += problem.weight[e]
                break
    return total


def _lp_model(problem: Problem):
    """x[e, s] in [0, 1] is request e in slot s, one variable per slot both are present in;
    rows: each request at most once, each person at most once per slot, each slot at most
    `tables` meetings. Returns (request per variable, slot per variable, matrix, row limits)."""
    from scipy.sparse import coo_matrix

    S, n_people, n = len(problem.slots), len(problem.ids), len(problem.weight)
    var_request = np.array([e for e in range(n) for _ in problem.cand[e]], dtype=np.int64)
    var_slot = np.array([s for e in range(n) for s in problem.cand[e]], dtype=np.int64)
    ea, eb = np.asarray(problem.ea, dtype=np.int64), np.asarray(problem.eb, dtype=np.int64)
    rows = np.concatenate([var_request, n + ea[var_request] * S + var_slot,
                           n + eb[var_request] * S + var_slot, n + n_people * S + var_slot])
    cols = np.tile(np.arange(len(var_request)), 4)
    matrix = coo_matrix((np.ones(len(rows)), (rows, cols)),
                        shape=(n + n_people * S + S, len(var_request))).tocsr()
    upper = np.concatenate([np.ones(n + n_people * S), np.full(S, float(problem.tables))])
    return var_request, var_slot, matrix, upper


def lp_bound(problem: Problem) -> float:
    """The optimum of the linear-programming relaxation (HiGHS): an upper bound on the total
    weight of any schedule (see `_lp_model`)."""
    from scipy.optimize import linprog

    var_request, _, matrix, upper = _lp_model(problem)
    if len(var_request) == 0:
        return 0.0
    cost = -np.asarray(problem.weight)[var_request]
    # The interior-point method: the dual simplex takes ten times longer on these LPs when
    # tables are plentiful (many equal-weight alternatives, a degenerate problem).
    result = linprog(cost, A_ub=matrix, b_ub=upper, bounds=(0, 1), method="highs-ipm")
    if result.status != 0:
        raise RuntimeError(f"LP relaxation failed: {result.message}")
    return -float(result.fun)


def _exact(problem: Problem, value, prev_slot: list[int], pinned: list[bool],
           time_limit: float) -> list[int] | None:
    """The proven optimum by HiGHS' integer programming, as each request's slot (-1: none), or
    None when it is not proven within `time_limit`. Only for small inputs: at full size the
    search is faster and, when people rather than tables are the limit, much better."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    var_request, var_slot, matrix, upper = _lp_model(problem)
    n = len(problem.weight)
    if len(var_request) == 0:
        return [-1] * n
    cost = -np.array([value(e, s) for e, s in zip(var_request.tolist(), var_slot.tolist(),
                                                    strict=True)])
    lower = np.array([1.0 if pinned[e] and s == prev_slot[e] else 0.0
                      for e, s in zip(var_request.tolist(), var_slot.tolist(), strict=True)])
    result = milp(cost, constraints=LinearConstraint(matrix, -np.inf, upper),
                  integrality=np.ones(len(cost)), bounds=Bounds(lower, 1.0),
                  options={"time_limit": max(time_limit, 0.01)})
    if result.status != 0 or result.x is None:
        return None
    slots = [-1] * n
    for k in np.flatnonzero(result.x > 0.5):
        slots[int(var_request[k])] = int(var_slot[k])
    return slots


def check_feasible(problem: Problem, meetings: list[Meeting]) -> list[str]:
    """Every rule a schedule must keep; returns the violations (empty when feasible)."""
    errors = []
    available = {pid: {problem.slots[s] for s in problem.available[i]}
                 for i, pid in enumerate(problem.ids)}
    requested = {frozenset(p) for p in problem.request_pairs}
    seen_person, seen_table, seen_pair = set(), set(), set()
    for m in meetings:
        pair = frozenset((m.a, m.b))
        if pair not in requested:
            errors.append(f"{m}: not requested")
        if pair in seen_pair:
            errors.append(f"{m}: pair scheduled twice")
        seen_pair.add(pair)
        if m.slot not in problem.slots or not 1 <= m.table <= problem.tables:
            errors.append(f"{m}: no such slot or table")
        if (m.slot, m.table) in seen_table:
            errors.append(f"{m}: table taken")
        seen_table.add((m.slot, m.table))
        for person in (m.a, m.b):
            if m.slot not in available.get(person, ()):
                errors.append(f"{m}: {person} absent")
            if (person, m.slot) in seen_person:
                errors.append(f"{m}: {person} double-booked")
            seen_person.add((person, m.slot))
    return errors


# ---------------------------------------------------------------------------------------------
# Command line.

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m matching.meetings",
        description="Schedule one-to-one meetings into (slot, table). See the module docstring.")
    parser.add_argument("input", help="INPUT.json")
    parser.add_argument("--out", required=True, help="OUTPUT.json")
    parser.add_argument("--time-limit", type=float, default=3.0,
                        help="seconds for the local search (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the search")
    parser.add_argument("--max-iterations", type=int, default=None,
                        help="stop the search after this many moves instead of at the time "
                             "limit: the same input and seed then give the same schedule")
    args = parser.parse_args(argv)
    try:
        with open(args.input, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: {args.input} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        problem = parse_input(data)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = solve(problem, time_limit=args.time_limit, random_state=args.seed,
                   max_iterations=args.max_iterations)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result.to_dict(), fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    summary = (f"scheduled {len(result.meetings)} of {len(problem.weight)} requests, "
               f"total weight {result.total_weight:g}")
    if problem.previous:
        summary += (f"; previous meetings: {result.kept} kept, {len(result.moved)} moved, "
                    f"{len(result.dropped)} dropped (request gone)")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
