"""search: staff synonym groups and daily query counts (popular searches)

Revision ID: 0007_search_synonyms
Revises: 0006_orders_payment_records
Create Date: 2026-11-27 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_search_synonyms'
down_revision = '0006_orders_payment_records'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('synonym_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line', sa.String(length=600), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_synonym_groups_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym_groups')),
    sa.UniqueConstraint('line', name=op.f('uq_synonym_groups_line'))
    )
    op.create_table('search_query_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('query', sa.String(length=100), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('results', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'query', name=op.f('pk_search_query_days'))
    )
    op.create_index('ix_search_query_days_day', 'search_query_days', ['day'], unique=False)


def downgrade():
    op.drop_index('ix_search_query_days_day', table_name='search_query_days')
    op.drop_table('search_query_days')
    op.drop_table('synonym_groups')
