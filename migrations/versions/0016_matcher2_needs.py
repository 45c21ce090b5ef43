"""matcher 2: needs read from a case's text and her answers (case_inferred_needs), staff
phrasings of needs (need_phrases), fitted matchers shared by every process (matcher_models),
and a mentor's busy_until (a busy decline pauses suggestions, not fit)

Revision ID: 0016_matcher2_needs
Revises: 0015_supply_organisations_events
Create Date: 2026-11-27 17:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016_matcher2_needs'
down_revision = '0015_supply_organisations_events'
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """Rebuilding `mentor_profiles` on SQLite (dropping a column) drops the old table; with
    foreign keys on, that DROP fails (introductions point at mentors). The pragma only takes
    effect outside a transaction, so the one pysqlite opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    op.create_table('case_inferred_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_inferred_needs_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_case_inferred_needs_decided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_inferred_needs')),
    sa.UniqueConstraint('case_id', 'code', name='uq_case_inferred_needs_case_code')
    )
    with op.batch_alter_table('case_inferred_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_inferred_needs_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_inferred_needs_status'), ['status'], unique=False)

    op.create_table('need_phrases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('phrase', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_need_phrases_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_phrases')),
    sa.UniqueConstraint('code', 'phrase', name='uq_need_phrases_code_phrase')
    )
    with op.batch_alter_table('need_phrases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_phrases_code'), ['code'], unique=False)

    op.create_table('matcher_models',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('mentors', sa.Integer(), nullable=False),
    sa.Column('weight_source', sa.String(length=12), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_matcher_models'))
    )
    with op.batch_alter_table('matcher_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matcher_models_signature'), ['signature'], unique=False)

    # Adding a nullable column needs no table rebuild on SQLite (plain ALTER TABLE ADD).
    op.add_column('mentor_profiles', sa.Column('busy_until', sa.Date(), nullable=True))


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.drop_column('busy_until')
    _sqlite_foreign_keys(True)
    with op.batch_alter_table('matcher_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matcher_models_signature'))
    op.drop_table('matcher_models')
    with op.batch_alter_table('need_phrases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_phrases_code'))
    op.drop_table('need_phrases')
    with op.batch_alter_table('case_inferred_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_inferred_needs_status'))
        batch_op.drop_index(batch_op.f('ix_case_inferred_needs_case_id'))
    op.drop_table('case_inferred_needs')
