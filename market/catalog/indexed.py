"""Listings from each process's in-process index (market.catalog.listing_index).

Each process builds the index from the products table on first use (gunicorn warms it in
post_worker_init) and keeps it fresh: before a listing is answered (at most every
LISTING_INDEX_FRESH_SECONDS; 0: every time) one round trip asks for the products whose
`updated_at` is at most LISTING_INDEX_LAG_SECONDS older than the newest one it knows (an index
range scan on ix_products_updated_at) together with the open shops (approved, not suspended:
a handful of rows). Every write of a product goes through the ORM, whose `onupdate` moves
`updated_at`, so a price change, a hiding, an edit's new words and a new product are in the
very next listing; a shop suspended or closed drops its products at once through the shops
part. The lag covers transactions that commit after a later one (PostgreSQL's now() is the
transaction's start); a full rebuild in a background thread every
LISTING_INDEX_REBUILD_SECONDS catches anything slower, and one runs inline when the changed
products pile up (MAX_OVERLAY). Hard deletes of products are not seen until a rebuild (the
app never deletes a product; it archives or hides it).

The page's cards are still read fresh by id (market.catalog.cards), so what a card shows is
never older than the product row.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
from datetime import datetime, timedelta

import numpy as np
from flask import current_app, g
from sqlalchemy import and_, bindparam, literal, null, select, union_all

from market import search
from market.catalog.listing_index import ListingIndex, Row
from market.catalog.queries import shop_open
from market.extensions import db
from market.models import Artisan, Product

log = logging.getLogger(__name__)
MAX_OVERLAY = 5000
_STATE = "listing_index"


def enabled() -> bool:
    return bool(current_app.config.get("LISTING_INDEX", True))


def _product_columns():
    return (literal("p").label("kind"), Product.id, Product.artisan_id, Product.category, Product.brand_id,
            Product.price_fen, Product.created_at, Product.updated_at,
            and_(Product.status == "published", Product.hidden_at.is_(None)).label("live"), Product.search_tokens,
            Product.stock, Product.title)


def _row(r) -> Row:
    return Row(r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9] or "", r[10] or 0, r[11] or "")


def build_index() -> ListingIndex:
    """The whole catalogue, read in one query (every product, public or not: a draft that is
    published later arrives as a change)."""
    started = time.monotonic()
    result = db.session.execute(select(*_product_columns()).order_by(Product.id)
                                .execution_options(yield_per=5000))  # streamed: no list of 100,000 rows
    index = ListingIndex(_row(r) for r in result)
    _give_back_memory()
    log.info("listing index built: %d products, %.1f MB, %.0f ms", len(index), index.nbytes() / 1e6,
             (time.monotonic() - started) * 1000)
    return index


def _give_back_memory() -> None:
    """Return the freed build-time heap (row strings, token lists) to the system: glibc keeps
    it otherwise, and every worker would carry it for its lifetime."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Shops:
    """Which shops are open and their districts, as arrays over the index's positions."""

    def __init__(self, rows: list[tuple[int, str]], index: ListingIndex):
        self.key = (tuple(rows), len(index))
        self.districts = sorted({d for _, d in rows})
        code_of = {d: i for i, d in enumerate(self.districts)}
        size = int(max([a for a, _ in rows] + [int(index.artisan.max()) if len(index) else 0])) + 1
        by_artisan = np.full(size, -1, dtype=np.int32)
        for artisan_id, district in rows:
            by_artisan[artisan_id] = code_of[district]
        self.district_code = by_artisan[index.artisan] if len(index) else np.zeros(0, dtype=np.int32)
        self.visible = self.district_code >= 0


def _state() -> dict:
    app = current_app._get_current_object()
    return app.extensions.setdefault(_STATE, {"index": None, "shops": None, "checked": 0.0, "built": 0.0,
                                              "lock": threading.RLock(), "rebuilding": False})


_CHANGES = None


def _changes_statement():
    """Built once per process (its construction cost more CPU than the listing's numpy work)."""
    global _CHANGES
    if _CHANGES is None:
        changed = select(*_product_columns()).where(Product.updated_at >= bindparam("since"))
        shops = select(literal("s").label("kind"), Artisan.id, null(), Artisan.district, *[null()] * 8).where(
            Artisan.status == "approved", shop_open())
        _CHANGES = union_all(changed, shops)
    return _CHANGES


def _changes(index: ListingIndex) -> tuple[list[Row], list[tuple[int, str]]]:
    """Products changed since the index's stamp (minus the lag) and the open shops, in one
    statement (one round trip)."""
    lag = float(current_app.config.get("LISTING_INDEX_LAG_SECONDS", 5.0))
    since = index.updated_at - timedelta(seconds=lag) if index.updated_at is not None else datetime(1970, 1, 1)
    rows, open_shops = [], []
    for r in db.session.execute(_changes_statement(), {"since": since}):
        if r[0] == "s":
            open_shops.append((r[1], r[3]))
        else:
            rows.append(_row(r))
    return rows, sorted(open_shops)


def current() -> tuple[ListingIndex, Shops]:
    """This process's index and shops, brought up to date (see the module's docstring)."""
    state = _state()
    config = current_app.config
    now = time.monotonic()
    with state["lock"]:
        if state["index"] is None:
            state["index"], state["built"], state["shops"] = build_index(), now, None
            state["checked"] = 0.0
        index = state["index"]
        fresh_every = float(config.get("LISTING_INDEX_FRESH_SECONDS", 0.0))
        if state["shops"] is None or fresh_every <= 0 or now - state["checked"] >= fresh_every:
            rows, open_shops = _changes(index)
            if index.apply(rows) and index.overlay_size > MAX_OVERLAY:
                state["index"] = index = build_index()
                state["built"] = now
            if state["shops"] is None or state["shops"].key != (tuple(open_shops), len(index)):
                state["shops"] = Shops(open_shops, index)
            state["checked"] = now
        every = float(config.get("LISTING_INDEX_REBUILD_SECONDS", 0.0))
        if every > 0 and now - state["built"] >= every and not state["rebuilding"]:
            _rebuild_in_background(state)
        return index, state["shops"]


def _rebuild_in_background(state: dict) -> None:
    app = current_app._get_current_object()
    state["rebuilding"] = True

    def run() -> None:
        try:
            with app.app_context():
                fresh = build_index()
                db.session.remove()
            with state["lock"]:
                state["index"], state["shops"], state["built"] = fresh, None, time.monotonic()
        except Exception:  # noqa: BLE001  the old index keeps serving; retried next period
            log.exception("listing index rebuild failed")
            state["built"] = time.monotonic()
        finally:
            state["rebuilding"] = False

    threading.Thread(target=run, name="listing-index-rebuild", daemon=True).start()


def warm() -> ListingIndex:
    """Build this process's index now (gunicorn's post_worker_init)."""
    return current()[0]


def forget() -> None:
    """Drop this process's index (tests)."""
    current_app.extensions.pop(_STATE, None)


# ---- answering listings ---------------------------------------------------------------

def _match(cq, pieces: search.Pieces | None, artisan_id: int | None, brand_id: int | None):
    """(index, shops, mask of the matches) for the filters; within one request the mask is
    reused by the facets of the same listing (`g`)."""
    key = (repr(pieces), cq.category, cq.brand, brand_id, cq.district, cq.min_fen, cq.max_fen, artisan_id)
    memo = g.get("_listing_match")
    if memo is not None and memo[0] == key:
        return memo[1:]
    index, shops = current()
    district = None
    if cq.district:
        code = shops.districts.index(cq.district) if cq.district in shops.districts else -2
        district = shops.district_code == code
    mask = index.filter(shops.visible, category=cq.category, brand_id=brand_id, district=district,
                        min_fen=cq.min_fen, max_fen=cq.max_fen, artisan_id=artisan_id)
    if pieces is not None:
        mask &= index.match(pieces)
    g._listing_match = (key, index, shops, mask)
    return index, shops, mask


def find(cq, pieces: search.Pieces | None, per_page: int, *, artisan_id: int | None = None,
         brand_id: int | None = None) -> tuple[list[int], int]:
    """The page's product ids in display order and the exact number of matches.

    Relevance as the PostgreSQL path ranks it: the words as typed in the title, then any
    synonym in the title, then the rest; newest id first within each."""
    g.pop("_listing_match", None)  # a new listing: ask for changes again
    index, _, mask = _match(cq, pieces, artisan_id, brand_id)
    tiers = []
    if cq.sort == "relevance" and pieces:
        typed = [piece[:1] for piece in pieces]
        expanded = any(len(piece) > 1 for piece in pieces)
        tiers = [index.match(typed, title=True), index.match(pieces, title=True)] if expanded else [
            index.match(pieces, title=True)]
    offset = (cq.page - 1) * per_page
    return index.page(mask, cq.sort, offset, per_page, tiers), int(np.count_nonzero(mask))


def card_stamps(ids: list[int]):
    """The card stamps (market.catalog.cards.CardStamp) of a page `find` just returned, from
    the index it was found in: as fresh as the listing itself, with no query."""
    from market.catalog.cards import CardStamp

    memo = g.get("_listing_match")
    index = memo[1] if memo is not None else current()[0]
    return [CardStamp(*stamp) for stamp in index.card_stamps(ids)]


def facet_counts(cq, pieces: search.Pieces | None, *, artisan_id: int | None = None,
                 brand_id: int | None = None) -> dict[str, dict]:
    """Exact counts per category, brand id, district name and price band index."""
    index, shops, mask = _match(cq, pieces, artisan_id, brand_id)
    counts = index.facets(mask, shops.district_code)
    counts["district"] = {shops.districts[d]: n for d, n in counts["district"].items()}
    return counts


def memory() -> dict:
    """Sizes for the bench and the README."""
    index = _state()["index"]
    return {"products": len(index) if index else 0, "bytes": index.nbytes() if index else 0,
            "tokens": len(index.text.tokens) if index else 0}
