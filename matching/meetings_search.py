"""The scheduler's search (matching.meetings): the state (each request's slot, who is busy
when, how full each slot is), the greedy pass that places requests where they block the least,
and the local search with simulated annealing that improves on it within a time budget."""
from __future__ import annotations

import math
import random
import time

from .meetings_problem import Problem

# The search state: each request's slot, who is busy when, how full each slot is.

class SearchState:
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


def value_function(problem: Problem, prev_slot: list[int], keep_bonus: float):
    w = problem.weight

    def value(e: int, s: int) -> float:
        return w[e] + keep_bonus if s >= 0 and s == prev_slot[e] else (w[e] if s >= 0 else 0.0)
    return value


def greedy_pass(problem: Problem, state: SearchState, order, value) -> None:
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


def local_search(problem: Problem, state: SearchState, value, pinned: list[bool],
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
