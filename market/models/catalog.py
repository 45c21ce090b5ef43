"""Artisans, collective brands, products and their images."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

brand_members = Table(
    "brand_members",
    db.metadata,
    Column("brand_id", ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
    Column("artisan_id", ForeignKey("artisans.id", ondelete="CASCADE"), primary_key=True),
)

ARTISAN_STATUSES = ("pending", "approved", "rejected")
PRODUCT_STATUSES = ("draft", "published", "archived")


class Artisan(db.Model):
    __tablename__ = "artisans"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    story: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="craftswoman")
    photo: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Her dashboard lists published products with stock at or below this as low (she sets it).
    low_stock_threshold: Mapped[int] = mapped_column(default=3, server_default="3")

    user = relationship("User", back_populates="artisan")
    brands: Mapped[list[Brand]] = relationship(
        secondary=brand_members, back_populates="members", order_by="Brand.name"
    )
    products: Mapped[list[Product]] = relationship(back_populates="artisan")

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"


class Brand(db.Model):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(80), default="")
    story: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str | None] = mapped_column(String(20))
    featured: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    members: Mapped[list[Artisan]] = relationship(
        secondary=brand_members, back_populates="brands", order_by="Artisan.display_name"
    )


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_fen >= 0", name="price_non_negative"),
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        Index("ix_products_status_created", "status", "created_at"),
        Index("ix_products_status_price", "status", "price_fen"),
        # A category's listing sorted by price or date reads only that category (issue 15).
        Index("ix_products_category_status_price", "category", "status", "price_fen"),
        Index("ix_products_category_status_created", "category", "status", "created_at"),
        # The listing index's freshness check: "products changed since" (market.catalog.indexed).
        Index("ix_products_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisans.id"), index=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Optional English: shown to English readers when present, and searchable (the
    # search tokens below include them).
    title_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(String(30), index=True)
    price_fen: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # Pre-tokenised text (CJK unigrams + bigrams, lower-cased Latin words) behind the
    # full-text index: FTS5 on SQLite, a GIN tsvector index on PostgreSQL.
    search_tokens: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    published_at: Mapped[datetime | None]
    # Visible reviews: how many and the sum of their stars (market.reviews keeps them in
    # step in the review's own transaction), so a card needs no aggregate query.
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    # Hidden by staff (moderation): off every public page whatever its status; the artisan
    # sees the reason on her dashboard and product form; who hid it is in the audit log.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(300))
    # Bumped (market.catalog.product_pages) whenever anything its stored page body shows
    # changes: the product, its images, reviews, artisan or brand. A body is stored with the
    # version it was rendered from, so one rendered from rows a commit was replacing never
    # matches again.
    page_version: Mapped[int] = mapped_column(default=0, server_default="0")

    artisan: Mapped[Artisan] = relationship(back_populates="products")
    brand: Mapped[Brand | None] = relationship()
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def rating(self) -> float | None:
        """The average of the visible reviews' stars, or None without any."""
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    def title_for(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title

    def description_for(self, locale: str) -> str:
        return self.description_en if locale == "en" and self.description_en else self.description


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(80))
    thumb_filename: Mapped[str] = mapped_column(String(80))
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="images")


# Full-text index DDL, shared by the migration and by create_all (tests).
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS product_fts USING fts5("
    "search_tokens, content='products', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS products_fts_ai AFTER INSERT ON products BEGIN "
    "INSERT INTO product_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS products_fts_ad AFTER DELETE ON products BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS products_fts_au AFTER UPDATE OF search_tokens ON products BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); "
    "INSERT INTO product_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
)
# array_to_tsvector takes the tokens verbatim, so no text-search parser or locale can
# drop or merge CJK characters. The vectors are stored, generated columns (PostgreSQL keeps
# them current whenever search_tokens changes), so no plan ever rebuilds one per row; they
# are not in the model (SQLite has no tsvector): SEARCH_VECTOR_COLUMNS below.
# The second index covers the title part alone (before " | "): search ranks title
# matches first by probing it once instead of building a tsvector for every match.
# Idempotent, because migration 0001 runs these and 0019 adds the columns to older databases.
POSTGRES_FTS_DDL = (
    "ALTER TABLE products ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(string_to_array(search_tokens, ' '))) STORED",
    "ALTER TABLE products ADD COLUMN IF NOT EXISTS search_title_vector tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(string_to_array(split_part(search_tokens, ' | ', 1), ' '))) STORED",
    "CREATE INDEX IF NOT EXISTS ix_products_search ON products USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS ix_products_search_title ON products USING gin (search_title_vector)",
)
# Columns made by the DDL above, which Alembic's autogenerate must leave alone.
SEARCH_VECTOR_COLUMNS = ("search_vector", "search_title_vector")
# Indexes made by the DDL above, which Alembic's autogenerate must leave alone.
FTS_INDEX_NAMES = ("ix_products_search", "ix_products_search_title")

for _stmt in SQLITE_FTS_DDL:
    event.listen(Product.__table__, "after_create", DDL(_stmt).execute_if(dialect="sqlite"))
for _stmt in POSTGRES_FTS_DDL:
    event.listen(Product.__table__, "after_create", DDL(_stmt).execute_if(dialect="postgresql"))


class ProductPage(db.Model):
    """A product page's body (everything on it that is not per reader nor the related
    products), rendered once per language and stamp, read with the product's row in one
    statement (market.catalog.product_pages). Derived data: deleting every row is safe."""

    __tablename__ = "product_pages"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(400))
    html: Mapped[str] = mapped_column(Text)
    rendered_at: Mapped[datetime] = mapped_column(server_default=func.now())
