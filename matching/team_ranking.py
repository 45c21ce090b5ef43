"""Complementary teams: the smallest groups of mentors who together cover a request's needs
(MentorMatcher inherits these; the search itself is matching.teams.best_teams)."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .features import DIFFICULTY_CODES
from .schema import HelpRequest, Team, TeamAssignment, TeamMember
from .teams import best_teams
from .validation import check_k, check_request


class RanksTeams:
    """Team proposals and team placement of a fitted matcher."""

    def rank_teams(self, request: HelpRequest, k: int = 5, max_size: int = 3) -> list[Team]:
        """Up to `k` small teams (1..`max_size` mentors with spare capacity) that together
        cover the request's needs, best first; see `matching.teams`."""
        check_is_fitted(self)
        check_k(k)
        check_k(max_size, "max_size")
        check_request(request)
        return self._teams(request, k, max_size, self.index_.eligible())

    def _teams(self, request, k, max_size, eligible) -> list[Team]:
        block = self._block([request])
        components = self.index_.components(block, same_city_score=self.same_city_score)[:, 0]
        scores = self.weights_ @ components - self._exposure()
        need_weights = block.needs[0]
        found = best_teams(need_weights, self.index_.skills, scores, self.index_.group,
                           eligible, k, max_size)
        needs = [d for d in np.flatnonzero(need_weights > 0)]
        teams = []
        for score, coverage, members, member_scores in found:
            team_members = tuple(
                TeamMember(self.index_.ids[row], tuple(DIFFICULTY_CODES[d] for d in covered),
                           round(member_score, 6))
                for (row, covered), member_score in zip(members, member_scores, strict=True))
            covered = {c for m in team_members for c in m.covers}
            teams.append(Team(members=team_members, score=round(score, 6),
                              coverage=round(coverage, 6),
                              covered=tuple(DIFFICULTY_CODES[d] for d in needs
                                            if DIFFICULTY_CODES[d] in covered),
                              uncovered=tuple(DIFFICULTY_CODES[d] for d in needs
                                              if DIFFICULTY_CODES[d] not in covered)))
        return teams

    def assign_teams(self, requests: Iterable[HelpRequest], max_size: int = 3) -> TeamAssignment:
        """Place a team on each request, in order, never beyond a mentor's remaining
        capacity (greedy: each request takes its best team among the mentors still free).
        Loads are not changed."""
        check_is_fitted(self)
        requests = list(requests)
        check_k(max_size, "max_size")
        for i, request in enumerate(requests):
            check_request(request, f"requests[{i}]")
        remaining = np.where(self.index_.eligible(), self.index_.capacity - self.index_.load, 0)
        placed, unassigned = [], []
        for request in requests:
            teams = self._teams(request, 1, max_size, remaining > 0)
            if not teams or teams[0].coverage <= 0:
                unassigned.append(request.id)
                continue
            for member in teams[0].members:
                remaining[self.index_.row_of[member.mentor_id]] -= 1
            placed.append((request.id, teams[0]))
        return TeamAssignment(teams=placed, unassigned=unassigned)
