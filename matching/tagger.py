"""The text-to-labels tagger: `PhraseTagger`, and `NeedsTagger` for help requests.

Pure Python + scikit-learn; no Flask. Re-exported by `matching.text` (its historical home).

A text is cut into clauses; clauses that say something is fine ("不缺钱", "质量没问题",
"销路挺好的") are set aside when something else is said (negation and irrelevance). The
units read are each clause, each two neighbouring clauses and the whole text; each unit is
expanded with synonyms and turned into char n-gram TF-IDF. Two readers score every label in
a unit:

- nearest phrasing: the label's best cosine with one of its example phrasings, and its margin
  over the best other label, turned into a confidence by a logistic calibration fitted
  leave-one-out on the phrase bank;
- a linear model: multinomial logistic regression on the same n-grams, fitted on the phrase
  bank (it weighs the n-grams that tell labels apart, where nearest neighbour counts all).

A label's confidence in a unit is ``(1 - lr_weight) * nearest + lr_weight * linear``. A third
reader, the plain one, reads the whole text (less the fine clauses) as written: the same
logistic regression fitted on the phrasings WITHOUT synonym expansion (the expansion that lets
a short clause reach a phrasing also adds, in a long request, the alternatives of every cue
word it mentions in passing; the plain n-grams keep what the request itself says). A label's
confidence in the text is ``(1 - plain_weight) * (its best over the units) + plain_weight *
plain`` (`text_proba`), which `tag`/`predict` read. The plain reader is there for the choice
of labels: on the project's hand-written development requests the best label was right for
83.7 % of them without it and 89.9 % with it (83.1 % -> 84.8 % on the bank's
cross-validation requests). `predict_proba` stays the units' best, without the plain reader:
it is what the ranking weighs an inferred need by, and the plain reader, knowing no synonyms,
would dilute a need said only in words the thesaurus bridges ("每天开播两小时，在线的就三五个人"
reads live streaming 0.997 by the units, 0.63 blended).

`tag`/`predict` keep the best label (down to `top_threshold`) and a further label only with
its own evidence: at least `threshold` confident AND the best label of some unit (a runner-up
in the clause that said the first need is not a second need) that, with `trouble_cues`
(`NeedsTagger`'s default), states a trouble (`TROUBLE_ZH`: a lack, failure, wish or
question), so a clause that only tells the situation ("我们家是种蓝莓的") adds no second need.
"""
from __future__ import annotations

import hashlib
import pickle

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .clauses import SATISFIED_ZH, TROUBLE_ZH, is_satisfied_clause, need_clauses, states_trouble
from .text import (
    NEEDS_THRESHOLD,
    SynonymExpander,
    char_vectorizer,
    default_phrases,
    fast_counts,
    normalise_text,
    split_clauses,
    tfidf_from_counts,
)

# Fitted arrays by what they were fitted from (read-only once fitted, so instances share them).
_FITTED: dict[str, dict] = {}
_FITTED_MAX = 8
_FITTED_ATTRIBUTES = ("labels_", "expander_", "vectorizer_", "phrase_matrix_", "phrase_owner_", "phrase_texts_",
                      "n_phrases_", "calibration_", "phrase_matrix_t_", "linear_coef_t_", "linear_intercept_",
                      "plain_vectorizer_", "plain_coef_t_", "plain_intercept_", "plain_content_")


def _fit_key(bank: dict, thesaurus, ngram_range, lr_c) -> str | None:
    """A digest of everything the fit reads, or None when the thesaurus cannot be serialised
    (then the tagger is fitted every time, as before)."""
    try:
        blob = pickle.dumps((sorted((label, tuple(items)) for label, items in bank.items()), list(bank),
                             thesaurus, tuple(ngram_range), float(lr_c)), protocol=4)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return hashlib.sha256(blob).hexdigest()


class PhraseTagger(BaseEstimator, TransformerMixin):
    """Tags texts with labels by resemblance to example phrasings (see the module docstring).

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
        `predict` returns a further label with a confidence at least this (and the best
        label of some unit) ...
    top_threshold : float
        ... and the best label when its confidence is at least this (a text that asks for
        help asks for something).
    max_labels : int
        At most this many labels per text.
    lr_weight : float in [0, 1]
        Weight of the linear model in a unit's confidence (0: nearest phrasing only).
    lr_C : float
        Inverse regularisation of the linear model (and of the plain reader).
    negation : bool
        Set aside clauses saying something is fine.
    trouble_cues : bool
        A further label's own unit must state a trouble (`TROUBLE_ZH`): a unit that only
        tells the situation is no evidence of a second need. The best label is not affected.
    plain_weight : float in [0, 1]
        Weight of the plain reader (the linear model on the whole text without synonyms) in a
        text's confidences (0: the units' best only).
    """

    def __init__(self, phrases=None, bank="needs_zh", thesaurus=None, ngram_range=(1, 3),
                 threshold=NEEDS_THRESHOLD, top_threshold=0.2, max_labels=3, lr_weight=0.7,
                 lr_C=50.0, negation=True, trouble_cues=False, plain_weight=0.5):
        self.phrases = phrases
        self.bank = bank
        self.thesaurus = thesaurus
        self.ngram_range = ngram_range
        self.threshold = threshold
        self.top_threshold = top_threshold
        self.max_labels = max_labels
        self.lr_weight = lr_weight
        self.lr_C = lr_C
        self.negation = negation
        self.trouble_cues = trouble_cues
        self.plain_weight = plain_weight

    def fit(self, X=None, y=None):
        """Fit on `self.phrases` (or X as {label: phrases}, or X texts with y labels)."""
        if not 0.0 <= float(self.lr_weight) <= 1.0:
            raise ValueError("lr_weight must be between 0 and 1")
        if not 0.0 <= float(self.plain_weight) <= 1.0:
            raise ValueError("plain_weight must be between 0 and 1")
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
        key = _fit_key(bank, self.thesaurus, self.ngram_range, self.lr_C)
        fitted = _FITTED.get(key) if key is not None else None
        if fitted is not None:
            # The same phrases, thesaurus and settings fit to the same arrays (the fit is
            # deterministic): reuse them. A matcher refits whenever a mentor's profile changes,
            # and the phrase bank does not change with it.
            self.__dict__.update(fitted)
            return self
        self._fit_bank(bank)
        if key is not None:
            _FITTED[key] = {name: getattr(self, name) for name in _FITTED_ATTRIBUTES}
            while len(_FITTED) > _FITTED_MAX:
                _FITTED.pop(next(iter(_FITTED)))
        return self

    def _fit_bank(self, bank: dict[str, list[str]]) -> None:
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
        # The linear reader, on the same vectors; its coefficients are read directly in
        # predict_proba (softmax of one sparse product: no per-call validation).
        linear = LogisticRegression(C=float(self.lr_C), max_iter=2000)
        linear.fit(self.phrase_matrix_, self.phrase_owner_)
        self.linear_coef_t_ = np.ascontiguousarray(linear.coef_.T, dtype=np.float64)
        self.linear_intercept_ = np.asarray(linear.intercept_, dtype=np.float64)
        # The plain reader: the same model on the phrasings as written (no synonyms), read
        # on a whole request to choose its best label.
        self.plain_vectorizer_ = char_vectorizer(self.ngram_range)
        plain = LogisticRegression(C=float(self.lr_C), max_iter=2000)
        plain.fit(self.plain_vectorizer_.fit_transform(texts), self.phrase_owner_)
        self.plain_coef_t_ = np.ascontiguousarray(plain.coef_.T, dtype=np.float64)
        self.plain_intercept_ = np.asarray(plain.intercept_, dtype=np.float64)
        # The n-grams that are more than the padding spaces of char_wb (a text with none of
        # them shares nothing with the phrasings).
        content = np.zeros(len(self.plain_vectorizer_.vocabulary_), dtype=bool)
        for gram, column in self.plain_vectorizer_.vocabulary_.items():
            content[column] = bool(gram.strip())
        self.plain_content_ = content

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

    @staticmethod
    def _unit_rows(n: int) -> list[list[int]]:
        """Units of a text of n clauses, as clause positions: each clause, each two
        neighbours, the whole text (char_wb n-grams never cross the space that joins them,
        so a unit's counts are the sum of its clauses')."""
        units = [[i] for i in range(n)] + [[i, i + 1] for i in range(n - 1)]
        if n > 2:
            units.append(list(range(n)))
        return units

    def unit_proba(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """Confidence of every label in every unit of every text: (units x labels), and the
        text each unit belongs to."""
        proba, owner, _, _ = self._read(texts)
        return proba, owner

    def _read(self, texts, plain: bool = False):
        """`unit_proba`, whether each unit states a trouble (`states_trouble`), and (when
        `plain`, else None) the plain reader's confidences per text (`plain_proba`)."""
        check_is_fitted(self)
        if isinstance(texts, str):
            raise ValueError("texts must be a list of strings, not a string")
        clauses, rows, cols, owner, troubled, raw_clauses, text_of = [], [], [], [], [], [], []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"texts[{i}] must be a string")
            first = len(clauses)
            raw = need_clauses(text, self.negation)
            trouble = [states_trouble(c) for c in raw]
            clauses.extend(self.expander_.expand(c) for c in raw)
            raw_clauses.extend(raw)
            text_of.extend([i] * len(raw))
            for unit in self._unit_rows(len(raw)):
                for c in unit:
                    rows.append(len(owner))
                    cols.append(first + c)
                owner.append(i)
                troubled.append(any(trouble[c] for c in unit))
        n_labels = len(self.labels_)
        plain_proba = self._plain(raw_clauses, text_of, len(texts)) if plain else None
        if not owner:
            return np.zeros((0, n_labels)), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=bool), plain_proba
        counts = fast_counts(self.vectorizer_, clauses)
        compose = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(owner), len(clauses)))
        vectors = tfidf_from_counts(self.vectorizer_, (compose @ counts).tocsr())
        scores = self._label_scores((vectors @ self.phrase_matrix_t_).toarray())
        z = self._features(scores) @ self.calibration_.coef_[0] + self.calibration_.intercept_[0]
        nearest = (1.0 / (1.0 + np.exp(-z))).reshape(len(owner), n_labels)
        nearest[scores <= 0] = 0.0
        proba = nearest
        if self.lr_weight > 0:
            logits = np.asarray(vectors @ self.linear_coef_t_) + self.linear_intercept_
            logits -= logits.max(axis=1, keepdims=True)
            linear = np.exp(logits)
            linear /= linear.sum(axis=1, keepdims=True)
            # A unit sharing no n-gram with any phrasing says nothing (the linear model
            # would give its class priors).
            linear[scores.max(axis=1) <= 0] = 0.0
            proba = (1.0 - self.lr_weight) * nearest + self.lr_weight * linear
        return proba, np.asarray(owner, dtype=np.intp), np.asarray(troubled, dtype=bool), plain_proba

    def _plain(self, clauses: list[str], text_of: list[int], n_texts: int) -> np.ndarray:
        """The plain reader on each text's clauses joined (as written, no synonyms): softmax
        of the linear model; zeros for a text sharing no n-gram with any phrasing."""
        out = np.zeros((n_texts, len(self.labels_)))
        if not clauses:
            return out
        counts = fast_counts(self.plain_vectorizer_, clauses)
        compose = sp.csr_matrix((np.ones(len(clauses)), (text_of, np.arange(len(clauses)))),
                                shape=(n_texts, len(clauses)))
        vectors = tfidf_from_counts(self.plain_vectorizer_, (compose @ counts).tocsr())
        logits = np.asarray(vectors @ self.plain_coef_t_) + self.plain_intercept_
        logits -= logits.max(axis=1, keepdims=True)
        out = np.exp(logits)
        out /= out.sum(axis=1, keepdims=True)
        said = np.asarray((counts[:, self.plain_content_] != 0).sum(axis=1)).ravel()
        out[(compose @ said) == 0] = 0.0
        return out

    def plain_proba(self, texts) -> np.ndarray:
        """The plain reader's confidence of every label for every text (the linear model on
        the n-grams of the text as written, less clauses saying something is fine)."""
        texts = list(texts) if not isinstance(texts, str) else texts
        return self._read(texts, plain=True)[3]

    def predict_proba(self, texts) -> np.ndarray:
        """Confidence (0..1) of every label for every text, its best over the units (what the
        ranking weighs): shape (len(texts), labels)."""
        texts = list(texts) if not isinstance(texts, str) else texts
        proba, owner = self.unit_proba(texts)
        out = np.zeros((len(texts), len(self.labels_)), dtype=np.float64)
        if len(owner):
            np.maximum.at(out, owner, proba)
        return out

    def text_proba(self, texts) -> np.ndarray:
        """The confidences `tag` reads: ``(1 - plain_weight) * predict_proba + plain_weight *
        plain_proba``, shape (len(texts), labels)."""
        texts = list(texts) if not isinstance(texts, str) else texts
        out = self.predict_proba(texts)
        if self.plain_weight > 0:
            out = (1.0 - self.plain_weight) * out + self.plain_weight * self.plain_proba(texts)
        return out

    transform = predict_proba

    def _chosen(self, proba: np.ndarray, units: np.ndarray, floor: float,
                troubled: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The labels kept for one text from its confidences and its units' confidences (a
        further label must be the best of a unit, one stating a trouble when `troubled` is given)."""
        if not len(units):
            return []
        own = units if troubled is None else units[troubled]
        winners = set(own.argmax(axis=1).tolist()) if len(own) else set()
        order = np.lexsort((np.arange(len(proba)), -proba))
        out = []
        for n, i in enumerate(order[:self.max_labels]):
            if proba[i] <= 0:
                continue
            if (n == 0 and proba[i] >= min(floor, self.top_threshold)) or (proba[i] >= floor and i in winners):
                out.append((self.labels_[i], round(float(proba[i]), 4)))
        return out

    def tag_many(self, texts, min_confidence: float | None = None) -> list[list[tuple[str, float]]]:
        """`tag` for many texts at once."""
        floor = self.threshold if min_confidence is None else min_confidence
        texts = list(texts) if not isinstance(texts, str) else texts
        proba, owner, troubled, plain = self._read(texts, plain=self.plain_weight > 0)
        result = []
        for i in range(len(texts)):
            mine = owner == i
            units = proba[mine]
            best = units.max(axis=0) if len(units) else np.zeros(len(self.labels_))
            if plain is not None:
                best = (1.0 - self.plain_weight) * best + self.plain_weight * plain[i]
            result.append(self._chosen(best, units, floor, troubled[mine] if self.trouble_cues else None))
        return result

    def tag(self, text: str, min_confidence: float | None = None) -> list[tuple[str, float]]:
        """Labels of one text with their confidence, best first: the best label at least
        `top_threshold` confident, further ones at least `min_confidence` (default
        `threshold`) and each the best label of some unit; at most `max_labels`."""
        return self.tag_many([text], min_confidence)[0]

    def predict(self, texts) -> list[tuple[str, ...]]:
        return [tuple(label for label, _ in found) for found in self.tag_many(texts)]

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
    """The help-request tagger: difficulties from a request's free text (a further need only
    from a clause stating a trouble: `trouble_cues` on by default)."""

    def __init__(self, phrases=None, bank="needs_zh", thesaurus=None, ngram_range=(1, 3),
                 threshold=NEEDS_THRESHOLD, top_threshold=0.2, max_labels=3, lr_weight=0.7,
                 lr_C=50.0, negation=True, trouble_cues=True, plain_weight=0.5):
        super().__init__(phrases=phrases, bank=bank, thesaurus=thesaurus, ngram_range=ngram_range,
                         threshold=threshold, top_threshold=top_threshold, max_labels=max_labels,
                         lr_weight=lr_weight, lr_C=lr_C, negation=negation, trouble_cues=trouble_cues,
                         plain_weight=plain_weight)

    def fit(self, X=None, y=None):
        super().fit(X, y)
        from .schema import DIFFICULTIES
        unknown = [label for label in self.labels_ if label not in DIFFICULTIES]
        if unknown:
            raise ValueError(f"unknown difficulties in phrases: {unknown}")
        return self


__all__ = ["SATISFIED_ZH", "TROUBLE_ZH", "NeedsTagger", "PhraseTagger", "is_satisfied_clause", "need_clauses",
           "states_trouble"]
