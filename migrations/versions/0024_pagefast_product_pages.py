"""product pages nobody has seen, cheap: products.page_version (bumped whenever anything a
product page's body shows changes) and product_pages, the body rendered once per language
and stamp, read with the product's row in one statement (market.catalog.product_pages)

Revision ID: 0024_pagefast_product_pages
Revises: 0023_qa2_one_saved_address
Create Date: 2026-11-28 00:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0024_pagefast_product_pages'
down_revision = '0023_qa2_one_saved_address'
branch_labels = None
depends_on = None


def upgrade():
    # Existing products start at version 0 (a constant default: no table rewrite on
    # PostgreSQL); product_pages starts empty and fills on first view or `flask warm-pages`.
    with op.batch_alter_table('products') as batch:
        batch.add_column(sa.Column('page_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'product_pages',
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('stamp', sa.String(length=400), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('rendered_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('product_id', 'locale'),
    )


def downgrade():
    op.drop_table('product_pages')
    with op.batch_alter_table('products') as batch:
        batch.drop_column('page_version')
