"""The matching engine both matchers are configurations of.

`MentorMatcher` (people: help requests to mentors, `matching.model`) and `SupplyMatcher`
(businesses: needs to suppliers, `matching.supply`) are each an estimator with ``fit``,
``rank`` and ``explain``; what they share lives here, so a fix or an improvement reaches both:

- ``TextFeatures``: scikit-learn transformer, optional synonym expansion
  (`matching.text.SynonymExpander`, the `synonyms` package) then character n-gram TF-IDF
  (`matching.text.char_vectorizer`, rows L2-normalised, so a dot product is the ``text``
  component). ``transform`` skips scikit-learn's per-call validation (`fast_transform`).
- ``CategoryFeatures``: scikit-learn transformer, category sets as 0/1 rows over a vocabulary
  with families; ``best_fit`` (how well an item's best category fits each category: exact 1,
  same family ``related_score``) and ``similarity`` (asked categories vs an item's).
- ``DistanceTiers``: the area tree's tiers (same district 1, same city ``same_city_score``,
  elsewhere 0), for one pair (``tier``/``score``) or vectorised (``tier_scores``).
- Reasons: ``counted(candidates, score)`` keeps a reason only when its factor added at least
  ``REASON_MIN_SHARE`` (5 %) of the match's score, ordered by contribution;
  ``shared_terms``/``shared_words`` give the words two texts share (thesaurus terms, then
  the longest common strings), content words only (`matching.text.STOP_WORDS_ZH`).
- Constraints: ``top_k(scores, k, mask)`` (best first, ties by position, rows outside the
  mask never returned) and ``first_allowed(scores, allowed, k)`` (pairwise hard constraints
  checked lazily in score order); ``check_k``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .text import SynonymExpander, char_vectorizer, fast_transform, is_content_term, normalise_text

# A reason is shown only when its factor added at least this share of the match's score.
REASON_MIN_SHARE = 0.05
TIERS = ("same_district", "same_city", "elsewhere")

# Function characters trimmed from the ends of a shown shared word ("我在象山" -> "象山"):
# they carry no meaning for a reader. Scoring is unaffected.
_EDGE_CHARS = frozenset("我你她他们在的了和与及是做想有也很都就把被对从给让要会能还又")
_NOT_A_WORD = re.compile(r"[\W_]+")


# ---------------------------------------------------------------- text
class TextFeatures(BaseEstimator, TransformerMixin):
    """Synonym expansion (when `use_synonyms`) then character n-gram TF-IDF.

    Parameters
    ----------
    ngram_range : tuple of int
        Character n-gram lengths.
    use_synonyms : bool
        Append the thesaurus alternatives of every cue word a text contains.
    thesaurus : synonyms.Thesaurus or None
        None: the shipped lists with the business words (`matching.text.SynonymExpander`).
    extra_corpus : sequence of str
        Texts added to the fitting corpus only (vocabulary labels, so the vocabulary is never
        empty and knows the domain words).
    """

    def __init__(self, ngram_range=(2, 3), use_synonyms=False, thesaurus=None, extra_corpus=()):
        self.ngram_range = ngram_range
        self.use_synonyms = use_synonyms
        self.thesaurus = thesaurus
        self.extra_corpus = extra_corpus

    def fit(self, X, y=None):
        self.expander_ = SynonymExpander(self.thesaurus).fit() if self.use_synonyms else None
        corpus = self.expand(X) + [t for t in self.extra_corpus]
        self.vectorizer_ = char_vectorizer(self.ngram_range).fit(corpus)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        X = list(X)
        return self.fit(X).transform(X)

    def expand(self, texts) -> list[str]:
        texts = [t or "" for t in texts]
        expander = getattr(self, "expander_", None)
        return expander.transform(texts) if expander is not None else texts

    def transform(self, X):
        check_is_fitted(self, "vectorizer_")
        return fast_transform(self.vectorizer_, self.expand(X))

    @property
    def thesaurus_(self):
        """The thesaurus in use (None without synonyms)."""
        check_is_fitted(self, "vectorizer_")
        return self.expander_.thesaurus_ if self.expander_ is not None else None


# ---------------------------------------------------------------- categories
class CategoryFeatures(BaseEstimator, TransformerMixin):
    """Category sets as 0/1 rows over `codes`; two categories of the same family (`families`:
    code -> family) fit at `related_score`, the same category at 1."""

    def __init__(self, codes=(), families=None, related_score=0.4):
        self.codes = codes
        self.families = families
        self.related_score = related_score

    def fit(self, X=None, y=None):
        if not 0 <= self.related_score <= 1:
            raise ValueError(f"related_score must be within 0..1, got {self.related_score}")
        self.codes_ = tuple(self.codes)
        self.position_ = {c: i for i, c in enumerate(self.codes_)}
        families = self.families or {}
        fam = np.array([families.get(c, c) for c in self.codes_], dtype=object)
        sim = np.where(fam[:, None] == fam[None, :], self.related_score, 0.0)
        np.fill_diagonal(sim, 1.0)
        self.similarity_ = sim.astype(np.float32).reshape(len(self.codes_), len(self.codes_))
        return self

    def transform(self, X):
        check_is_fitted(self, "codes_")
        X = list(X)
        rows = np.zeros((len(X), len(self.codes_)), dtype=np.float32)
        for i, cats in enumerate(X):
            for c in cats:
                rows[i, self.position_[c]] = 1.0
        return rows

    def best_fit(self, rows: np.ndarray) -> np.ndarray:
        """[n_items, n_codes]: how well an item's best category fits each category."""
        check_is_fitted(self, "codes_")
        rows = np.asarray(rows, dtype=np.float32)
        if rows.size == 0:
            return np.zeros((len(rows), len(self.codes_)), dtype=np.float32)
        return np.max(rows[:, :, None] * self.similarity_[None, :, :], axis=1)

    def similarity(self, asked_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """[n_asked, n_items]: the best fit of any item category to any asked one."""
        fit = self.best_fit(item_rows)
        out = np.zeros((len(asked_rows), len(item_rows)), dtype=np.float32)
        for i, row in enumerate(asked_rows):
            asked = np.flatnonzero(row)
            if len(asked):
                out[i] = fit[:, asked].max(axis=1)
        return out


# ---------------------------------------------------------------- distance
class DistanceTiers:
    """Tiers of the area tree: same district, same city (`regions` are the city's
    districts), elsewhere; scored 1, `same_city_score`, 0."""

    def __init__(self, regions: Iterable[str] = (), same_city_score: float = 0.5):
        self.city = frozenset(regions)
        self.same_city_score = same_city_score

    def tier(self, a: str, b: str) -> str:
        if a and a == b:
            return "same_district"
        if a in self.city and b in self.city:
            return "same_city"
        return "elsewhere"

    def score(self, a: str, b: str) -> float:
        return tier_scores(self.tier(a, b) == "same_district",
                           self.tier(a, b) == "same_city", self.same_city_score).item()


def tier_scores(same, both_in_city, same_city_score: float) -> np.ndarray:
    """Vectorised tier score: 1 where `same` (district), `same_city_score` where both are in
    the city, else 0."""
    return np.where(same, 1.0, np.where(both_in_city, same_city_score, 0.0)).astype(np.float32)


# ---------------------------------------------------------------- reasons
def counted(candidates: Iterable[tuple[float, object]], score: float,
            min_share: float = REASON_MIN_SHARE) -> tuple:
    """Reasons whose factor counted: `candidates` are (weighted contribution, reason); kept
    when the contribution is positive and at least `min_share` of `score`; ordered by
    contribution, ties in the given order."""
    kept = [(c, n, r) for n, (c, r) in enumerate(candidates) if c > 0 and c >= min_share * score]
    kept.sort(key=lambda item: (-item[0], item[1]))
    return tuple(r for _, _, r in kept)


class csr_row:  # noqa: N801 - a tiny view, named like the function it replaces
    """Row `i` of a CSR matrix as `indices` and `data` views (no new scipy matrix)."""
    __slots__ = ("data", "indices")

    def __init__(self, matrix, i: int):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        self.indices = matrix.indices[start:end]
        self.data = matrix.data[start:end]


def column_contribution(query, other, vocabulary: dict) -> Callable[[str], float]:
    """For two TF-IDF rows of one vectorizer: ngram -> what it added to their cosine."""
    columns, in_query, in_other = np.intersect1d(query.indices, other.indices,
                                                 assume_unique=True, return_indices=True)
    by_column = dict(zip(columns.tolist(),
                         (query.data[in_query] * other.data[in_other]).tolist(), strict=True))

    def contribution(ngram: str) -> float:
        # char_wb also pads n-grams at word edges (" 直播"): one word to a reader.
        return sum(by_column.get(vocabulary.get(padded, -1), 0.0)
                   for padded in (ngram, f" {ngram}", f"{ngram} ", f" {ngram} "))

    return contribution


def shared_terms(description: str, bio: str, contribution: Callable[[str], float],
                 max_terms: int) -> tuple[str, ...]:
    """The longest strings both texts contain (2+ characters), ranked by how much their
    n-grams added to the text similarity (`contribution(ngram)`); at most `max_terms`,
    none inside another, never a stop word."""
    req, other = normalise_text(description), normalise_text(bio)
    found: dict[str, float] = {}
    for word in req.split():
        start = 0
        while start < len(word) - 1:
            length = 1
            while start + length < len(word) and word[start:start + length + 1] in other:
                length += 1
            if length >= 2:
                term = _trim(word[start:start + length])
                found[term] = sum(contribution(term[i:i + n])
                                  for n in (1, 2, 3) for i in range(len(term) - n + 1))
                start += length
            else:
                start += 1
    ranked = sorted((t for t, s in found.items() if s > 0 and is_content_term(t)),
                    key=lambda t: (-found[t], t))
    chosen: list[str] = []
    for term in ranked:
        if not any(term in c or c in term for c in chosen):
            chosen.append(term)
        if len(chosen) == max_terms:
            break
    return tuple(chosen)


def shared_words(a: str, b: str, thesaurus, contribution: Callable[[str], float],
                 max_terms: int = 3) -> tuple[str, ...]:
    """What a reader can check: thesaurus terms of `a` that `b` also says (itself or a
    synonym), as written in `a`; then the strings both contain (`shared_terms`). Content
    words only."""
    words: list[str] = []
    if thesaurus is not None:
        found_b = {t for _s, _e, t in thesaurus.find_terms(b or "")}
        for _s, _e, term in thesaurus.find_terms(a or ""):
            if (term in found_b or found_b.intersection(thesaurus.synonyms(term))) \
                    and term not in words and is_content_term(term):
                words.append(term)
    for term in shared_terms(a, b, contribution, max_terms):
        if len(words) >= max_terms:
            break
        if not any(term in w or w in term for w in words):
            words.append(term)
    return tuple(words[:max_terms])


def _trim(term: str) -> str:
    start, end = 0, len(term)
    while start < end and term[start] in _EDGE_CHARS:
        start += 1
    while end > start and term[end - 1] in _EDGE_CHARS:
        end -= 1
    return term[start:end]


# ---------------------------------------------------------------- constraints
def check_k(k, name: str = "k") -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"{name} must be a positive integer (a whole number >= 1), got {k!r}")


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k highest scores (within `mask` when given), best first; ties keep
    the lower position first."""
    scores = np.asarray(scores)
    rows = np.arange(len(scores)) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return rows
    sub = scores[rows]
    k = min(k, len(sub))
    if k < len(sub):
        # Include every score tied with the k-th, so the tie-break below sees all of them.
        kth = -np.partition(-sub, k - 1)[k - 1]
        candidates = np.flatnonzero(sub >= kth)
    else:
        candidates = np.arange(len(sub))
    order = np.lexsort((candidates, -sub[candidates]))
    return rows[candidates[order[:k]]]


def first_allowed(scores: np.ndarray, allowed: Callable[[int], bool], k: int) -> list[int]:
    """Positions in score order (ties by position) passing the pairwise hard constraint
    `allowed(position)`, at most k; the constraint is checked only as far as needed."""
    out = []
    for j in np.argsort(-np.asarray(scores), kind="stable"):
        if allowed(int(j)):
            out.append(int(j))
            if len(out) == k:
                break
    return out


__all__ = ["REASON_MIN_SHARE", "TIERS", "CategoryFeatures", "DistanceTiers", "TextFeatures",
           "check_k", "column_contribution", "csr_row", "counted", "first_allowed", "shared_terms",
           "shared_words", "tier_scores", "top_k"]
