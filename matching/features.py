"""Feature builders: the pairwise similarity components of a (request, mentor) pair.

Each component lies in 0..1, and a match score is their weighted sum:

- ``text``: cosine of character n-gram TF-IDF vectors (request description vs mentor bio).
  Character n-grams need no word segmentation, so Chinese works without a dictionary.
- ``skill``: share of the request's difficulties the mentor is skilled in.
- ``industry``: 1 for the same industry, `related_industry_score` for one of the same family.
- ``region``: 1 for the same district, `same_city_score` when both are in the city (the
  matcher's `regions`), else 0.
- ``group``: how well the mentor's group suits the request's difficulties (the matcher's
  `groups`, a group x difficulty affinity matrix).

Mentors are precomputed into a `MentorIndex` of arrays (sparse TF-IDF rows, a skill matrix,
an industry-similarity matrix, region and group codes) so that scoring one request against
all mentors is a few vectorised operations.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .engine import CategoryFeatures, shared_terms, tier_scores
from .schema import (
    DIFFICULTIES,
    INDUSTRIES,
    INDUSTRY_FAMILIES,
    HelpRequest,
    Mentor,
)
from .text import char_vectorizer, fast_transform, normalise_text

FEATURE_NAMES = ("text", "skill", "industry", "region", "group")
DIFFICULTY_CODES = tuple(DIFFICULTIES)
INDUSTRY_CODES = tuple(INDUSTRIES)
_DIFFICULTY_POS = {code: i for i, code in enumerate(DIFFICULTY_CODES)}
_INDUSTRY_POS = {code: i for i, code in enumerate(INDUSTRY_CODES)}



def affinity_matrix(groups: dict[str, dict[str, float]], default: float) -> np.ndarray:
    """Group x difficulty affinity, rows in the order of `groups`."""
    return np.array([[affinities.get(d, default) for d in DIFFICULTY_CODES]
                     for affinities in groups.values()], dtype=np.float32).reshape(
        len(groups), len(DIFFICULTY_CODES))


def make_vectorizer(ngram_range=(2, 3)) -> TfidfVectorizer:
    return char_vectorizer(ngram_range)


def label_corpus() -> list[str]:
    """The Chinese labels of the vocabularies: added to the fitting corpus so that the
    vocabulary is never empty (mentors without bios) and always knows the domain words."""
    names = [zh for vocab in (DIFFICULTIES, INDUSTRIES) for zh, _ in vocab.values()]
    return [" ".join(names)]


def industry_similarity(related_score: float) -> np.ndarray:
    """Industry x industry similarity: 1 on the diagonal, `related_score` within a family
    (the engine's `CategoryFeatures` over the industries)."""
    return CategoryFeatures(INDUSTRY_CODES, INDUSTRY_FAMILIES, related_score).fit().similarity_


def difficulty_vector(codes) -> np.ndarray:
    vec = np.zeros(len(DIFFICULTY_CODES), dtype=np.float32)
    for code in codes:
        vec[_DIFFICULTY_POS[code]] = 1.0
    return vec


class RequestBlock:
    """A batch of requests encoded for scoring against a MentorIndex."""

    def __init__(self, requests: list[HelpRequest], vectorizer: TfidfVectorizer,
                 region_codes: dict[str, int], city: frozenset[str] = frozenset(),
                 needs: np.ndarray | None = None):
        self.requests = requests
        self.text = fast_transform(vectorizer, [r.description for r in requests])
        if needs is None:
            needs = np.array([difficulty_vector(r.difficulties) for r in requests],
                             dtype=np.float32).reshape(len(requests), len(DIFFICULTY_CODES))
        # needs[i, d]: how much request i needs difficulty d (1 ticked or confirmed, the
        # confidence when read from the text).
        self.needs = np.asarray(needs, dtype=np.float32)
        needs = self.needs
        counts = needs.sum(axis=1, keepdims=True)
        # Coverage = shared / asked; a request that asks for nothing covers nothing.
        self.needs_share = np.divide(needs, counts, out=np.zeros_like(needs), where=counts > 0)
        self.industry = np.array([_INDUSTRY_POS[r.industry] for r in requests], dtype=np.intp)
        # An unknown region gets -1, which equals no mentor's code.
        self.region = np.array([region_codes.get(r.region, -1) for r in requests], dtype=np.intp)
        self.in_ningbo = np.array([r.region in city for r in requests], dtype=bool)

    def __len__(self):
        return len(self.requests)


class MentorIndex:
    """Per-mentor arrays, one row per mentor, in the order mentors were added.

    Supports appending and replacing rows (incremental updates); the transposed text
    matrix used for fast single-request scoring is rebuilt lazily after a change.
    """

    def __init__(self, vectorizer: TfidfVectorizer, related_industry_score: float,
                 groups: dict[str, dict[str, float]], default_affinity: float,
                 regions: tuple[str, ...]):
        self.vectorizer = vectorizer
        self.group_pos = {code: i for i, code in enumerate(groups)}
        self.group_affinity = affinity_matrix(groups, default_affinity)
        self.city = frozenset(regions)
        self.industry_sim = industry_similarity(related_industry_score)
        self.ids: list = []
        self.row_of: dict = {}
        self.mentors: list[Mentor] = []
        # The city's districts have fixed codes; other places get new codes as they appear.
        self.region_codes: dict[str, int] = {name: i for i, name in enumerate(regions)}
        n_vocab = len(vectorizer.vocabulary_)
        self.text = sp.csr_matrix((0, n_vocab), dtype=np.float32)
        self.skills = np.zeros((0, len(DIFFICULTY_CODES)), dtype=np.float32)
        self.industry_fit = np.zeros((0, len(INDUSTRY_CODES)), dtype=np.float32)
        self.group = np.zeros(0, dtype=np.intp)
        self.region = np.zeros(0, dtype=np.intp)
        self.in_ningbo = np.zeros(0, dtype=bool)
        self.capacity = np.zeros(0, dtype=np.int64)
        self.load = np.zeros(0, dtype=np.int64)
        self.pending = np.zeros(0, dtype=np.int64)
        self.active = np.zeros(0, dtype=bool)
        self._text_t = None

    def __len__(self):
        return len(self.ids)

    def _region_code(self, region: str) -> int:
        if region not in self.region_codes:
            self.region_codes[region] = len(self.region_codes)
        return self.region_codes[region]

    def _encode(self, mentors: list[Mentor], text=None):
        if text is None:
            text = self.vectorizer.transform([m.bio for m in mentors])
        text = sp.csr_matrix(text, dtype=np.float32)
        text.sort_indices()
        skills = np.array([difficulty_vector(m.skills) for m in mentors], dtype=np.float32)
        # industry_fit[m, c]: how well mentor m's best industry fits a request in industry c.
        industry_fit = np.zeros((len(mentors), len(INDUSTRY_CODES)), dtype=np.float32)
        for row, mentor in enumerate(mentors):
            for code in mentor.industries:
                np.maximum(industry_fit[row], self.industry_sim[_INDUSTRY_POS[code]],
                           out=industry_fit[row])
        group = np.array([self.group_pos[m.group] for m in mentors], dtype=np.intp)
        region = np.array([self._region_code(m.region) for m in mentors], dtype=np.intp)
        in_ningbo = np.array([m.region in self.city for m in mentors], dtype=bool)
        capacity = np.array([m.capacity for m in mentors], dtype=np.int64)
        load = np.array([m.current_load for m in mentors], dtype=np.int64)
        active = np.array([m.active for m in mentors], dtype=bool)
        return text, skills, industry_fit, group, region, in_ningbo, capacity, load, active

    def append(self, mentors: list[Mentor], text=None) -> None:
        """Add rows for `mentors`; `text` is their TF-IDF rows when already computed."""
        for mentor in mentors:
            self.row_of[mentor.id] = len(self.ids)
            self.ids.append(mentor.id)
            self.mentors.append(mentor)
        (text, skills, industry_fit, group, region, in_ningbo, capacity, load,
         active) = self._encode(mentors, text)
        self.text = sp.vstack([self.text, text], format="csr")
        self.skills = np.vstack([self.skills, skills])
        self.industry_fit = np.vstack([self.industry_fit, industry_fit])
        self.group = np.concatenate([self.group, group])
        self.region = np.concatenate([self.region, region])
        self.in_ningbo = np.concatenate([self.in_ningbo, in_ningbo])
        self.capacity = np.concatenate([self.capacity, capacity])
        self.load = np.concatenate([self.load, load])
        self.pending = np.concatenate([self.pending, np.zeros(len(load), dtype=np.int64)])
        self.active = np.concatenate([self.active, active])
        self._text_t = None

    def replace(self, mentor: Mentor) -> None:
        row = self.row_of[mentor.id]
        self.mentors[row] = mentor
        (text, skills, industry_fit, group, region, in_ningbo, capacity, load,
         active) = self._encode([mentor])
        self.text = sp.vstack([self.text[:row], text, self.text[row + 1:]], format="csr")
        self.skills[row] = skills[0]
        self.industry_fit[row] = industry_fit[0]
        self.group[row] = group[0]
        self.region[row] = region[0]
        self.in_ningbo[row] = in_ningbo[0]
        self.capacity[row] = capacity[0]
        self.load[row] = load[0]
        self.active[row] = active[0]
        self._text_t = None

    @property
    def text_t(self) -> sp.csr_matrix:
        """Vocabulary x mentors: a request's few n-grams select a few rows of it."""
        if self._text_t is None:
            self._text_t = self.text.T.tocsr()
        return self._text_t

    def eligible(self) -> np.ndarray:
        """Active mentors with spare capacity."""
        return self.active & (self.load < self.capacity)

    def components(self, block: RequestBlock, same_city_score: float = 0.5) -> np.ndarray:
        """Components of every (request in block, mentor) pair: shape (5, len(block), n),
        in FEATURE_NAMES order."""
        text = (block.text @ self.text_t).toarray()
        skills, industry_fit = self.skills, self.industry_fit
        group, region, in_ningbo = self.group, self.region, self.in_ningbo
        out = np.empty((len(FEATURE_NAMES), len(block), len(group)), dtype=np.float32)
        # Rounding can push the cosine of identical texts a hair above 1.
        np.minimum(text, 1.0, out=out[0])
        out[1] = block.needs_share @ skills.T
        out[2] = industry_fit[:, block.industry].T
        same = block.region[:, None] == region[None, :]
        both_ningbo = block.in_ningbo[:, None] & in_ningbo[None, :]
        out[3] = tier_scores(same, both_ningbo, same_city_score)
        out[4] = (block.needs_share @ self.group_affinity.T)[:, group]
        return out


def pair_components(index: MentorIndex, block: RequestBlock, rows: np.ndarray,
                    same_city_score: float = 0.5) -> np.ndarray:
    """Components of the pairs (block request i, mentor rows[i]): shape (len(block), 5)."""
    rows = np.asarray(rows, dtype=np.intp)
    out = np.empty((len(block), len(FEATURE_NAMES)), dtype=np.float32)
    text = np.asarray(block.text.multiply(index.text[rows]).sum(axis=1)).ravel()
    out[:, 0] = np.minimum(text, 1.0)
    out[:, 1] = (block.needs_share * index.skills[rows]).sum(axis=1)
    out[:, 2] = index.industry_fit[rows, block.industry]
    same = block.region == index.region[rows]
    both_ningbo = block.in_ningbo & index.in_ningbo[rows]
    out[:, 3] = tier_scores(same, both_ningbo, same_city_score)
    group_fit = block.needs_share @ index.group_affinity.T
    out[:, 4] = group_fit[np.arange(len(block)), index.group[rows]]
    return out


__all__ = ["FEATURE_NAMES", "MentorIndex", "RequestBlock", "normalise_text", "pair_components",
           "shared_terms"]
