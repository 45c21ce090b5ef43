"""search: stored tsvector columns behind the GIN indexes (PostgreSQL only)

The GIN indexes were over expressions (array_to_tsvector(string_to_array(search_tokens, ' ')));
every plan that checks a candidate row outside the index (a recheck, a filter after a btree
walk for ORDER BY ... LIMIT, the title rank) rebuilt the tsvector from the text, about 25 µs a
row: an uncached filtered search took 1-1.7 s at 16 clients. The vectors are now generated
columns, kept current by PostgreSQL itself whenever search_tokens changes (the only writer of
the searchable text: title, description and their English versions feed it), and the indexes
are over the columns. SQLite (FTS5 with its triggers) is unchanged.

Revision ID: 0020_speed2_search_vectors
Revises: 0019_reports_first_contact
Create Date: 2026-11-27 18:35:00

"""
from alembic import op

revision = '0020_speed2_search_vectors'
down_revision = '0019_reports_first_contact'
branch_labels = None
depends_on = None

# Same statements as market.models.catalog.POSTGRES_FTS_DDL, kept verbatim here (a migration
# must not change when the models do). Idempotent: migration 0001 runs the models' DDL, so a
# database created from scratch may already have the columns.
UPGRADE = (
    "DROP INDEX IF EXISTS ix_products_search",
    "DROP INDEX IF EXISTS ix_products_search_title",
    "ALTER TABLE products ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(string_to_array(search_tokens, ' '))) STORED",
    "ALTER TABLE products ADD COLUMN IF NOT EXISTS search_title_vector tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(string_to_array(split_part(search_tokens, ' | ', 1), ' '))) STORED",
    "CREATE INDEX IF NOT EXISTS ix_products_search ON products USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS ix_products_search_title ON products USING gin (search_title_vector)",
)
DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_products_search",
    "DROP INDEX IF EXISTS ix_products_search_title",
    "ALTER TABLE products DROP COLUMN IF EXISTS search_vector",
    "ALTER TABLE products DROP COLUMN IF EXISTS search_title_vector",
    "CREATE INDEX ix_products_search ON products USING gin "
    "(array_to_tsvector(string_to_array(search_tokens, ' ')))",
    "CREATE INDEX ix_products_search_title ON products USING gin "
    "(array_to_tsvector(string_to_array(split_part(search_tokens, ' | ', 1), ' ')))",
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for stmt in UPGRADE:
            op.execute(stmt)
        op.execute("ANALYZE products")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for stmt in DOWNGRADE:
            op.execute(stmt)
