"""MentorMatcher: ranks mentors for a help request, explains each match, respects capacity."""
from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import engine
from .assign import assign_with_capacity
from .explaining import ExplainsMatches
from .features import (
    DIFFICULTY_CODES,
    FEATURE_NAMES,
    MentorIndex,
    RequestBlock,
    label_corpus,
    pair_components,
)
from .live_updates import UpdatesMentors
from .schema import (
    DEFAULT_AFFINITY,
    DEFAULT_GROUP_AFFINITY,
    DEFAULT_REGIONS,
    Assignment,
    HelpRequest,
    Match,
    Mentor,
    Outcome,
    check_groups,
    check_regions,
)
from .team_ranking import RanksTeams
from .text import NeedsTagger
from .validation import check_k, check_request, is_known, request_key
from .weights import fit_prior_weights

# Requests scored together in assign(): bounds the dense (chunk x mentors) score matrices.
_ASSIGN_CHUNK = 256
# A reason is shown only when its factor added at least this share of the match's score.
REASON_MIN_SHARE = engine.REASON_MIN_SHARE
_NEED_POS = {code: i for i, code in enumerate(DIFFICULTY_CODES)}


class MentorMatcher(ExplainsMatches, RanksTeams, UpdatesMentors, BaseEstimator):
    """Rank mentors for help requests and assign requests to mentors within capacity.

    Parameters
    ----------
    text_weight, skill_weight, industry_weight, region_weight, group_weight : float
        Weights of the similarity components (see `matching.features`); non-negative.
        Replaced by learned weights when `fit` is given outcomes.
    same_city_score : float
        Region component for two different Ningbo districts (same district is 1).
    related_industry_score : float
        Industry component for two industries of the same family (same industry is 1).
    ngram_range : tuple of int
        Character n-gram lengths of the TF-IDF text model.
    min_score : float
        `assign` only pairs a request with a mentor scoring at least this.
    candidates : int
        `assign` considers each request's best `candidates` mentors (exact within them).
    max_terms : int
        At most this many shared words in a "similar_words" reason.
    C : float
        Inverse regularisation strength of the logistic regression that learns weights.
    random_state : int, RandomState or None
        Passed to the logistic regression; nothing else is random.
    groups : dict or None
        The mentor groups and how well each suits each difficulty:
        ``{group code: {difficulty code: affinity 0..1}}``; unlisted difficulties count as
        `default_affinity`. None: the federation's three teams (`DEFAULT_GROUP_AFFINITY`).
        A mentor whose group is not listed is refused (ValueError).
    regions : sequence of str or None
        The districts of the city: two different ones score `same_city_score`. None:
        Ningbo's districts (`DEFAULT_REGIONS`). The app passes its area tree's districts.
    default_affinity : float
        Affinity of a group to a difficulty its entry does not list.
    needs_tagger : "default", a `matching.text.PhraseTagger`, or None
        Reads needs from a request's description (those not ticked, confirmed or rejected);
        they count in the skill and group components weighted by their confidence times
        `inferred_weight`. "default": `NeedsTagger()` on the shipped phrasings. None: off.
    inferred_weight : float
        Weight of an inferred need relative to a ticked one (times its confidence).
    min_confidence : float
        Inferred needs below this confidence are ignored.
    exposure_penalty : float
        Score taken off per recent ask of a mentor (`set_pending`: asks pending or made in
        the exposure window; the web app uses 30 days), relative to her capacity, so that a
        few popular mentors are not asked by everyone.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer fitted on the mentors' bios (and the vocabulary labels).
    index_ : MentorIndex of the mentors' precomputed features.
    weights_ : ndarray of shape (5,), in `FEATURE_NAMES` order.
    weight_source_ : "params" or "outcomes".
    outcome_model_ : the LogisticRegression the weights came from (when learned).
    outcomes_skipped_ : outcomes ignored because their mentor is not indexed.
    """

    def __init__(self, text_weight=0.30, skill_weight=0.30, industry_weight=0.20,
                 region_weight=0.12, group_weight=0.08, same_city_score=0.4,
                 related_industry_score=0.4, ngram_range=(2, 3), min_score=0.2,
                 candidates=30, max_terms=3, C=1.0, random_state=None, groups=None,
                 regions=None, default_affinity=DEFAULT_AFFINITY, needs_tagger="default",
                 inferred_weight=1.0, min_confidence=0.3, exposure_penalty=0.3):
        self.text_weight = text_weight
        self.skill_weight = skill_weight
        self.industry_weight = industry_weight
        self.region_weight = region_weight
        self.group_weight = group_weight
        self.same_city_score = same_city_score
        self.related_industry_score = related_industry_score
        self.ngram_range = ngram_range
        self.min_score = min_score
        self.candidates = candidates
        self.max_terms = max_terms
        self.C = C
        self.random_state = random_state
        self.groups = groups
        self.regions = regions
        self.default_affinity = default_affinity
        self.needs_tagger = needs_tagger
        self.inferred_weight = inferred_weight
        self.min_confidence = min_confidence
        self.exposure_penalty = exposure_penalty

    # ------------------------------------------------------------------ fitting
    def fit(self, mentors: Iterable[Mentor], outcomes: Iterable[Outcome] | None = None):
        """Index the mentors; learn the weights from past `outcomes` when given."""
        groups = check_groups(DEFAULT_GROUP_AFFINITY if self.groups is None else self.groups)
        regions = check_regions(tuple(DEFAULT_REGIONS) if self.regions is None else self.regions)
        mentors = self._check_mentors(mentors, existing=(), groups=groups)
        if not mentors:
            raise ValueError("mentors must not be empty")
        weights = self._param_weights()
        self._check_params()
        self.groups_ = groups
        # The engine's text transformer: bios are not synonym-expanded (a request's needs
        # are read by the tagger instead), the vocabulary labels join the corpus.
        self.text_ = engine.TextFeatures(self.ngram_range, use_synonyms=False,
                                         extra_corpus=tuple(label_corpus()))
        text = self.text_.fit_transform([m.bio for m in mentors])
        self.vectorizer_ = self.text_.vectorizer_
        self.index_ = MentorIndex(self.vectorizer_, self.related_industry_score, groups,
                                  float(self.default_affinity), regions)
        self.index_.append(mentors, text)
        self.weights_ = weights
        self.weight_source_ = "params"
        self.tagger_ = self._fit_tagger()
        # A refit must not keep what an earlier fit learned from outcomes.
        for name in ("outcome_model_", "outcomes_skipped_", "weight_report_"):
            self.__dict__.pop(name, None)
        if outcomes is not None:
            self.fit_weights(outcomes)
        return self

    def fit_weights(self, outcomes: Iterable[Outcome], held_out: float = 0.3):
        """Learn per-factor weights from past outcomes, with the parameter weights as prior.

        The model is a logistic regression of success on the components whose coefficient
        vector is ``scale * prior + delta`` with an L2 penalty on ``delta`` (strength 1/C):
        with few outcomes it stays at the prior, with many it moves where the data says.
        A decline because the mentor was busy says nothing about the fit and is skipped
        (`Outcome.says_about_fit`), as are outcomes of mentors no longer indexed
        (`outcomes_skipped_`).

        The outcomes are split by request (1 - `held_out` to learn, `held_out` to test);
        the learned weights are kept only when they beat the prior on the held-out
        outcomes (log-loss); `weight_report_` holds both figures and `weight_source_` says
        which weights are in use ("outcomes" or "params"). With one class only, the
        parameter weights are kept with a RuntimeWarning.
        """
        check_is_fitted(self)
        outcomes = list(outcomes)
        if not outcomes:
            raise ValueError("outcomes must not be empty")
        for i, outcome in enumerate(outcomes):
            if not isinstance(outcome, Outcome):
                raise ValueError(f"outcomes[{i}] must be an Outcome")
        usable = [o for o in outcomes if is_known(o.mentor_id, self.index_.row_of)]
        self.outcomes_skipped_ = len(outcomes) - len(usable)
        usable = [o for o in usable if o.says_about_fit]
        y = np.array([o.success for o in usable], dtype=int)
        if len(set(y.tolist())) < 2:
            warnings.warn("outcomes of indexed mentors need both successes and failures to "
                          "learn from; keeping the parameter weights", RuntimeWarning,
                          stacklevel=2)
            return self
        x = self._components_of_pairs([o.request for o in usable],
                                      [o.mentor_id for o in usable], name="outcomes")
        prior = self._param_weights()
        prior = prior / prior.sum()
        # A stable group number per request (hash() of a str changes between processes).
        numbers: dict = {}
        groups = np.array([numbers.setdefault(request_key(o.request), len(numbers)) for o in usable])
        result = fit_prior_weights(x, y, prior, C=self.C, held_out=held_out, groups=groups,
                                   random_state=self.random_state)
        self.weight_report_ = result.report
        self.outcome_model_ = result
        if result.better:
            self.weights_ = result.weights
            self.weight_source_ = "outcomes"
        else:
            self.weights_ = self._param_weights()
            self.weight_source_ = "params"
        return self

    # ------------------------------------------------------------------ needs
    def _fit_tagger(self):
        tagger = self.needs_tagger
        if tagger is None:
            return None
        if isinstance(tagger, str):
            if tagger != "default":
                raise ValueError(f"needs_tagger must be 'default', a tagger or None, got {tagger!r}")
            return _default_tagger()
        if not hasattr(tagger, "labels_"):
            tagger = copy.deepcopy(tagger).fit()
        return tagger

    def _inferred(self, requests) -> list[dict[str, float]]:
        out: list[dict[str, float] | None] = [None] * len(requests)
        to_read = []
        for i, request in enumerate(requests):
            if request.inferred is not None:
                out[i] = dict(request.inferred)
            elif self.tagger_ is not None and request.description.strip():
                to_read.append(i)
            else:
                out[i] = {}
        if to_read:
            proba = self.tagger_.predict_proba([requests[i].description for i in to_read])
            labels = self.tagger_.labels_
            for i, row in zip(to_read, proba, strict=True):
                order = np.lexsort((np.arange(len(row)), -row))
                out[i] = {labels[j]: round(float(row[j]), 4) for j in order if row[j] > 0}
        result = []
        for request, found in zip(requests, out, strict=True):
            stated = set(request.stated_needs) | set(request.rejected)
            result.append({code: conf for code, conf in found.items()
                           if code not in stated and code in _NEED_POS
                           and conf >= self.min_confidence})
        return result

    def _needs_matrix(self, requests) -> np.ndarray:
        needs = np.zeros((len(requests), len(DIFFICULTY_CODES)), dtype=np.float32)
        for i, (request, inferred) in enumerate(zip(requests, self._inferred(requests), strict=True)):
            for code, conf in inferred.items():
                needs[i, _NEED_POS[code]] = min(1.0, conf * self.inferred_weight)
            for code in request.stated_needs:
                needs[i, _NEED_POS[code]] = 1.0
        return needs

    def _block(self, requests) -> RequestBlock:
        return RequestBlock(requests, self.vectorizer_, self.index_.region_codes,
                            self.index_.city, needs=self._needs_matrix(requests))

    # ------------------------------------------------------------------ ranking
    def rank(self, request: HelpRequest, k: int = 10) -> list[Match]:
        """The best `k` active mentors with spare capacity, best first, with reasons.

        Ties are broken by the order mentors were indexed, so output is deterministic.
        """
        check_is_fitted(self)
        check_k(k)
        check_request(request)
        block = self._block([request])
        components = self.index_.components(block, same_city_score=self.same_city_score)[:, 0]
        scores = self.weights_ @ components
        eligible = np.flatnonzero(self.index_.eligible())
        if len(eligible) == 0:
            return []
        top = _top_k(scores[eligible] - self._exposure()[eligible], k)
        rows = eligible[top]
        return [self._match(block, row, components[:, row]) for row in rows]

    def infer_needs(self, request: HelpRequest) -> dict[str, float]:
        """Needs read from the request's text that it neither ticked, confirmed nor
        rejected: {difficulty: confidence}, best first. `request.inferred` wins when set."""
        check_is_fitted(self)
        return self._inferred([request])[0]

    def needs_of(self, request: HelpRequest) -> dict[str, float]:
        """Every need the ranking uses with its weight: ticked and confirmed 1, inferred
        their confidence times `inferred_weight`."""
        check_is_fitted(self)
        row = self._needs_matrix([request])[0]
        return {DIFFICULTY_CODES[i]: round(float(row[i]), 4) for i in np.flatnonzero(row)}

    def explain(self, request: HelpRequest, mentor_id) -> Match:
        """The Match of one given mentor (whether or not she is available)."""
        check_is_fitted(self)
        check_request(request)
        row = self._row(mentor_id)
        block = self._block([request])
        components = pair_components(self.index_, block, [row], self.same_city_score)[0]
        return self._match(block, row, components)

    def score_pairs(self, requests: list[HelpRequest], mentor_ids: list) -> np.ndarray:
        """Scores of the pairs (requests[i], mentor_ids[i]), whatever the mentors' availability."""
        check_is_fitted(self)
        components = self._components_of_pairs(list(requests), list(mentor_ids))
        return components @ self.weights_

    # ------------------------------------------------------------------ assignment
    def assign(self, requests: Iterable[HelpRequest]) -> Assignment:
        """Assign requests to mentors maximising the total score, never exceeding a
        mentor's remaining capacity (capacity - current_load) and never pairing below
        `min_score`. Loads are not changed: call `set_load` once assignments are accepted.
        """
        check_is_fitted(self)
        requests = list(requests)
        seen = set()
        for i, request in enumerate(requests):
            check_request(request, f"requests[{i}]")
            if request.id in seen:
                raise ValueError(f"requests[{i}].id {request.id!r} is a duplicate")
            seen.add(request.id)
        if not requests:
            return Assignment(pairs=[], unassigned=[])
        check_k(self.candidates, "candidates")

        index = self.index_
        eligible = index.eligible()
        remaining = np.where(eligible, index.capacity - index.load, 0)
        edge_requests, edge_mentors, edge_scores = [], [], []
        for start in range(0, len(requests), _ASSIGN_CHUNK):
            chunk = requests[start:start + _ASSIGN_CHUNK]
            block = self._block(chunk)
            scores = np.tensordot(self.weights_, index.components(
                block, same_city_score=self.same_city_score), axes=1)
            scores[:, ~eligible] = -np.inf
            k = min(self.candidates, scores.shape[1])
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            top_scores = np.take_along_axis(scores, top, axis=1)
            keep = top_scores >= self.min_score
            edge_requests.append(np.nonzero(keep)[0] + start)
            edge_mentors.append(top[keep])
            edge_scores.append(top_scores[keep])
        assigned = assign_with_capacity(np.concatenate(edge_requests),
                                        np.concatenate(edge_mentors),
                                        np.concatenate(edge_scores), remaining, len(requests))
        pairs, unassigned = [], []
        for i, request in enumerate(requests):
            if i in assigned:
                row, score = assigned[i]
                pairs.append((request.id, index.ids[row], round(float(score), 6)))
            else:
                unassigned.append(request.id)
        return Assignment(pairs=pairs, unassigned=unassigned)

    # ------------------------------------------------------------------ internals
    def _param_weights(self) -> np.ndarray:
        weights = np.array([self.text_weight, self.skill_weight, self.industry_weight,
                            self.region_weight, self.group_weight], dtype=np.float64)
        for name, value in zip(FEATURE_NAMES, weights, strict=True):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name}_weight must be a non-negative number, got {value}")
        if weights.sum() <= 0:
            raise ValueError("at least one of the *_weight parameters must be positive")
        return weights

    def _check_params(self) -> None:
        for name in ("same_city_score", "related_industry_score"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, "
                             f"got {self.ngram_range}")
        check_k(self.candidates, "candidates")
        value = self.default_affinity
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"default_affinity must be within 0..1, got {value!r}")

    @staticmethod
    def _check_mentors(mentors, existing, groups) -> list[Mentor]:
        if mentors is None:
            raise ValueError("mentors must not be empty")
        mentors = list(mentors)
        seen = set(existing)
        checked = []
        for i, mentor in enumerate(mentors):
            if not isinstance(mentor, Mentor):
                raise ValueError(f"mentors[{i}] must be a Mentor, got {type(mentor).__name__}")
            mentor.validate()
            if mentor.group not in groups:
                raise ValueError(f"mentors[{i}]: unknown group {mentor.group!r}; "
                                 f"expected one of {sorted(groups)}")
            if mentor.id in seen:
                raise ValueError(f"mentors[{i}].id {mentor.id!r} is a duplicate")
            seen.add(mentor.id)
            # A copy, so later changes to the caller's object do not silently desync the index.
            checked.append(copy.copy(mentor))
        return checked

    def _row(self, mentor_id) -> int:
        try:
            return self.index_.row_of[mentor_id]
        except (KeyError, TypeError):
            raise ValueError(f"mentor_id {mentor_id!r} is not a known mentor") from None

    def _components_of_pairs(self, requests, mentor_ids, name="requests") -> np.ndarray:
        if len(requests) != len(mentor_ids):
            raise ValueError("requests and mentor_ids must have the same length")
        for i, request in enumerate(requests):
            check_request(request, f"{name}[{i}]")
        rows = [self._row(mentor_id) for mentor_id in mentor_ids]
        if not rows:
            return np.zeros((0, len(FEATURE_NAMES)))
        block = self._block(requests)
        return pair_components(self.index_, block, rows, self.same_city_score).astype(np.float64)

_DEFAULT_TAGGER = None


def _default_tagger():
    """The shipped needs tagger, fitted once per process (it is only read afterwards)."""
    global _DEFAULT_TAGGER
    if _DEFAULT_TAGGER is None:
        _DEFAULT_TAGGER = NeedsTagger().fit()
    return _DEFAULT_TAGGER


_top_k = engine.top_k


__all__ = ["MentorMatcher"]
