"""Baseline and bounds for the scheduler (matching.meetings), for the benchmark and the tests:
the plain greedy baseline, the linear-programming relaxation's optimum (an upper bound), the
exact integer-programming optimum for small inputs (HiGHS), and a feasibility check."""
from __future__ import annotations

import numpy as np

from .meetings_problem import Meeting, Problem
from .meetings_search import SearchState


def greedy_schedule(problem: Problem) -> float:
    """The plain greedy baseline: requests by weight, each into its first feasible slot.
    Returns the total weight scheduled."""
    S, T = len(problem.slots), problem.tables
    state = SearchState(len(problem.ids), S, len(problem.weight), problem.ea, problem.eb)
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


def exact_slots(problem: Problem, value, prev_slot: list[int], pinned: list[bool],
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
