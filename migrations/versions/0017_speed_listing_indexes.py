"""indexes for listings filtered by category and sorted by price or date (issue 15)

A category listing sorted by price or newest walked the (status, price_fen) or
(status, created_at) index and threw away the other categories' rows (2,053 rows read for 96
shown at 100,000 products); these let it read just the category's, already in order.

Revision ID: 0017_speed_listing_indexes
Revises: 0016_matcher2_needs
Create Date: 2026-11-27 17:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_speed_listing_indexes'
down_revision = '0016_matcher2_needs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_products_category_status_price', 'products', ['category', 'status', 'price_fen'], unique=False)
    op.create_index('ix_products_category_status_created', 'products', ['category', 'status', 'created_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_products_category_status_created', table_name='products')
    op.drop_index('ix_products_category_status_price', table_name='products')
