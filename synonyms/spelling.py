"""Typo tolerance against a vocabulary: one wrong character in a two- to four-character
Chinese word, or one or two wrong letters in a Latin word."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from synonyms.thesaurus import normalise

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDS = re.compile(rf"[{_CJK}]+|[a-z][a-z0-9]*")
_IS_CJK = re.compile(rf"[{_CJK}]")
MIN_CJK, MAX_CJK = 2, 4

# Characters often typed for one another (same shape or same pinyin): a candidate written
# with the look-alike wins a tie on frequency. Small on purpose; the vocabulary does the work.
LOOKALIKES = [
    "干千于", "刺剌", "绣锈秀", "篮蓝兰", "蜜密", "鲞鳖", "茶荼", "编遍", "竹竺", "虾蝦", "梅霉",
    "瓷磁", "陶淘", "雕凋", "围圆", "巾币", "织识职", "枕沈", "帕怕", "扇肩", "鱼渔", "笋简",
    "糕羔", "饼并", "粽综", "橘桔", "藤腾", "宿缩", "绸稠", "缎锻",
]
_LOOKS_LIKE = {ch: set(group) - {ch} for group in LOOKALIKES for ch in group}


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance with adjacent transpositions, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else limit + 1


class Speller:
    """Corrects query words against a vocabulary of known words with their frequencies.

    `fit(counts)` takes {word: count}: CJK words of two to four characters and Latin
    words (other entries are ignored); it learns `cjk_` (word -> count), `latin_`
    (word -> count) and a wildcard index, and returns self."""

    def __init__(self, max_latin_distance: int = 2):
        self.max_latin_distance = max_latin_distance

    def fit(self, counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> Speller:
        items = counts.items() if isinstance(counts, Mapping) else counts
        self.cjk_: dict[str, int] = {}
        self.latin_: dict[str, int] = {}
        for raw, count in items:
            word = normalise(raw)
            if not word or count <= 0:
                continue
            if _IS_CJK.fullmatch(word[0]) and all(_IS_CJK.fullmatch(c) for c in word):
                if MIN_CJK <= len(word) <= MAX_CJK:
                    self.cjk_[word] = self.cjk_.get(word, 0) + count
            elif re.fullmatch(r"[a-z][a-z0-9]*", word):
                self.latin_[word] = self.latin_.get(word, 0) + count
        # "刺?" -> {"刺绣", ...}: words that differ from a query word in one position.
        self.wildcards_: dict[str, list[str]] = defaultdict(list)
        for word in self.cjk_:
            for i in range(len(word)):
                self.wildcards_[word[:i] + "?" + word[i + 1 :]].append(word)
        self.latin_by_length_: dict[int, list[str]] = defaultdict(list)
        for word in self.latin_:
            self.latin_by_length_[len(word)].append(word)
        self.latin_sorted_ = sorted(self.latin_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "cjk_"):
            raise RuntimeError("Speller is not fitted; call fit(counts) first")

    def known(self, word: str) -> bool:
        """Whether `word` (normalised) is in the vocabulary; a Latin word is known when
        it starts a known word too, since search matches Latin words by prefix."""
        self._check_fitted()
        if word in self.cjk_ or word in self.latin_:
            return True
        if _IS_CJK.match(word):
            return False
        import bisect

        i = bisect.bisect_left(self.latin_sorted_, word)
        return i < len(self.latin_sorted_) and self.latin_sorted_[i].startswith(word)

    def correct_word(self, word: str) -> str | None:
        """The most likely intended word, or None when `word` is known or nothing is close."""
        self._check_fitted()
        word = normalise(word)
        if not word or self.known(word):
            return None
        if _IS_CJK.match(word):
            return self._correct_cjk(word)
        return self._correct_latin(word)

    def _correct_cjk(self, word: str) -> str | None:
        if len(word) > MAX_CJK:
            return self._correct_long_cjk(word)
        if len(word) < MIN_CJK:
            return None
        best, best_key = None, None
        for i, typed in enumerate(word):
            for candidate in self.wildcards_.get(word[:i] + "?" + word[i + 1 :], ()):
                key = (candidate[i] in _LOOKS_LIKE.get(typed, ()), self.cjk_[candidate], candidate)
                if best_key is None or key > best_key:
                    best, best_key = candidate, key
        return best

    def _unknown_pairs(self, run: str) -> int:
        return sum(run[i : i + 2] not in self.cjk_ for i in range(len(run) - 1))

    def _correct_long_cjk(self, run: str) -> str | None:
        """A run longer than a word (several words typed without spaces, 手工剌绣团扇): for
        each pair of characters the vocabulary has never seen, correct the two- to
        four-character windows around it; a fix counts when both pairs touching the changed
        character are known words afterwards (手工刺绣火星 is not "corrected" to 团星)."""
        for first in range(len(run) - 1):
            if run[first : first + 2] in self.cjk_:
                continue
            best, best_key = None, None
            for n in range(MAX_CJK, MIN_CJK - 1, -1):
                for start in range(max(0, first + 2 - n), min(first + 1, len(run) - n) + 1):
                    window = run[start : start + n]
                    fixed_window = None if window in self.cjk_ else self._correct_cjk(window)
                    if not fixed_window:
                        continue
                    fixed = run[:start] + fixed_window + run[start + n :]
                    k = next(i for i in range(len(run)) if run[i] != fixed[i])
                    touching = [fixed[j : j + 2] for j in (k - 1, k) if 0 <= j < len(fixed) - 1]
                    if all(pair in self.cjk_ for pair in touching):
                        key = (-self._unknown_pairs(fixed), self.cjk_[fixed_window], n)
                        if best_key is None or key > best_key:
                            best, best_key = fixed, key
            if best:
                return best
        return None

    def _correct_latin(self, word: str) -> str | None:
        if len(word) < 3:
            return None
        limit = 1 if len(word) <= 5 else self.max_latin_distance
        best, best_key = None, None
        for length in range(len(word) - limit, len(word) + limit + 1):
            for candidate in self.latin_by_length_.get(length, ()):
                d = edit_distance(word, candidate, limit)
                if d <= limit:
                    key = (-d, self.latin_[candidate], candidate)
                    if best_key is None or key > best_key:
                        best, best_key = candidate, key
        return best

    def correct(self, text: str) -> str | None:
        """`text` with every unknown word corrected, or None when nothing was changed.
        CJK runs of two to four characters are corrected as words; a longer run has its
        first unknown pair of characters corrected; Latin words of three letters or more."""
        self._check_fitted()
        query = normalise(text)
        changed = False

        def fix(match: re.Match) -> str:
            nonlocal changed
            better = self.correct_word(match.group(0))
            if better:
                changed = True
                return better
            return match.group(0)

        corrected = _WORDS.sub(fix, query)
        return corrected if changed else None
