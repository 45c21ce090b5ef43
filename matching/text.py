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
- ``PhraseTagger`` / ``NeedsTagger``: the text-to-labels tagger, defined in
  ``matching/tagger.py`` and importable from here.
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
# `python -m matching.operating_point` on the project's own development requests (never the
# evaluation set); see that module for the rule.
NEEDS_THRESHOLD = 0.20


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


# The tagger lives in matching/tagger.py; re-exported here (its historical home).
from .tagger import NeedsTagger, PhraseTagger  # noqa: E402

__all__ = ["NEEDS_THRESHOLD", "STOP_WORDS_ZH", "NeedsTagger", "PhraseTagger", "SynonymExpander", "char_vectorizer",
           "default_phrases", "format_phrases", "is_content_term", "merge_phrases",
           "normalise_text", "parse_phrases", "split_clauses"]
