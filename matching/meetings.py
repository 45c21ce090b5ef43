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
import random
import sys
import time

from .meetings_bounds import check_feasible, exact_slots, greedy_schedule, lp_bound
from .meetings_problem import (
    INPUT_KEYS,
    PARTICIPANT_KEYS,
    PREVIOUS_KEYS,
    REQUEST_KEYS,
    Meeting,
    Problem,
    Schedule,
    build_problem,
    parse_input,
)
from .meetings_search import SearchState, greedy_pass, local_search, value_function

__all__ = [
    "EXACT_MAX_VARIABLES", "INPUT_KEYS", "PARTICIPANT_KEYS", "PREVIOUS_KEYS", "REQUEST_KEYS", "Meeting", "Problem",
    "Schedule", "build_problem", "check_feasible", "greedy_schedule", "lp_bound", "main", "parse_input", "schedule",
    "solve",
]

# Inputs with at most this many (request, slot) pairs are solved exactly (HiGHS MIP, well
# under a second); larger ones by the search.
EXACT_MAX_VARIABLES = 600


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

    state = SearchState(len(problem.ids), S, n, problem.ea, problem.eb)
    pinned = [False] * n
    bonus = 0.0 if keep_bonus is None else float(keep_bonus)
    value = value_function(problem, prev_slot, bonus)
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
        optimum = exact_slots(problem, value, prev_slot, pinned, time_limit / 2)
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
        greedy_pass(problem, state, order, value)
        greedy_total = sum(value(e, state.slot[e]) for e in range(n) if state.slot[e] >= 0)
        if temperature is None:
            temperature = 0.05 * (sum(problem.weight) / n) if n else 0.0
        stats = local_search(problem, state, value, pinned, started + time_limit, rng,
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
