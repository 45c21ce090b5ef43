"""Shared text machinery of the matching engine (people and businesses alike).

Pure Python + scikit-learn; no Flask. Everything here works on Chinese without a word
segmenter: character n-grams, a thesaurus of cue words (the `synonyms` package) and
example phrasings per label.

API (see the README section "Matcher 2: the text machinery"):

- ``normalise_text(text)``: lower case, punctuation to spaces.
- ``char_vectorizer(ngram_range=(2, 3))``: the TF-IDF char n-gram vectorizer every matcher uses.
- ``NEEDS_THRESHOLD``: the tagger's operating point (``python -m matching.operating_point``).
- ``STOP_WORDS_ZH`` and ``is_content_term(term)``: filler words never shown as a reason.
- ``split_clauses(text)``: the clauses of a text (punctuation and connectives).
- ``parse_phrases(text)`` / ``format_phrases(phrases)`` / ``default_phrases(name)``:
  phrase banks ``{label: [phrase, ...]}`` in the ``[label]`` + one-phrase-a-line format
  (shipped banks live in ``matching/data/<name>.txt``).
- ``SynonymExpander(thesaurus)``: a scikit-learn transformer appending the thesaurus
  alternatives of every cue word found in a text (so 开播 also says 直播 主播 ...).
- ``PhraseTagger(phrases=None, thesaurus=None, ...)``: a scikit-learn transformer/estimator
  tagging texts with the labels whose example phrasings they resemble, with a calibrated
  confidence per label: ``fit()``, ``predict_proba(texts)`` (n x labels), ``transform``
  (same), ``tag(text) -> [(label, confidence)]``, ``predict(texts) -> [labels]``.
  ``NeedsTagger`` is the same with the help-request defaults (``needs_zh`` phrases,
  ``needs_zh`` cue words).
"""
from __future__ import annotations

import re
import weakref
from functools import lru_cache
from importlib import resources

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

_NOT_A_WORD = re.compile(r"[\W_]+")
_CLAUSE_BREAK = re.compile(r"[，。；！？、,.;!?\n\r\t ~～…]+|而且|并且|另外|还有|同时|再加上|加上|以及")
_LABEL_LINE = re.compile(r"^\[([A-Za-z0-9_\-]+)\]$")

# Filler that says nothing about a need or a skill: never shown as a "similar words" reason.
_STOP_WORDS_TEXT = """
姐妹 姐妹们 大姐 妹子 老师 大家 我们 我们的 你们 她们 他们 自己 我 你 她 他 它 咱 咱们
想 想要 想学 想做 希望 需要 要 能 会 可以 能够 应该 觉得 感觉 知道 不知道 不会 不懂
怎么 怎么办 怎样 如何 什么 哪里 哪些 为什么 多少 是不是 有没有 能不能
一个 一些 一下 一直 一起 现在 以前 最近 今年 去年 时候 已经 还是 还有 但是 可是 因为
所以 而且 然后 如果 就是 也是 都是 还 也 都 就 又 很 太 真 最 更 非常 特别 比较
的 了 和 与 及 或 在 是 有 没 没有 不 被 把 对 从 给 让 吧 吗 呢 啊 呀 嘛 哦
帮 帮忙 帮帮 帮助 请 请教 求 求助 谢谢 指导 问题 事情 东西 方面 情况 经验
"""
STOP_WORDS_ZH = frozenset(_STOP_WORDS_TEXT.split())

# The text-to-needs operating point: `PhraseTagger.predict` keeps labels at least this
# confident, and the web app asks "we understood you also need X — right?" from it. Chosen by
# `python -m matching.operating_point` (5-fold cross-validation on the shipped phrase bank,
# never the evaluation set): no threshold reached precision 0.8 there, so the best F1 one.
NEEDS_THRESHOLD = 0.6


def is_content_term(term: str) -> bool:
    """A term worth showing as a reason: not filler, not a single character."""
    term = normalise_text(term).replace(" ", "")
    return len(term) >= 2 and term not in STOP_WORDS_ZH


def normalise_text(text: str) -> str:
    """Lower-case; punctuation becomes a space so n-grams never span it."""
    return _NOT_A_WORD.sub(" ", (text or "").lower()).strip()


def char_vectorizer(ngram_range=(2, 3)) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(ngram_range),
                           preprocessor=normalise_text, sublinear_tf=True, dtype=np.float32)


# Per fitted vectorizer: (analyzer, vocabulary, idf); kept outside it so it pickles as is.
_FAST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fast_counts(vectorizer: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """Raw n-gram counts of `texts` in a fitted vectorizer's vocabulary (float64 CSR)."""
    cache = _FAST.get(vectorizer)
    if cache is None:
        cache = (vectorizer.build_analyzer(), vectorizer.vocabulary_,
                 np.asarray(vectorizer.idf_, dtype=np.float64))
        _FAST[vectorizer] = cache
    analyzer, vocabulary, _ = cache
    indptr, indices, data = [0], [], []
    for text in texts:
        counts: dict[int, int] = {}
        for gram in analyzer(text):
            column = vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        indices.extend(counts)
        data.extend(counts.values())
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64),
                            np.asarray(indptr, dtype=np.int64)), shape=(len(texts), len(vocabulary)))
    matrix.sort_indices()
    return matrix


def tfidf_from_counts(vectorizer: TfidfVectorizer, counts: sp.csr_matrix) -> sp.csr_matrix:
    """Sublinear tf x idf, rows scaled to unit length: what the vectorizer would give."""
    if vectorizer not in _FAST:
        fast_counts(vectorizer, [])
    idf = _FAST[vectorizer][2]
    counts = sp.csr_matrix(counts)
    counts.sort_indices()
    # On the CSR arrays directly: scipy's elementwise and diagonal products build and check
    # several intermediate matrices, most of the cost for one short request.
    data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    lengths = np.diff(counts.indptr)
    squares = np.zeros(len(lengths))
    nonempty = lengths > 0
    if data.size:
        squares[nonempty] = np.add.reduceat(data * data, counts.indptr[:-1][nonempty])
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    data = (data / np.repeat(norms, lengths)).astype(np.float32)
    return sp.csr_matrix((data, counts.indices.copy(), counts.indptr.copy()), shape=counts.shape)


def fast_transform(vectorizer: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """`vectorizer.transform(texts)` for a fitted char TF-IDF vectorizer (sublinear tf, l2
    norm) without scikit-learn's per-call validation, which is most of the cost for the
    few short texts of one request."""
    return tfidf_from_counts(vectorizer, fast_counts(vectorizer, texts))


def split_clauses(text: str) -> list[str]:
    """Clauses of `text`, split at punctuation and connectives; empty ones dropped."""
    return [c for c in (part.strip() for part in _CLAUSE_BREAK.split(text or "")) if c]


# ------------------------------------------------------------------ phrase banks
def parse_phrases(text: str, labels=None) -> dict[str, list[str]]:
    """``[label]`` lines open a label; every other non-blank, non-# line is a phrase of it.
    ValueError names the line when a phrase comes before any label or a label is unknown."""
    phrases: dict[str, list[str]] = {}
    current = None
    for n, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = _LABEL_LINE.match(line)
        if found:
            current = found.group(1)
            if labels is not None and current not in labels:
                raise ValueError(f"line {n}: unknown label {current!r}")
            phrases.setdefault(current, [])
            continue
        if current is None:
            raise ValueError(f"line {n}: a phrase before any [label] line")
        if len(line) > 200:
            raise ValueError(f"line {n}: a phrase must be at most 200 characters")
        if line not in phrases[current]:
            phrases[current].append(line)
    return phrases


def format_phrases(phrases: dict[str, list[str]]) -> str:
    return "\n\n".join(f"[{label}]\n" + "\n".join(items) for label, items in phrases.items()) + "\n"


@lru_cache(maxsize=8)
def _shipped(name: str) -> str:
    path = resources.files("matching").joinpath("data", f"{name}.txt")
    if not path.is_file():
        raise ValueError(f"no shipped phrase bank {name!r}")
    return path.read_text(encoding="utf-8")


def default_phrases(name: str = "needs_zh") -> dict[str, list[str]]:
    """A shipped phrase bank (a fresh copy the caller may change)."""
    return parse_phrases(_shipped(name))


def merge_phrases(*banks: dict[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for bank in banks:
        for label, items in (bank or {}).items():
            target = merged.setdefault(label, [])
            target.extend(p for p in items if p not in target)
    return merged


# ------------------------------------------------------------------ synonyms
class SynonymExpander(BaseEstimator, TransformerMixin):
    """Appends, to each text, the thesaurus alternatives of the cue words it contains.

    `thesaurus` is a `synonyms.Thesaurus`, or None for the shipped search lists plus the
    ``needs_zh`` business words. Stateless: `fit` does nothing."""

    def __init__(self, thesaurus=None):
        self.thesaurus = thesaurus

    def fit(self, X=None, y=None):
        self.thesaurus_ = _thesaurus(self.thesaurus)
        self.pattern_, self.alternatives_ = _term_pattern(self.thesaurus_)
        return self

    def expand(self, text: str) -> str:
        """`text` normalised, then every cue word found and its alternatives."""
        check_is_fitted(self)
        normalised = _norm_nfkc(text)
        if self.pattern_ is None:
            return normalised
        extra = []
        for found in self.pattern_.finditer(normalised):
            extra.append(self.alternatives_[found.group(0)])
        return normalised + (" " + " ".join(extra) if extra else "")

    def transform(self, X):
        return [self.expand(text) for text in X]


def _term_pattern(thesaurus):
    """One regex of every thesaurus term, longest first (so the longest match wins, as in
    `Thesaurus.find_terms`); Latin terms only as whole words. Cached per thesaurus."""
    key = id(thesaurus)
    cached = _PATTERNS.get(key)
    if cached is not None and cached[0] is thesaurus:
        return cached[1], cached[2]
    terms = sorted({t for g in thesaurus.groups for t in (*g.terms, g.broader) if t},
                   key=lambda t: (-len(t), t))
    parts = []
    for term in terms:
        piece = re.escape(term)
        if _LATIN_START.match(term[0]):
            piece = r"(?<![a-z0-9])" + piece
        if _LATIN_START.match(term[-1]):
            piece = piece + r"(?![a-z0-9])"
        parts.append(piece)
    pattern = re.compile("|".join(parts)) if parts else None
    alternatives = {t: " ".join([t, *thesaurus.synonyms(t)]) for t in terms}
    _PATTERNS[key] = (thesaurus, pattern, alternatives)
    return pattern, alternatives


_PATTERNS: dict = {}
_LATIN_START = re.compile(r"[a-z0-9]")


def _norm_nfkc(text: str) -> str:
    from synonyms import normalise
    return normalise(text or "")


@lru_cache(maxsize=4)
def _default_thesaurus():
    from synonyms import Thesaurus
    return Thesaurus.default(lists=("zh", "latin", "needs_zh"))


def _thesaurus(value):
    if value is None:
        return _default_thesaurus()
    return value


# ------------------------------------------------------------------ tagging
class PhraseTagger(BaseEstimator, TransformerMixin):
    """Tags texts with labels by resemblance to example phrasings.

    A text is cut into units (each clause, each two neighbouring clauses, the whole text);
    every unit is expanded with synonyms and turned into char n-gram TF-IDF; a label's score
    in a unit is its best cosine with one of the label's phrasings (nearest neighbour, so a
    label's many ways of saying it do not average each other out). A logistic calibration,
    fitted leave-one-out on the phrase bank itself, turns (score, margin over the best other
    label) into a confidence; a label's confidence in the text is its best over units.

    Parameters
    ----------
    phrases : dict {label: [phrase, ...]} or None
        The example phrasings; None: the shipped bank `bank`.
    bank : str
        Name of the shipped bank used when `phrases` is None.
    thesaurus : synonyms.Thesaurus or None
        Cue words; None: shipped lists with the business words.
    ngram_range : tuple
        Character n-gram lengths.
    threshold : float
        `predict` returns labels with a confidence at least this ...
    top_threshold : float
        ... and the best label when its confidence is at least this (a text that asks for
        help asks for something).
    """

    def __init__(self, phrases=None, bank="needs_zh", thesaurus=None, ngram_range=(1, 3),
                 threshold=NEEDS_THRESHOLD, top_threshold=0.2, max_labels=3):
        self.phrases = phrases
        self.bank = bank
        self.thesaurus = thesaurus
        self.ngram_range = ngram_range
        self.threshold = threshold
        self.top_threshold = top_threshold
        self.max_labels = max_labels

    def fit(self, X=None, y=None):
        """Fit on `self.phrases` (or X as {label: phrases}, or X texts with y labels)."""
        if X is not None and y is not None:
            bank: dict[str, list[str]] = {}
            for text, label in zip(X, y, strict=True):
                bank.setdefault(label, []).append(text)
        elif isinstance(X, dict):
            bank = X
        else:
            bank = self.phrases if self.phrases is not None else default_phrases(self.bank)
        bank = {label: [p for p in items if normalise_text(p)] for label, items in bank.items()}
        bank = {label: items for label, items in bank.items() if items}
        if len(bank) < 2:
            raise ValueError("phrases must give at least two labels with a phrase each")
        self.labels_ = tuple(bank)
        texts, owner = [], []
        for i, label in enumerate(self.labels_):
            for phrase in bank[label]:
                texts.append(phrase)
                owner.append(i)
        self.expander_ = SynonymExpander(self.thesaurus).fit()
        expanded = self.expander_.transform(texts)
        self.vectorizer_ = char_vectorizer(self.ngram_range)
        self.phrase_matrix_ = self.vectorizer_.fit_transform(expanded).tocsr()
        self.phrase_owner_ = np.asarray(owner, dtype=np.intp)
        self.phrase_texts_ = tuple(texts)
        self.n_phrases_ = len(texts)
        # Calibration, leave one out: each phrase scored against all the others.
        sims = (self.phrase_matrix_ @ self.phrase_matrix_.T).toarray()
        np.fill_diagonal(sims, -1.0)
        scores = self._label_scores(sims)
        features, target = [], []
        for row, label in enumerate(owner):
            features.append(self._features(scores[row]))
            target.append((np.arange(len(self.labels_)) == label).astype(int))
        x = np.concatenate(features)
        t = np.concatenate(target)
        self.calibration_ = LogisticRegression(C=10.0).fit(x, t)
        self.phrase_matrix_t_ = self.phrase_matrix_.T.tocsr()
        return self

    def _label_scores(self, sims: np.ndarray) -> np.ndarray:
        """(units x phrases) similarities -> (units x labels) best similarity per label.
        Phrases are stored grouped by label, so a reduceat over each label's run does it."""
        starts = np.searchsorted(self.phrase_owner_, np.arange(len(self.labels_)))
        return np.maximum(np.maximum.reduceat(sims, starts, axis=1), 0.0).astype(np.float64)

    @staticmethod
    def _features(scores: np.ndarray) -> np.ndarray:
        """Per label: its score, and its margin over the best *other* label."""
        scores = np.atleast_2d(scores)
        order = np.sort(scores, axis=1)
        best, second = order[:, -1:], order[:, -2:-1]
        other_best = np.where(scores >= best, second, best)
        return np.stack([scores.ravel(), (scores - other_best).ravel()], axis=1)

    def _clauses(self, text: str) -> list[str]:
        """The clauses of `text`, synonym-expanded."""
        return [self.expander_.expand(c) for c in split_clauses(text)]

    @staticmethod
    def _unit_rows(n: int) -> list[list[int]]:
        """Units of a text of n clauses, as clause positions: each clause, each two
        neighbours, the whole text (char_wb n-grams never cross the space that joins them,
        so a unit's counts are the sum of its clauses')."""
        units = [[i] for i in range(n)] + [[i, i + 1] for i in range(n - 1)]
        if n > 2:
            units.append(list(range(n)))
        return units

    def predict_proba(self, texts) -> np.ndarray:
        """Confidence (0..1) of every label for every text: shape (len(texts), labels)."""
        check_is_fitted(self)
        if isinstance(texts, str):
            raise ValueError("texts must be a list of strings, not a string")
        texts = list(texts)
        out = np.zeros((len(texts), len(self.labels_)), dtype=np.float64)
        clauses, rows, cols, owner = [], [], [], []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"texts[{i}] must be a string")
            first = len(clauses)
            found = self._clauses(text)
            clauses.extend(found)
            for unit in self._unit_rows(len(found)):
                for c in unit:
                    rows.append(len(owner))
                    cols.append(first + c)
                owner.append(i)
        if not owner:
            return out
        counts = fast_counts(self.vectorizer_, clauses)
        compose = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(owner), len(clauses)))
        vectors = tfidf_from_counts(self.vectorizer_, (compose @ counts).tocsr())
        sims = (vectors @ self.phrase_matrix_t_).toarray()
        scores = self._label_scores(sims)
        z = self._features(scores) @ self.calibration_.coef_[0] + self.calibration_.intercept_[0]
        proba = 1.0 / (1.0 + np.exp(-z))
        proba = proba.reshape(len(owner), len(self.labels_))
        proba[scores <= 0] = 0.0
        np.maximum.at(out, np.asarray(owner), proba)
        return out

    transform = predict_proba

    def tag(self, text: str, min_confidence: float | None = None) -> list[tuple[str, float]]:
        """Labels of one text with their confidence, best first, at least `min_confidence`
        (default `threshold`), at most `max_labels`."""
        floor = self.threshold if min_confidence is None else min_confidence
        proba = self.predict_proba([text])[0]
        order = np.lexsort((np.arange(len(proba)), -proba))
        top_floor = min(floor, self.top_threshold)
        return [(self.labels_[i], round(float(proba[i]), 4))
                for n, i in enumerate(order[:self.max_labels])
                if proba[i] > 0 and (proba[i] >= floor or (n == 0 and proba[i] >= top_floor))]

    def predict(self, texts) -> list[tuple[str, ...]]:
        return [tuple(label for label, _ in self.tag(text)) for text in texts]

    def best_clause(self, text: str, label: str) -> str:
        """The clause of `text` that says `label` most (to learn from a confirmed need)."""
        check_is_fitted(self)
        clauses = split_clauses(text)
        if not clauses:
            return ""
        proba = self.predict_proba(clauses)[:, self.labels_.index(label)]
        return clauses[int(np.argmax(proba))]

    def nearest_phrases(self, text: str, label: str, n: int = 2) -> list[str]:
        """The example phrasings of `label` closest to `text` (to explain a tag)."""
        check_is_fitted(self)
        i = self.labels_.index(label)
        vector = self.vectorizer_.transform(self.expander_.transform([text]))
        sims = (vector @ self.phrase_matrix_.T).toarray()[0]
        rows = np.flatnonzero(self.phrase_owner_ == i)
        best = rows[np.argsort(-sims[rows], kind="stable")[:n]]
        return [self.phrase_texts_[r] for r in best if sims[r] > 0]


class NeedsTagger(PhraseTagger):
    """The help-request tagger: difficulties from a request's free text."""

    def fit(self, X=None, y=None):
        super().fit(X, y)
        from .schema import DIFFICULTIES
        unknown = [label for label in self.labels_ if label not in DIFFICULTIES]
        if unknown:
            raise ValueError(f"unknown difficulties in phrases: {unknown}")
        return self


__all__ = ["NEEDS_THRESHOLD", "STOP_WORDS_ZH", "NeedsTagger", "PhraseTagger", "SynonymExpander", "char_vectorizer",
           "default_phrases", "format_phrases", "is_content_term", "merge_phrases",
           "normalise_text", "parse_phrases", "split_clauses"]
