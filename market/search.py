"""Search tokens that work for Chinese and English on SQLite and PostgreSQL.

Chinese has no spaces and many search words are two characters long, so indexed text
is split into CJK unigrams and bigrams plus lower-cased Latin/number words. A query
word of one CJK character matches the unigram; a longer CJK run must contain all of its
bigrams; a Latin word matches as a prefix ("embroid" finds "embroidery").
The same token string feeds FTS5 (SQLite) and a GIN tsvector index (PostgreSQL).
"""
from __future__ import annotations

import re
import unicodedata

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
MAX_INDEXED_CHARS = 4000
MAX_QUERY_TERMS = 12


def _runs(text: str) -> list[str]:
    return _RUN.findall(unicodedata.normalize("NFKC", text or "").lower())


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for run in _runs((text or "")[:MAX_INDEXED_CHARS]):
        if _IS_CJK.match(run):
            tokens.extend(run)
            tokens.extend(run[j : j + 2] for j in range(len(run) - 1))
        else:
            tokens.append(run)
    return tokens


TITLE_REPEAT = 3
SECTION = " | "


def index_tokens(title: str, description: str = "") -> str:
    """Token string for the index: title tokens, then `|`, then description tokens.

    Title tokens are repeated so SQLite's bm25 ranks title matches first; PostgreSQL
    weights the part before `|` with setweight instead (its tsvector keeps no counts).
    `|` is never a token, so it separates the parts without being searchable.
    """
    title_tokens = " ".join(_tokens(title))
    repeated = " ".join([title_tokens] * TITLE_REPEAT) if title_tokens else ""
    return f"{repeated}{SECTION}{' '.join(_tokens(description))}".strip()


def product_tokens(product) -> str:
    """A product's token string: its Chinese and English titles, then both descriptions, so a
    search in either language finds it (and a title match in either ranks first)."""
    return index_tokens(" ".join(t for t in (product.title, getattr(product, "title_en", "")) if t),
                        " ".join(t for t in (product.description, getattr(product, "description_en", "")) if t))


def query_terms(query: str) -> list[tuple[str, bool]]:
    """(token, is_prefix) pairs that must all match, deduplicated, in order."""
    terms: list[tuple[str, bool]] = []
    for run in _runs(query):
        if _IS_CJK.match(run):
            grams = [run] if len(run) == 1 else [run[j : j + 2] for j in range(len(run) - 1)]
            terms.extend((g, False) for g in grams)
        else:
            terms.append((run, True))
    seen: set[tuple[str, bool]] = set()
    unique = [t for t in terms if not (t in seen or seen.add(t))]
    return unique[:MAX_QUERY_TERMS]


def fts5_query(terms: list[tuple[str, bool]]) -> str:
    # Tokens hold only CJK letters, a-z and 0-9, so double quotes cannot appear inside.
    return " AND ".join(f'"{tok}"*' if prefix else f'"{tok}"' for tok, prefix in terms)


# The indexed tsvectors on PostgreSQL (market.models.catalog.POSTGRES_FTS_DDL).
# They are stored, generated columns (migration 0019) with their own GIN indexes.
PG_VECTOR = "products.search_vector"
PG_TITLE_VECTOR = "products.search_title_vector"


def tsquery(terms: list[tuple[str, bool]]) -> str:
    return " & ".join(f"'{tok}':*" if prefix else f"'{tok}'" for tok, prefix in terms)


# ---- expanded queries ---------------------------------------------------------------
# A query expanded with synonyms is a list of pieces that must all match; each piece is
# a list of alternatives, any of which may match; each alternative is a list of terms that
# must all match (what query_terms gives for one word). 绣花扇子 ->
# [[[("绣花", False)], [("刺绣", False)], ...], [[("扇子", False)], [("团扇", False)], ...]]
Terms = list[tuple[str, bool]]
Pieces = list[list[Terms]]
MAX_EXPANDED_TERMS = 60


def literal_pieces(query: str) -> Pieces:
    """The query as typed, with no expansion: one piece, one alternative."""
    terms = query_terms(query)
    return [[terms]] if terms else []


MAX_ALTERNATIVES = 10


def _covers(general: Terms, specific: Terms) -> bool:
    """Whether every product matching `specific` matches `general` too (each term of
    `general` is a term of `specific`, or a prefix of one): `specific` is then redundant."""
    return all(any(t == g or (g_prefix and t_prefix and t.startswith(g)) for t, t_prefix in specific)
               for g, g_prefix in general)


def expanded_pieces(alternatives: list[tuple[str, ...]]) -> Pieces:
    """Pieces from `synonyms.Thesaurus.alternatives`: each text becomes its terms; empty and
    redundant ones are dropped ("embroider" covers "embroidered"), at most MAX_ALTERNATIVES
    per piece, and the whole stays under MAX_EXPANDED_TERMS terms. The typed word stays first."""
    pieces: Pieces = []
    budget = MAX_EXPANDED_TERMS
    for texts in alternatives:
        candidates = [t for t in (query_terms(text_) for text_ in texts) if t]
        piece: list[Terms] = []
        for i, terms in enumerate(candidates):
            if i and any(_covers(other, terms) for j, other in enumerate(candidates) if j != i and
                         (not _covers(terms, other) or j < i)):
                continue
            if terms in piece or (piece and len(terms) > budget) or len(piece) >= MAX_ALTERNATIVES:
                continue
            piece.append(terms)
            budget -= len(terms)
        if piece:
            pieces.append(piece)
    return pieces


def fts5_expression(pieces: Pieces) -> str:
    return " AND ".join(
        "(" + " OR ".join(f"({fts5_query(terms)})" for terms in piece) + ")" for piece in pieces
    )


def tsquery_expression(pieces: Pieces) -> str:
    return " & ".join("(" + " | ".join(f"({tsquery(terms)})" for terms in piece) + ")" for piece in pieces)
