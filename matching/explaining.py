"""Why a mentor matches: a Match with its components and only the reasons that counted
(MentorMatcher inherits these)."""
from __future__ import annotations

import numpy as np

from . import engine
from .features import DIFFICULTY_CODES, FEATURE_NAMES, RequestBlock
from .schema import INDUSTRY_FAMILIES, Match, Reason

# A group "fits" a request when it suits one of its difficulties at least this well.
GROUP_FIT_THRESHOLD = 0.8


class ExplainsMatches:
    """Matches and their reasons for a fitted matcher."""

    def _match(self, block: RequestBlock, row: int, components: np.ndarray) -> Match:
        components = np.asarray(components, dtype=np.float64)
        score = float(self.weights_ @ components)
        named = {name: round(float(v), 6) for name, v in zip(FEATURE_NAMES, components, strict=True)}
        reasons = self._reasons(block, row, components)
        return Match(mentor_id=self.index_.ids[row], score=round(score, 6),
                     reasons=reasons, components=named)

    def _reasons(self, block: RequestBlock, row: int, components: np.ndarray) -> tuple:
        """Reasons for the factors that counted: each added at least `REASON_MIN_SHARE` of
        the match's score. Skills and group fit name only needs the mentor covers."""
        request, mentor = block.requests[0], self.index_.mentors[row]
        score = float(self.weights_ @ components)
        candidates: list[tuple[float, Reason]] = []  # (weighted contribution, reason)

        def add(component: str, reason: Reason):
            i = FEATURE_NAMES.index(component)
            candidates.append((float(self.weights_[i] * components[i]), reason))

        weights = block.needs[0]
        needs = [DIFFICULTY_CODES[i] for i in np.lexsort((np.arange(len(weights)), -weights))
                 if weights[i] > 0]
        shared = tuple(d for d in needs if d in mentor.skills)
        if shared:
            add("skill", Reason("shared_skills", {"skills": shared}))
        if request.industry in mentor.industries:
            add("industry", Reason("same_industry", {"industry": request.industry}))
        elif components[2] > 0:
            family = INDUSTRY_FAMILIES[request.industry]
            related = next(c for c in mentor.industries if INDUSTRY_FAMILIES[c] == family)
            add("industry", Reason("related_industry", {"industry": related,
                                                        "request_industry": request.industry}))
        if mentor.region == request.region:
            add("region", Reason("same_district", {"region": mentor.region}))
        elif components[3] > 0:
            add("region", Reason("same_city", {"region": mentor.region}))
        # Only needs the group suits AND the mentor covers: a group's leaning is no reason
        # to send a woman to someone without the skill.
        suited = tuple(d for d in shared
                       if self.groups_[mentor.group].get(d, self.default_affinity)
                       >= GROUP_FIT_THRESHOLD)
        if suited:
            add("group", Reason("group_fit", {"group": mentor.group, "difficulties": suited}))
        text_part = self.weights_[0] * components[0]
        # Finding the shared words costs more than the rest; skip it when it could not count.
        if text_part > 0 and text_part >= engine.REASON_MIN_SHARE * score:
            terms = self._shared_terms(block, row)
            if terms:
                add("text", Reason("similar_words", {"terms": terms}))
        return engine.counted(candidates, score)

    def _shared_terms(self, block: RequestBlock, row: int) -> tuple[str, ...]:
        # Row views without scipy's slicing (which builds and checks a new matrix each time).
        query, bio = engine.csr_row(block.text, 0), engine.csr_row(self.index_.text, row)
        # Intersecting the two rows' columns costs O(nnz); sparse multiply of two rows can
        # cost O(vocabulary), which is millions of n-grams on real bios.
        contribution = engine.column_contribution(query, bio, self.vectorizer_.vocabulary_)
        return engine.shared_terms(block.requests[0].description, self.index_.mentors[row].bio,
                                   contribution, self.max_terms)
