"""Synonym groups and query expansion."""
from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MAX_TERM_CHARS = 40
MAX_GROUP_TERMS = 30
_SEPARATORS = re.compile(r"[,，、;；\n]+")
_ARROW = re.compile(r"=>|→|⇒")
_LATIN = re.compile(r"[a-z0-9]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, lower case, single spaces: the form terms and queries are compared in."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


@dataclass(frozen=True)
class Group:
    """`terms` mean the same thing; with `broader` set, `broader` expands to `terms` only."""

    terms: tuple[str, ...]
    broader: str | None = None

    def __post_init__(self):
        if not self.terms:
            raise ValueError("a synonym group needs at least one term")

    def as_line(self) -> str:
        return f"{self.broader} => {', '.join(self.terms)}" if self.broader else ", ".join(self.terms)


def _split_terms(text: str) -> list[str]:
    terms = []
    for raw in _SEPARATORS.split(text):
        term = normalise(raw)
        if not term:
            continue
        if len(term) > MAX_TERM_CHARS:
            raise ValueError(f"term too long (at most {MAX_TERM_CHARS} characters): {term[:20]}…")
        if term not in terms:
            terms.append(term)
    return terms


def parse_group(line: str) -> Group:
    """One group from ``a, b, c`` or ``a => b, c``; ValueError says what is wrong."""
    parts = _ARROW.split(line or "")
    if len(parts) > 2:
        raise ValueError("use => at most once in a group")
    if len(parts) == 2:
        broader = _split_terms(parts[0])
        if len(broader) != 1:
            raise ValueError("write exactly one term before =>")
        terms = [t for t in _split_terms(parts[1]) if t != broader[0]]
        if not terms:
            raise ValueError("write at least one term after =>")
        group = Group(tuple(terms), broader[0])
    else:
        terms = _split_terms(parts[0])
        if len(terms) < 2:
            raise ValueError("a synonym group needs at least two different terms")
        group = Group(tuple(terms))
    if len(group.terms) > MAX_GROUP_TERMS:
        raise ValueError(f"a group may hold at most {MAX_GROUP_TERMS} terms")
    return group


def parse_groups(text: str) -> list[Group]:
    """Groups from text, one per line; blank lines and lines starting with # are skipped."""
    groups = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            groups.append(parse_group(stripped))
        except ValueError as exc:
            raise ValueError(f"line {n}: {exc}") from None
    return groups


def _as_group(item: Group | str | Iterable[str]) -> Group:
    if isinstance(item, Group):
        return item
    if isinstance(item, str):
        return parse_group(item)
    return parse_group(", ".join(item))


class Thesaurus:
    """Expands queries with synonyms. Immutable once built; cheap to build (a dict)."""

    MAX_VARIANTS = 8

    def __init__(self, groups: Iterable[Group | str | Iterable[str]] = ()):
        self.groups: tuple[Group, ...] = tuple(_as_group(g) for g in groups)
        alternatives: dict[str, list[str]] = {}
        for group in self.groups:
            if group.broader:
                self._add(alternatives, group.broader, group.terms)
                for term in group.terms:
                    alternatives.setdefault(term, [])
            else:
                for term in group.terms:
                    self._add(alternatives, term, [t for t in group.terms if t != term])
        self._alternatives = {term: tuple(alts) for term, alts in alternatives.items()}
        # Longest terms first, so 海鲜干货 wins over 海鲜 at the same position.
        self._terms = sorted(self._alternatives, key=len, reverse=True)

    @staticmethod
    def _add(table: dict[str, list[str]], term: str, others: Iterable[str]) -> None:
        alts = table.setdefault(term, [])
        alts.extend(o for o in others if o not in alts and o != term)

    @classmethod
    def default(cls, lists: Iterable[str] = ("zh", "latin")) -> Thesaurus:
        """The lists shipped with the package (synonyms/data/<name>.txt): by default the
        search lists; the matcher adds ``"needs_zh"`` (words for business difficulties)."""
        return cls(_default_groups(tuple(lists)))

    def merged(self, groups: Iterable[Group | str | Iterable[str]]) -> Thesaurus:
        """A new thesaurus with these groups added (staff edits on top of the defaults)."""
        return Thesaurus(self.groups + tuple(_as_group(g) for g in groups))

    def __len__(self) -> int:
        return len(self.groups)

    def synonyms(self, term: str) -> list[str]:
        """What `term` expands to (not including itself); [] for an unknown term."""
        return list(self._alternatives.get(normalise(term), ()))

    def find_terms(self, text: str) -> list[tuple[int, int, str]]:
        """Known terms in `text` (normalised) as (start, end, term), left to right, longest
        match first, not overlapping."""
        found = []
        i = 0
        while i < len(text):
            for term in self._terms:
                if text.startswith(term, i) and self._whole_word(text, i, i + len(term), term):
                    found.append((i, i + len(term), term))
                    i += len(term)
                    break
            else:
                i += 1
        return found

    @staticmethod
    def _whole_word(text: str, start: int, end: int, term: str) -> bool:
        # Latin terms must not start or end inside a Latin word; CJK has no word breaks.
        if _LATIN.match(term[0]) and start > 0 and _LATIN.match(text[start - 1]):
            return False
        return not (_LATIN.match(term[-1]) and end < len(text) and _LATIN.match(text[end]))

    def alternatives(self, text: str, per_term: int = 12) -> list[tuple[str, ...]]:
        """`text` (normalised) cut into pieces, each a tuple of what may stand in its place:
        a known term first, then its synonyms (at most `per_term` in all); other text is a
        piece of its own. A search engine ANDs the pieces and ORs within each:
        绣花扇子 -> [("绣花", "刺绣", ...), ("扇子", "团扇", "fan", ...)]."""
        query = normalise(text)
        pieces: list[tuple[str, ...]] = []
        last = 0
        for start, end, term in self.find_terms(query):
            if query[last:start].strip():
                pieces.append((query[last:start].strip(),))
            pieces.append((term, *self._alternatives[term])[:per_term])
            last = end
        if query[last:].strip():
            pieces.append((query[last:].strip(),))
        return pieces

    def expand(self, text: str, limit: int | None = None) -> list[str]:
        """`text` (normalised) first, then variants with known terms replaced by their
        synonyms, fewest replacements first, at most `limit` (default MAX_VARIANTS) in all.
        Known terms are set apart by spaces in the variants, so a search engine that
        splits on spaces treats each as a word of its own (绣花团扇 -> 绣花 团扇)."""
        limit = self.MAX_VARIANTS if limit is None else limit
        query = normalise(text)
        if not query or limit < 1:
            return [query] if query else []
        pieces = self.alternatives(query, per_term=MAX_GROUP_TERMS)
        if all(len(p) == 1 for p in pieces):
            return [query]
        variants = [query]
        choices = [range(len(p)) for p in pieces]
        # Variants in order of the number of replacements, without building the whole
        # product for long queries: k replacements for k = 0, 1, ...
        for k in range(len(pieces) + 1):
            for combo in _with_replacements(choices, k):
                variant = " ".join(pieces[i][c] for i, c in enumerate(combo))
                if variant not in variants:
                    variants.append(variant)
                if len(variants) >= limit:
                    return variants
        return variants


def _with_replacements(choices: list[range], k: int):
    """Index tuples with exactly k non-zero entries, earlier positions varied first."""
    positions = [i for i, c in enumerate(choices) if len(c) > 1]
    for chosen in itertools.combinations(positions, k):
        for picks in itertools.product(*(range(1, len(choices[i])) for i in chosen)):
            combo = [0] * len(choices)
            for i, pick in zip(chosen, picks, strict=True):
                combo[i] = pick
            yield tuple(combo)


@lru_cache(maxsize=8)
def _default_groups(lists: tuple[str, ...] = ("zh", "latin")) -> tuple[Group, ...]:
    groups: list[Group] = []
    for name in (f"{n}.txt" for n in lists):
        if not resources.files("synonyms").joinpath("data", name).is_file():
            raise ValueError(f"no shipped synonym list {name!r}")
        text = resources.files("synonyms").joinpath("data", name).read_text(encoding="utf-8")
        try:
            groups.extend(parse_groups(text))
        except ValueError as exc:
            raise ValueError(f"synonyms/data/{name}: {exc}") from None
    return tuple(groups)
