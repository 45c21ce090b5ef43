"""an index on products.updated_at: each worker's in-process listing index asks for the
products changed since its stamp on every listing request (market.catalog.indexed), which
must be one index range scan, not a pass over the whole table

Revision ID: 0022_memsearch_updated_idx
Revises: 0021_outreach
Create Date: 2026-11-27 20:45:00

"""
from alembic import op

revision = '0022_memsearch_updated_idx'
down_revision = '0021_outreach'
branch_labels = None
depends_on = None


def upgrade():
    # No data to carry over: an index over an existing column.
    op.create_index('ix_products_updated_at', 'products', ['updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_products_updated_at', table_name='products')
