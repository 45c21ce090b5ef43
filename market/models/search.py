"""What search learns from staff and from buyers: synonym groups and daily query counts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db


class SynonymGroup(db.Model):
    """A staff-written synonym group, stored as its normalised line (``a, b, c`` or
    ``a => b, c``; see the `synonyms` package) and passed to it as data."""

    __tablename__ = "synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    line: Mapped[str] = mapped_column(String(600), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SearchQueryDay(db.Model):
    """How often a normalised query was searched on a day (Beijing date), and how many
    products its last search found: the source of "popular searches"."""

    __tablename__ = "search_query_days"
    __table_args__ = (Index("ix_search_query_days_day", "day"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(100), primary_key=True)
    searches: Mapped[int] = mapped_column(default=0)
    results: Mapped[int] = mapped_column(default=0)
