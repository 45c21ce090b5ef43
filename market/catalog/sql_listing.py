"""The SQL path of listings: the search condition and relevance for this database, the
listing statement with its filters, and the planner settings search statements need. Used
when the in-process listing index is off (LISTING_INDEX=0) and by the tests that compare the
two paths (market/catalog/indexed.py)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, case, literal_column, select, text

from market import search
from market.catalog import searching
from market.catalog.queries import public_products
from market.extensions import db
from market.models import Artisan, Brand, Product


@dataclass
class SearchMatch:
    """How to find products matching a query on this database: either a subquery of
    (id, rank) to join (SQLite's FTS5 table), or a condition on products and a rank
    expression (PostgreSQL's GIN indexes). Lower rank = better."""

    join: object = None
    outerjoin: object = None
    where: object = None
    rank: tuple = ()


def search_matches(pieces: search.Pieces) -> SearchMatch | None:
    """Where and how to rank products matching the query `pieces` (searching.query_pieces:
    every piece must match, any alternative of a piece may), or None when the query has no
    searchable terms. Values are bound inside the text clauses, so they travel with the
    statement into the count query too."""
    if not pieces:
        return None
    # The words as typed (the first alternative of each piece): products they find rank
    # above those only a synonym finds.
    literal = [piece[:1] for piece in pieces]
    expanded = any(len(piece) > 1 for piece in pieces)
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        def fts(name: str, expression: str):
            return (
                select(literal_column("rowid").label("id"), literal_column("bm25(product_fts)").label("rank"))
                .select_from(text("product_fts"))
                .where(text(f"product_fts MATCH :{name}").bindparams(**{name: expression}))
                .subquery(name)
            )
        matches = fts("fts", search.fts5_expression(pieces))
        if not expanded:
            return SearchMatch(join=matches, rank=(matches.c.rank,))
        # bm25 of the typed words where they match, then bm25 of the expansion.
        typed = fts("fts_typed", search.fts5_expression(literal))
        return SearchMatch(join=matches, outerjoin=typed,
                           rank=(typed.c.rank.is_(None), typed.c.rank, matches.c.rank))
    if dialect == "postgresql":
        tsq = search.tsquery_expression(pieces)
        # A condition on products itself (not a joined subquery), so PostgreSQL filters
        # with the GIN index. The tsvectors are stored columns (migration 0019), so checking
        # a row costs no rebuild: relevance is "the words as typed match the title", then "a
        # synonym matches the title", then newest, tested on each match's stored title vector
        # (array_to_tsvector keeps no positions, so ts_rank would be the same for every match).
        title_match = text(f"{search.PG_TITLE_VECTOR} @@ CAST(:tsq_t AS tsquery)").bindparams(tsq_t=tsq)
        if expanded:
            typed_match = text(f"{search.PG_TITLE_VECTOR} @@ CAST(:tsq_typed AS tsquery)").bindparams(
                tsq_typed=search.tsquery_expression(literal))
            rank = (case((typed_match, 0), (title_match, 1), else_=2),)
        else:
            rank = (case((title_match, 0), else_=1),)
        return SearchMatch(
            where=text(f"{search.PG_VECTOR} @@ CAST(:tsq AS tsquery)").bindparams(tsq=tsq), rank=rank
        )
    raise RuntimeError(f"search is not implemented for {dialect}")


def listing_statement(cq, artisan_id: int | None, pieces: search.Pieces | None = None) -> Select | None:
    """Public products for the filters in `cq`, in display order; None when the search
    has no searchable terms (nothing can match)."""
    stmt = public_products()
    if artisan_id is not None:
        stmt = stmt.where(Product.artisan_id == artisan_id)
    if cq.category:
        stmt = stmt.where(Product.category == cq.category)
    if cq.district:
        stmt = stmt.where(Artisan.district == cq.district)
    if cq.brand:
        stmt = stmt.join(Brand, Product.brand_id == Brand.id).where(Brand.slug == cq.brand)
    if cq.min_fen is not None:
        stmt = stmt.where(Product.price_fen >= cq.min_fen)
    if cq.max_fen is not None:
        stmt = stmt.where(Product.price_fen <= cq.max_fen)

    rank = None
    if cq.q:
        match = search_matches(pieces if pieces is not None else searching.query_pieces(cq.q))
        if match is None:
            return None
        if match.join is not None:
            stmt = stmt.join(match.join, match.join.c.id == Product.id)
        if match.outerjoin is not None and cq.sort == "relevance":  # only ranking needs it
            stmt = stmt.outerjoin(match.outerjoin, match.outerjoin.c.id == Product.id)
        if match.where is not None:
            stmt = stmt.where(match.where)
        rank = match.rank

    if cq.sort == "relevance" and rank is not None:
        return stmt.order_by(*rank, Product.id.desc())
    if cq.sort == "price_asc":
        return stmt.order_by(Product.price_fen, Product.id.desc())
    if cq.sort == "price_desc":
        return stmt.order_by(Product.price_fen.desc(), Product.id.desc())
    return stmt.order_by(Product.created_at.desc(), Product.id.desc())


def with_index_scans(pieces: search.Pieces | None, compute):
    """Run `compute()` with PostgreSQL's sequential scans and nested loops off when it
    searches text.

    With synonyms a query ORs many terms; PostgreSQL then estimates so many matches that it
    prefers a parallel sequential scan (1.6 s at 100,000 products when the tsvector was an
    expression, against 0.15 s through the GIN index). With sequential scans off it joined the
    20 shops in a nested loop, probing the GIN index once per shop (325 ms for 刺绣 and its
    synonyms with a price filter); a hash join probes it once (33 ms). SET LOCAL lasts to the
    end of the transaction, so both are switched back on at once (a failure rolls them back)."""
    if not pieces or db.engine.dialect.name != "postgresql":
        return compute()
    db.session.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_nestloop = off"))
    result = compute()
    db.session.execute(text("SET LOCAL enable_seqscan = on; SET LOCAL enable_nestloop = on"))
    return result


def limits_pay_off(pieces: search.Pieces | None) -> bool:
    """Whether counting (and grouping for facets) only the first N matches is cheaper than
    counting them all. It is, by far, for filters alone (100,000 products: 2 ms against
    300 ms), and now for a text search on PostgreSQL too: while the tsvector was an expression
    over `search_tokens`, a LIMIT made the planner walk a btree index and rebuild it for
    each row (236 ms for 1,001 matches of 刺绣); over the stored column (migration 0019) the
    same count takes 22 ms, against 142 ms to count all 13,462."""
    return True
