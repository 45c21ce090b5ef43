"""What changes between fits without a refit: a mentor added, re-indexed or deactivated, her
load, availability and recent asks (MentorMatcher inherits these)."""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .schema import Mentor
from .validation import replaced


class UpdatesMentors:
    """Incremental updates of a fitted matcher's index (no refit)."""

    def add_mentor(self, mentor: Mentor):
        """Index a new mentor with the fitted vocabulary (no refit)."""
        check_is_fitted(self)
        self.index_.append(self._check_mentors([mentor], existing=self.index_.row_of,
                                               groups=self.groups_))
        return self

    def update_mentor(self, mentor: Mentor):
        """Re-index a known mentor (same id) after her profile changed."""
        check_is_fitted(self)
        mentor = self._check_mentors([mentor], existing=(), groups=self.groups_)[0]
        self._row(mentor.id)
        self.index_.replace(mentor)
        return self

    def deactivate(self, mentor_id):
        """Stop suggesting this mentor (she stays indexed, `update_mentor` can reactivate)."""
        check_is_fitted(self)
        row = self._row(mentor_id)
        self.index_.active[row] = False
        self.index_.mentors[row] = replaced(self.index_.mentors[row], active=False)
        return self

    def set_load(self, mentor_id, load: int):
        """Record how many mentees this mentor has now."""
        check_is_fitted(self)
        row = self._row(mentor_id)
        mentor = replaced(self.index_.mentors[row], current_load=load)  # validates
        self.index_.load[row] = load
        self.index_.mentors[row] = mentor
        return self

    def set_available(self, mentor_id, available: bool):
        """Suggest this mentor or not (paused, busy, withdrawn): availability, not fit; no
        refit. Unlike `deactivate` it is meant to be flipped back and forth."""
        check_is_fitted(self)
        row = self._row(mentor_id)
        self.index_.active[row] = bool(available)
        self.index_.mentors[row] = replaced(self.index_.mentors[row], active=bool(available))
        return self

    def set_pending(self, mentor_id, pending: int):
        """Record how many recent asks this mentor has (pending, or made within the
        exposure window): they cost her `exposure_penalty` x pending / capacity in the
        ranking, which spreads the asks. Not a refit."""
        check_is_fitted(self)
        row = self._row(mentor_id)
        if isinstance(pending, bool) or not isinstance(pending, (int, np.integer)) or pending < 0:
            raise ValueError(f"pending must be a non-negative integer, got {pending!r}")
        self.index_.pending[row] = pending
        return self

    def _exposure(self) -> np.ndarray:
        index = self.index_
        return self.exposure_penalty * index.pending / np.maximum(index.capacity, 1)
