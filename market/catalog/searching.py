"""Search that understands how people say things: synonyms (the `synonyms` package, with
staff groups from the database passed in as data), typo tolerance against the catalogue's
own vocabulary, suggestions while typing, and popular searches.

The vocabulary (distinct public titles with their counts, brands, the words of categories
and synonyms) is built from the database once per process and rebuilt only when the
products changed: every SEARCH_VOCAB_SECONDS a process compares one cheap stamp (count and
last update of products) with the one it built from. Suggestions are answered from it in
memory, without a database round trip.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, url_for
from flask_babel import force_locale, get_locale
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from market import search
from market.caching import remember
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Brand, Product, SearchQueryDay, SynonymGroup
from market.vocab import CATEGORIES
from synonyms import Speller, Thesaurus, normalise, parse_group

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
POPULAR_KEY = "search:popular"
MAX_QUERY_CHARS = 100
VOCAB_MAX_TITLES = 100_000
VOCAB_MAX_GRAMS = 50_000
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]*")


# ---- synonyms ------------------------------------------------------------------------

def staff_group_lines() -> list[str]:
    """The staff's synonym groups as lines, oldest first. Each process keeps them for
    SYNONYMS_CACHE_SECONDS (no round trip per search or keystroke); an edit clears the
    copy of the process that made it, the others follow within that time."""
    app = current_app._get_current_object()
    ttl = float(app.config.get("SYNONYMS_CACHE_SECONDS", 60))
    state = app.extensions.setdefault("search_synonyms", {"lines": None, "at": 0.0})
    now = time.monotonic()
    if state["lines"] is None or ttl <= 0 or now - state["at"] >= ttl:
        state["lines"] = list(db.session.scalars(select(SynonymGroup.line).order_by(SynonymGroup.id)))
        state["at"] = now
    return state["lines"]


def forget_staff_groups() -> None:
    current_app.extensions.setdefault("search_synonyms", {})["lines"] = None


@lru_cache(maxsize=16)
def _thesaurus_for(lines: tuple[str, ...]) -> Thesaurus:
    groups = []
    for line in lines:
        try:
            groups.append(parse_group(line))
        except ValueError as exc:  # stored before a rule changed: skip it, keep searching
            log.warning("skipping synonym group %r: %s", line, exc)
    return Thesaurus.default().merged(groups)


def thesaurus() -> Thesaurus:
    """The shipped lists merged with the staff's groups."""
    return _thesaurus_for(tuple(staff_group_lines()))


def expansion_on() -> bool:
    return bool(current_app.config.get("SEARCH_EXPANSION", True))


def query_pieces(q: str) -> search.Pieces:
    """What to look for: the query's words, each with its synonyms when expansion is on."""
    if not expansion_on():
        return search.literal_pieces(q)
    # A fresh copy of the remembered expansion (callers may extend their lists).
    return [[list(terms) for terms in piece] for piece in _expanded(q, tuple(staff_group_lines()))]


@lru_cache(maxsize=4096)
def _expanded(q: str, lines: tuple[str, ...]) -> search.Pieces:
    """The expansion of `q` by the thesaurus of these staff groups: the same for every page
    and facet count asking it (a listing asks twice), about 1 ms of work each time; keyed by
    the staff's lines, so an edit of a synonym group is a new key at once."""
    return search.expanded_pieces(_thesaurus_for(lines).alternatives(q))


# ---- the catalogue's vocabulary --------------------------------------------------------

@dataclass
class Vocabulary:
    speller: Speller
    titles: list[str] = field(default_factory=list)          # most common first
    keys: list[str] = field(default_factory=list)            # normalised titles
    by_char: dict[str, list[int]] = field(default_factory=dict)  # CJK char / Latin initial -> titles
    brands: list[tuple[str, str, str]] = field(default_factory=list)  # slug, name, name_en
    stamp: tuple | None = None
    # Suggestions already answered from this vocabulary (people type the same prefixes):
    # dropped with it when it is rebuilt.
    suggested: dict = field(default_factory=dict)


def _stamp() -> tuple:
    row = db.session.execute(select(func.count(Product.id), func.max(Product.updated_at))).one()
    brands = db.session.execute(select(func.count(Brand.id), func.max(Brand.id))).one()
    return (*row, *brands, tuple(staff_group_lines()))


def _grams(text: str):
    for run in _CJK.findall(text):
        for n in range(2, 5):
            for i in range(len(run) - n + 1):
                yield run[i : i + n]
    yield from _LATIN_WORD.findall(text)


def build_vocabulary(stamp: tuple | None = None) -> Vocabulary:
    count = func.count(Product.id)
    rows = db.session.execute(
        public_products().with_only_columns(Product.title, count).group_by(Product.title)
        .order_by(count.desc(), Product.title).limit(VOCAB_MAX_TITLES)
    ).all()
    brands = [(b.slug, b.name, b.name_en or "") for b in db.session.scalars(select(Brand).order_by(Brand.name))]
    return vocabulary_from([(title, n) for title, n in rows], brands, stamp)


def vocabulary_from(rows: list[tuple[str, int]], brands: list[tuple[str, str, str]],
                    stamp: tuple | None = None) -> Vocabulary:
    """The vocabulary of (title, count) rows, commonest first, and (slug, name, name_en) brands."""
    words: dict[str, int] = defaultdict(int)
    vocab = Vocabulary(speller=Speller(), brands=brands)
    by_char: dict[str, list[int]] = defaultdict(list)
    for i, (title, n) in enumerate(rows):
        key = normalise(title)
        vocab.titles.append(title)
        vocab.keys.append(key)
        for gram in set(_grams(key)):
            words[gram] += n
        for ch in set("".join(_CJK.findall(key))) | {w[0] for w in _LATIN_WORD.findall(key)}:
            by_char[ch].append(i)
    extra = [name for _, name, _ in brands] + [en for _, _, en in brands]
    for locale in ("zh", "en"):
        with force_locale(locale):
            extra += [str(label) for label in CATEGORIES.values()]
    extra += [term for group in thesaurus().groups for term in (*group.terms, group.broader or "")]
    for text in extra:
        for gram in set(_grams(normalise(text))):
            words[gram] += 1
    if len(words) > VOCAB_MAX_GRAMS:
        words = dict(sorted(words.items(), key=lambda kv: kv[1], reverse=True)[:VOCAB_MAX_GRAMS])
    vocab.speller.fit(words)
    vocab.by_char = dict(by_char)
    vocab.stamp = stamp
    return vocab


_lock = threading.Lock()


def vocabulary() -> Vocabulary:
    """This process's vocabulary, rebuilt when the stamp has changed (checked at most every
    SEARCH_VOCAB_SECONDS; 0: rebuilt on every call, for tests)."""
    app = current_app._get_current_object()
    ttl = float(app.config.get("SEARCH_VOCAB_SECONDS", 300))
    state = app.extensions.setdefault("search_vocabulary", {"vocab": None, "checked": 0.0})
    now = time.monotonic()
    if state["vocab"] is not None and ttl > 0 and now - state["checked"] < ttl:
        return state["vocab"]
    with _lock:
        if state["vocab"] is not None and ttl > 0 and now - state["checked"] < ttl:
            return state["vocab"]
        stamp = _stamp() if ttl > 0 else None
        if state["vocab"] is None or stamp is None or stamp != state["vocab"].stamp:
            started = time.monotonic()
            state["vocab"] = build_vocabulary(stamp)
            log.info("search vocabulary built: %d titles in %.0f ms", len(state["vocab"].titles),
                     (time.monotonic() - started) * 1000)
        state["checked"] = time.monotonic()
        return state["vocab"]


def correct(q: str) -> str | None:
    """The query with its typos corrected against the catalogue, or None."""
    if not expansion_on():
        return None
    return vocabulary().speller.correct(q)


# ---- suggestions while typing -----------------------------------------------------------

@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "category", "brand" or "title"
    args: tuple[tuple[str, str], ...]  # query-string arguments of /products


def _titles_containing(vocab: Vocabulary, key: str, limit: int, seen: set[str]) -> list[str]:
    if not key:
        return []
    latin = _LATIN_WORD.match(key)
    chars = [key[0]] if latin else [c for c in set(key) if _CJK.match(c)] or [key[0]]
    lists = [vocab.by_char.get(c, []) for c in chars]
    candidates = min(lists, key=len)
    found = []
    for i in candidates:
        title_key = vocab.keys[i]
        if key in title_key and vocab.titles[i] not in seen:
            found.append(vocab.titles[i])
            seen.add(vocab.titles[i])
            if len(found) >= limit:
                break
    return found


@lru_cache(maxsize=1)
def _category_keys() -> tuple[tuple[str, str, str], ...]:
    """(code, Chinese label, English label), normalised, once per process: switching the
    locale twice per category made most of a suggestion's CPU time."""
    keys = []
    for code, label in CATEGORIES.items():
        with force_locale("zh"):
            zh = normalise(str(label))
        with force_locale("en"):
            en = normalise(str(label))
        keys.append((code, zh, en))
    return tuple(keys)


SUGGEST_MEMO_ITEMS = 4096


def suggest(q: str, limit: int = 8) -> list[Suggestion]:
    """Categories, brands and product titles for what has been typed so far: the first few
    that contain it, the commonest titles first; synonyms fill up when titles run short.
    In memory, no SQL; an answer is remembered with the vocabulary it came from."""
    key = normalise(q)[:MAX_QUERY_CHARS]
    if not key:
        return []
    vocab = vocabulary()
    words = thesaurus() if expansion_on() else None
    locale = get_locale()
    memo_key = (key, limit, str(locale), id(words))
    found = vocab.suggested.get(memo_key)
    if found is None:
        found = _suggest(vocab, words, key, limit)
        if len(vocab.suggested) >= SUGGEST_MEMO_ITEMS:
            vocab.suggested.clear()
        vocab.suggested[memo_key] = found
    return list(found)


def suggestion_limit(raw: str | None) -> int:
    """`limit` of /api/search/suggest: 1 to 12, 8 when absent or not a number."""
    try:
        limit = int(raw) if raw is not None else 8
    except ValueError:
        limit = 8
    return min(max(limit or 8, 1), 12)


def suggestion_body(q: str, limit: int) -> bytes:
    """The JSON answer of /api/search/suggest for `q` as typed: built once per vocabulary,
    language and thesaurus (the URLs included), then served as bytes."""
    vocab = vocabulary()
    words = thesaurus() if expansion_on() else None
    memo_key = ("json", q, limit, str(get_locale()), id(words))
    body = vocab.suggested.get(memo_key)
    if body is None:
        items = suggest(q, limit)
        body = jsonify(q=q, suggestions=[
            {"text": s.text, "kind": s.kind, "url": url_for("catalog.products", **dict(s.args))} for s in items
        ]).get_data()
        if len(vocab.suggested) >= SUGGEST_MEMO_ITEMS:
            vocab.suggested.clear()
        vocab.suggested[memo_key] = body
    return body


def remembered_suggestion(app, q: str, limit: int, locale: str) -> bytes | None:
    """The answer `suggestion_body` would give, only when it needs nothing but memory: the
    answer is remembered, the vocabulary and the staff's synonyms are not due for their
    freshness checks, and expansion's setting is unchanged. Needs no app context (the
    suggestion lane, market.catalog.suggest_lane, asks before Flask sees the request);
    None: let Flask answer."""
    state = app.extensions.get("search_vocabulary")
    vocab = state and state["vocab"]
    if vocab is None:
        return None
    now = time.monotonic()
    ttl = float(app.config.get("SEARCH_VOCAB_SECONDS", 300))
    if ttl <= 0 or now - state["checked"] >= ttl:
        return None
    words = None
    if app.config.get("SEARCH_EXPANSION", True):
        synonyms = app.extensions.get("search_synonyms")
        syn_ttl = float(app.config.get("SYNONYMS_CACHE_SECONDS", 60))
        if not synonyms or synonyms.get("lines") is None or syn_ttl <= 0 or now - synonyms["at"] >= syn_ttl:
            return None
        words = _thesaurus_for(tuple(synonyms["lines"]))
    return vocab.suggested.get(("json", q, limit, locale, id(words)))


def _suggest(vocab: Vocabulary, words: Thesaurus | None, key: str, limit: int) -> list[Suggestion]:
    out: list[Suggestion] = []
    for code, zh, en in _category_keys():
        if key in zh or key in en or key in code:
            out.append(Suggestion(str(CATEGORIES[code]), "category", (("category", code),)))
    for slug, name, name_en in vocab.brands:
        if key in normalise(name) or (name_en and key in normalise(name_en)):
            out.append(Suggestion(name, "brand", (("brand", slug),)))
    out = out[: max(limit // 2, 1)]
    seen: set[str] = set()
    keys = [key] + (words.synonyms(key) if words is not None else [])
    for k in keys:
        room = limit - len(out)
        if room <= 0:
            break
        out += [Suggestion(t, "title", (("q", t),)) for t in _titles_containing(vocab, k, room, seen)]
    return out


# ---- popular searches -------------------------------------------------------------------

def beijing_today() -> date:
    return datetime.now(BEIJING).date()


def _insert(table):
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def record_search(q: str, results: int) -> None:
    """Count one search of `q` today for "popular searches". Each process adds its counts up
    in memory and writes them every SEARCH_COUNT_FLUSH_SECONDS (one atomic upsert per
    distinct query, safe under concurrency), so sixteen buyers searching the same word do
    not queue on one row's lock; with 0 every search is written at once. A worker that dies
    loses at most that many seconds of its counts. A failure is logged and forgotten:
    counting must never break searching."""
    query = normalise(q)[:MAX_QUERY_CHARS]
    if not query:
        return
    app = current_app._get_current_object()
    every = float(app.config.get("SEARCH_COUNT_FLUSH_SECONDS", 0))
    if every <= 0:
        _write_search_counts({(beijing_today(), query): [1, results]})
        return
    state = app.extensions.setdefault("search_counts", {"lock": threading.Lock(), "counts": {},
                                                        "flushed": time.monotonic()})
    now = time.monotonic()
    with state["lock"]:
        entry = state["counts"].setdefault((beijing_today(), query), [0, results])
        entry[0] += 1
        entry[1] = results
        if now - state["flushed"] < every:
            return
        counts, state["counts"], state["flushed"] = state["counts"], {}, now
    _write_search_counts(counts)


def flush_search_counts() -> None:
    """Write this process's counted searches now (tests, shutdown)."""
    state = current_app.extensions.get("search_counts")
    if not state:
        return
    with state["lock"]:
        counts, state["counts"], state["flushed"] = state["counts"], {}, time.monotonic()
    _write_search_counts(counts)


def _write_search_counts(counts: dict) -> None:
    for (day, query), (searches, results) in counts.items():
        stmt = _insert(SearchQueryDay).values(day=day, query=query, searches=searches, results=results)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "query"],
            set_={"searches": SearchQueryDay.searches + stmt.excluded.searches, "results": stmt.excluded.results},
        )
        try:
            # Its own connection and transaction: committing the request's session would
            # expire the products the page is about to render.
            with db.engine.begin() as conn:
                conn.execute(stmt)
        except SQLAlchemyError as exc:
            log.warning("could not count the search %r: %s", query, exc)


def popular_searches(limit: int = 8, days: int = 30) -> list[str]:
    """The most searched queries of the last `days` days whose last search found something."""
    def compute() -> list[str]:
        total = func.sum(SearchQueryDay.searches)
        return list(db.session.scalars(
            select(SearchQueryDay.query)
            .where(SearchQueryDay.day >= beijing_today() - timedelta(days=days), SearchQueryDay.results > 0)
            .group_by(SearchQueryDay.query).order_by(total.desc(), SearchQueryDay.query).limit(limit)
        ))
    return remember(POPULAR_KEY, int(current_app.config.get("POPULAR_CACHE_SECONDS", 0)), compute)
