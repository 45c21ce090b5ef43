"""A read-only, in-process index of the catalogue for listings: numpy arrays, no Flask.

Every product is a position in parallel arrays (id, artisan, category, brand, price, creation
time, whether it is published and not hidden). Search tokens (the strings market.search
writes into `products.search_tokens`) go into two inverted indexes, one over the whole string
and one over the title part, each stored as CSR: the distinct tokens sorted, and for each
token a run of positions. A Latin word matches as a prefix, and the tokens sharing a prefix
are one contiguous run, so a prefix costs one slice. A listing request is then boolean masks
(filters, terms ANDed and ORed as the SQL search does), a walk of a precomputed display order
for the page, and np.bincount for exact facet counts.

Changes arrive as rows (`apply`): scalars are updated in place; a product whose tokens
changed is marked stale in the CSR postings and its new tokens go to a small overlay, until
the owner rebuilds the whole index (`overlay_size` says when). Not thread-safe by itself:
market.catalog.indexed holds a lock around changes.
"""
from __future__ import annotations

import zlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import numpy as np

from market.search import SECTION, Pieces

# Upper edges of the price bands (market.catalog.services.PRICE_BANDS), in fen.
BAND_EDGES = np.array([5000, 10000, 30000, 100000], dtype=np.int64)
SORTS = ("relevance", "newest", "price_asc", "price_desc")


class Row(NamedTuple):
    """One product as the index needs it (a row of market.catalog.indexed's load query)."""

    id: int
    artisan_id: int
    category: str
    brand_id: int | None
    price_fen: int
    created_at: datetime | None
    updated_at: datetime | None
    live: bool  # published and not hidden by staff (the shop's own state is checked apart)
    tokens: str
    stock: int = 0
    title: str = ""


def _title_crc(title: str) -> int:
    """A stable (not per-process salted) checksum of a title, for card cache keys."""
    return zlib.crc32(title.encode())


def _micros(when: datetime | None) -> int:
    return 0 if when is None else int(when.timestamp() * 1_000_000) if when.tzinfo else int(
        (when - datetime(1970, 1, 1)).total_seconds() * 1_000_000)


class _Tokeniser:
    """Token ids for token strings, shared by the two postings of one build. A section seen
    before (a description a shop's products share, a title repeated) is split only once; the
    memo is bounded, so a catalogue of unique texts costs no more than it saves."""

    MEMO_ITEMS = 20_000

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self._seen: dict[str, np.ndarray] = {}

    def ids(self, text: str) -> np.ndarray:
        ids = self._seen.get(text)
        if ids is None:
            vocab = self.vocab
            ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in set(text.split()) if t != "|"),
                              dtype=np.int32)
            if len(self._seen) >= self.MEMO_ITEMS:
                self._seen.clear()
            self._seen[text] = ids
        return ids

    def sorted_tokens(self) -> tuple[list[str], np.ndarray]:
        """The tokens in order, and each token id's place in that order."""
        tokens = sorted(self.vocab)
        rank = np.empty(len(tokens), dtype=np.int32)
        rank[np.fromiter((self.vocab[t] for t in tokens), dtype=np.int64, count=len(tokens))] = np.arange(
            len(tokens), dtype=np.int32)
        return tokens, rank


class Postings:
    """Token -> positions, as CSR (sorted tokens, offsets, positions), plus an overlay for
    positions whose tokens changed since it was built."""

    def __init__(self, tokens: list[str], rank: np.ndarray, chunks: list[np.ndarray], owners: list[int]):
        """`chunks[i]`: token ids (from `_Tokeniser`) at position `owners[i]`, ascending; a
        position may have several chunks, and a token twice (harmless for a mask)."""
        self.tokens = tokens
        if chunks:
            keys = rank[np.concatenate(chunks)]
            positions = np.repeat(np.asarray(owners, dtype=np.int32), [len(c) for c in chunks])
            # Stable, so positions stay ascending within a token; numpy radix-sorts 16-bit keys
            # (O(n), 4x faster than the merge sort it uses for wider ones at 10 M postings).
            narrow = keys.astype(np.uint16) if len(tokens) <= 1 << 16 else keys
            order = np.argsort(narrow, kind="stable")
            self.positions = positions[order]
            counts = np.bincount(keys, minlength=len(tokens))
        else:
            self.positions = np.zeros(0, dtype=np.int32)
            counts = np.zeros(len(tokens), dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.stale: set[int] = set()
        self.overlay: dict[str, set[int]] = defaultdict(set)
        self._overlay_of: dict[int, set[str]] = {}

    def replace(self, pos: int, text: str) -> None:
        """Position `pos` has these tokens now (the CSR run for it is ignored from now on)."""
        for token in self._overlay_of.pop(pos, ()):
            self.overlay[token].discard(pos)
        self.stale.add(pos)
        tokens = {t for t in text.split() if t != "|"}
        self._overlay_of[pos] = tokens
        for token in tokens:
            self.overlay[token].add(pos)

    def _run(self, token: str, prefix: bool) -> tuple[int, int]:
        lo = bisect_left(self.tokens, token)
        if prefix:
            return lo, bisect_left(self.tokens, token + "\U0010ffff", lo)
        return lo, lo + 1 if lo < len(self.tokens) and self.tokens[lo] == token else lo

    def mark(self, mask: np.ndarray, token: str, prefix: bool, stale: np.ndarray | None) -> np.ndarray:
        """`mask` with every position holding the token (or a token it prefixes) set."""
        lo, hi = self._run(token, prefix)
        mask[self.positions[self.offsets[lo]:self.offsets[hi]]] = True
        if stale is not None:
            mask &= ~stale
            for other, owners in self.overlay.items():
                if owners and (other == token or (prefix and other.startswith(token))):
                    mask[list(owners)] = True
        return mask

    def nbytes(self) -> int:
        return self.positions.nbytes + self.offsets.nbytes


class ListingIndex:
    """The catalogue's listing state in arrays. `fit(rows)` builds it; `apply(rows)` takes
    changed products; `match`, `page` and `facets` answer a listing."""

    def __init__(self, rows: Iterable[Row]):
        """`rows` in ascending id order (streamed: the token strings are not kept)."""
        ids, artisan, category, brand, price, created, live, token_hash = ([] for _ in range(8))
        updated, in_stock, title_crc = [], [], []
        self.categories: list[str] = []
        self._category_code: dict[str, int] = {}
        tokeniser = _Tokeniser()
        text_chunks, text_owners, title_chunks, title_owners = [], [], [], []
        self.updated_at = None
        for pos, r in enumerate(rows):
            ids.append(r.id)
            artisan.append(r.artisan_id)
            category.append(self._code(r.category))
            brand.append(-1 if r.brand_id is None else r.brand_id)
            price.append(r.price_fen)
            created.append(_micros(r.created_at))
            live.append(r.live)
            token_hash.append(hash(r.tokens) if r.live else 0)
            updated.append(_micros(r.updated_at))
            in_stock.append(r.stock > 0)
            title_crc.append(_title_crc(r.title))
            if r.updated_at is not None and (self.updated_at is None or r.updated_at > self.updated_at):
                self.updated_at = r.updated_at
            if r.live:
                # The title vector is what precedes the first " | " (split_part in SQL).
                title, _, rest = r.tokens.partition(SECTION)
                title_ids = tokeniser.ids(title)
                title_chunks.append(title_ids)
                title_owners.append(pos)
                text_chunks += [title_ids, tokeniser.ids(rest)]
                text_owners += [pos, pos]
        self.ids = np.asarray(ids, dtype=np.int64)
        if len(self.ids) > 1 and not (np.diff(self.ids) > 0).all():
            raise ValueError("rows must come in ascending id order")
        self.artisan = np.asarray(artisan, dtype=np.int64)
        self.category = np.asarray(category, dtype=np.int32)
        self.brand = np.asarray(brand, dtype=np.int64)
        self.price = np.asarray(price, dtype=np.int64)
        self.created = np.asarray(created, dtype=np.int64)
        self.live = np.asarray(live, dtype=bool)
        self.token_hash = np.asarray(token_hash, dtype=np.int64)
        # What a product card's cache key needs besides id and price (market.catalog.cards),
        # so a listing's cards need no query of their own.
        self.updated = np.asarray(updated, dtype=np.int64)
        self.in_stock = np.asarray(in_stock, dtype=bool)
        self.title_crc = np.asarray(title_crc, dtype=np.int64)
        self.band = np.searchsorted(BAND_EDGES, self.price, side="right").astype(np.int8)
        self.indexed = self.live.copy()  # positions whose tokens are in the postings
        tokens, rank = tokeniser.sorted_tokens()
        self.text = Postings(tokens, rank, text_chunks, text_owners)
        self.title = Postings(tokens, rank, title_chunks, title_owners)
        self._stale: np.ndarray | None = None
        self._orders: dict[str, np.ndarray] = {}
        self._pos_by_id = {int(i): p for p, i in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    # ---- changes ------------------------------------------------------------------------

    @property
    def overlay_size(self) -> int:
        return len(self.text.stale)

    def apply(self, rows: list[Row]) -> int:
        """Take changed (or new) products; returns how many differed from what was known."""
        changed = 0
        new = [r for r in rows if r.id not in self._pos_by_id]
        if new:
            self._append(new)
            changed += len(new)
        for r in rows:
            if r.updated_at is not None and (self.updated_at is None or r.updated_at > self.updated_at):
                self.updated_at = r.updated_at
        for r in rows:
            p = self._pos_by_id[r.id]
            code = self._code(r.category)
            brand = -1 if r.brand_id is None else r.brand_id
            created = _micros(r.created_at)
            token_hash = hash(r.tokens) if r.live else 0
            self.updated[p], self.in_stock[p], self.title_crc[p] = _micros(r.updated_at), r.stock > 0, _title_crc(
                r.title)
            if (self.artisan[p], self.category[p], self.brand[p], self.price[p], self.created[p],
                    self.live[p], self.token_hash[p]) == (r.artisan_id, code, brand, r.price_fen, created,
                                                          r.live, token_hash) and (not r.live or self.indexed[p]):
                continue
            changed += 1
            if self.price[p] != r.price_fen or self.created[p] != created:
                self._orders.clear()
            self.artisan[p], self.category[p], self.brand[p] = r.artisan_id, code, brand
            self.price[p], self.created[p], self.live[p] = r.price_fen, created, r.live
            self.band[p] = np.searchsorted(BAND_EDGES, r.price_fen, side="right")
            if r.live and (token_hash != self.token_hash[p] or not self.indexed[p]):
                self.text.replace(p, r.tokens)
                self.title.replace(p, r.tokens.split(SECTION, 1)[0])
                self.indexed[p] = True
                self._stale = None
            self.token_hash[p] = token_hash
        return changed

    def _code(self, category: str) -> int:
        if category not in self._category_code:
            self._category_code[category] = len(self.categories)
            self.categories.append(category)
        return self._category_code[category]

    def _append(self, rows: list[Row]) -> None:
        start = len(self.ids)
        k = len(rows)
        self.ids = np.concatenate([self.ids, [r.id for r in rows]]).astype(np.int64)
        for name, fill in (("artisan", 0), ("brand", -1), ("price", 0), ("created", 0), ("token_hash", 0),
                           ("updated", 0), ("title_crc", 0)):
            setattr(self, name, np.concatenate([getattr(self, name), np.full(k, fill, dtype=np.int64)]))
        self.category = np.concatenate([self.category, np.zeros(k, dtype=np.int32)])
        self.live = np.concatenate([self.live, np.zeros(k, dtype=bool)])
        self.in_stock = np.concatenate([self.in_stock, np.zeros(k, dtype=bool)])
        self.band = np.concatenate([self.band, np.zeros(k, dtype=np.int8)])
        self.indexed = np.concatenate([self.indexed, np.zeros(k, dtype=bool)])
        for i, r in enumerate(rows):
            self._pos_by_id[r.id] = start + i
            self.text.stale.add(start + i)  # no CSR run, but counts towards a rebuild
        self._stale = None
        self._orders.clear()

    # ---- answering a listing -----------------------------------------------------------

    def _stale_mask(self) -> np.ndarray | None:
        if not self.text.stale:
            return None
        if self._stale is None or len(self._stale) != len(self.ids):
            self._stale = np.zeros(len(self.ids), dtype=bool)
            self._stale[list(self.text.stale)] = True
        return self._stale

    def match(self, pieces: Pieces, *, title: bool = False) -> np.ndarray:
        """Positions matching every piece (any alternative of a piece; every term of an
        alternative), in the whole token string or only in the title."""
        postings = self.title if title else self.text
        stale = self._stale_mask()
        n = len(self.ids)
        result = None
        for piece in pieces:
            any_of = np.zeros(n, dtype=bool)
            for terms in piece:
                all_of = None
                for token, prefix in terms:
                    m = postings.mark(np.zeros(n, dtype=bool), token, prefix, stale)
                    all_of = m if all_of is None else all_of & m
                if all_of is not None:
                    any_of |= all_of
            result = any_of if result is None else result & any_of
        return result if result is not None else np.zeros(n, dtype=bool)

    def filter(self, visible: np.ndarray, *, category: str | None = None, brand_id: int | None = None,
               district: np.ndarray | None = None, min_fen: int | None = None, max_fen: int | None = None,
               artisan_id: int | None = None) -> np.ndarray:
        """Visible positions passing the filters (`district`: a mask from the shops' state)."""
        mask = visible & self.live
        if category is not None:
            code = self._category_code.get(category)
            mask &= (self.category == code) if code is not None else False
        if brand_id is not None:
            mask &= self.brand == brand_id
        if district is not None:
            mask &= district
        if min_fen is not None:
            mask &= self.price >= min_fen
        if max_fen is not None:
            mask &= self.price <= max_fen
        if artisan_id is not None:
            mask &= self.artisan == artisan_id
        return mask

    def order(self, sort: str) -> np.ndarray:
        """Positions in display order for `sort`, ties newest id first (as the SQL path)."""
        if sort not in self._orders:
            minus_id = -self.ids
            self._orders[sort] = {
                "relevance": lambda: np.argsort(minus_id, kind="stable"),
                "newest": lambda: np.lexsort((minus_id, -self.created)),
                "price_asc": lambda: np.lexsort((minus_id, self.price)),
                "price_desc": lambda: np.lexsort((minus_id, -self.price)),
            }[sort]()
        return self._orders[sort]

    def page(self, mask: np.ndarray, sort: str, offset: int, limit: int,
             tiers: list[np.ndarray] = ()) -> list[int]:
        """Ids of the matches `offset`..`offset + limit` in display order; with `tiers`
        (relevance: masks tested in turn) a match goes in the first tier it is in."""
        order = self.order(sort if sort in SORTS else "newest")
        ranked = mask[order]
        if not tiers:
            return [int(i) for i in self.ids[order[np.flatnonzero(ranked)[offset:offset + limit]]]]
        out: list[int] = []
        left = ranked.copy()
        for tier in [*tiers, None]:
            hits = left if tier is None else left & tier[order]
            if tier is not None:
                left &= ~hits
            found = np.flatnonzero(hits)
            take = found[offset:offset + limit - len(out)]
            out += [int(i) for i in self.ids[order[take]]]
            offset = max(0, offset - len(found))
            if len(out) >= limit:
                break
        return out

    def facets(self, mask: np.ndarray, district_code: np.ndarray) -> dict[str, dict]:
        """Exact counts of the matches per category, brand, district code and price band:
        the matches' positions found once, then one bincount per facet over just those
        (the price band of every product is kept, not searched per request)."""
        hits = np.flatnonzero(mask)
        n_cat = np.bincount(self.category[hits], minlength=len(self.categories))
        n_band = np.bincount(self.band[hits], minlength=len(BAND_EDGES) + 1)
        # Brand -1 ("none") and district -1 (a closed shop, never among the matches) shift to 0.
        n_brand = np.bincount(self.brand[hits] + 1)[1:]
        n_district = np.bincount(district_code[hits] + 1)[1:]
        return {
            "category": {self.categories[i]: int(n_cat[i]) for i in np.flatnonzero(n_cat)},
            "brand": {int(b): int(n_brand[b]) for b in np.flatnonzero(n_brand)},
            "district": {int(d): int(n_district[d]) for d in np.flatnonzero(n_district)},
            "band": {int(b): int(n_band[b]) for b in np.flatnonzero(n_band)},
        }

    def card_stamps(self, ids: list[int]) -> list[tuple[int, int, bool, int, int]]:
        """(id, updated_at in µs, in stock, price, title checksum) of each of `ids`."""
        out = []
        for i in ids:
            p = self._pos_by_id[i]
            out.append((i, int(self.updated[p]), bool(self.in_stock[p]), int(self.price[p]), int(self.title_crc[p])))
        return out

    def nbytes(self) -> int:
        arrays = (self.ids, self.artisan, self.category, self.brand, self.price, self.created, self.live,
                  self.token_hash, self.indexed, self.updated, self.in_stock, self.title_crc, self.band,
                  *self._orders.values())
        return sum(a.nbytes for a in arrays) + self.text.nbytes() + self.title.nbytes()
