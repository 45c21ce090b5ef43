"""search: a GIN index on the title tokens (PostgreSQL), so relevance ranking is an index probe

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Same statement as market.models.catalog.POSTGRES_FTS_DDL (kept verbatim here: a migration
# must not change when the models do).
TITLE_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_products_search_title ON products USING gin "
    "(array_to_tsvector(string_to_array(split_part(search_tokens, ' | ', 1), ' ')))"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TITLE_INDEX)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_products_search_title")
