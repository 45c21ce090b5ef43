"""Complementary teams: a few mentors who together cover a request's needs.

`best_teams` works on a small candidate pool (each need's best covering mentors plus the
best mentors overall), enumerates teams of 1..max_size members in which every member covers
a need no other member covers (no passengers), and orders them by

    score = coverage + team_weight * mean(member match scores)
            + complement_bonus * (distinct groups - 1) / (max_size - 1 or 1)
            - member_cost * (members - 1)

coverage being the need-weighted share of needs the team covers. Only mentors with spare
capacity are in the pool, so a proposed team never exceeds anyone's capacity. Ties are
broken by the members' index order, so the result is deterministic.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

POOL_PER_NEED = 6
POOL_OVERALL = 6
POOL_TOTAL = 18
TEAM_WEIGHT = 0.5
COMPLEMENT_BONUS = 0.05
MEMBER_COST = 0.08


def best_teams(need_weights: np.ndarray, skills: np.ndarray, scores: np.ndarray,
               groups: np.ndarray, eligible: np.ndarray, k: int, max_size: int):
    """Best `k` teams as [(team score, coverage, [(row, covered need positions)], member
    scores)]. `need_weights` (difficulties,), `skills` (mentors x difficulties) 0/1,
    `scores` (mentors,) match scores, `groups` (mentors,) group codes, `eligible` bool."""
    needs = np.flatnonzero(need_weights > 0)
    rows = np.flatnonzero(eligible)
    if len(rows) == 0:
        return []
    total = float(need_weights[needs].sum()) if len(needs) else 0.0
    pool: list[int] = []

    def best_rows(candidates: np.ndarray, n: int) -> list[int]:
        if len(candidates) == 0:
            return []
        order = np.lexsort((candidates, -scores[candidates]))
        return candidates[order[:n]].tolist()

    per_need = max(2, min(POOL_PER_NEED, POOL_TOTAL // max(len(needs), 1)))
    for need in needs:
        covering = rows[skills[rows, need] > 0]
        pool.extend(best_rows(covering, per_need))
    pool.extend(best_rows(rows, POOL_OVERALL))
    pool = sorted(set(pool))
    covers = {row: frozenset(int(d) for d in needs if skills[row, d] > 0) for row in pool}
    results = []
    for size in range(1, max_size + 1):
        members = pool if size == 1 else [r for r in pool if covers[r]]
        for team in combinations(members, size):
            if size > 1 and not _complementary(team, covers):
                continue
            covered = frozenset().union(*(covers[r] for r in team))
            coverage = (float(need_weights[list(covered)].sum()) / total) if total else 0.0
            member_scores = [float(scores[r]) for r in team]
            distinct = len({int(groups[r]) for r in team})
            score = (coverage + TEAM_WEIGHT * float(np.mean(member_scores))
                     + COMPLEMENT_BONUS * (distinct - 1) / max(max_size - 1, 1)
                     - MEMBER_COST * (size - 1))
            results.append((round(score, 9), coverage, team, member_scores))
    results.sort(key=lambda item: (-item[0], len(item[2]), item[2]))
    out = []
    for score, coverage, team, member_scores in results[:k]:
        assigned = _who_covers_what(team, covers, scores)
        out.append((score, coverage, [(r, sorted(assigned[r])) for r in team], member_scores))
    return out


def _complementary(team: tuple[int, ...], covers: dict) -> bool:
    """Every member covers a need that no other member covers."""
    for r in team:
        others = frozenset().union(*(covers[o] for o in team if o != r))
        if not covers[r] - others:
            return False
    return True


def _who_covers_what(team, covers, scores) -> dict[int, set[int]]:
    """Each covered need goes to the best-scoring member covering it; every member keeps at
    least her own exclusive needs."""
    assigned: dict[int, set[int]] = {r: set() for r in team}
    for need in sorted(frozenset().union(*(covers[r] for r in team))):
        holders = [r for r in team if need in covers[r]]
        best = min(holders, key=lambda r: (-scores[r], r))
        assigned[best].add(need)
    return assigned
