"""users: suspension by staff (when and why; the audit log says who)

Revision ID: 0011_staffhome_user_suspension
Revises: 0010_refund_requests_ledger
Create Date: 2026-11-27 17:15:00

Two nullable columns and an index: no table rebuild on SQLite (ALTER TABLE ADD COLUMN), and
every existing account stays as it is (not suspended).
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_staffhome_user_suspension'
down_revision = '0010_refund_requests_ledger'
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """Dropping columns rebuilds `users` on SQLite; with foreign keys on, that DROP fails (orders
    point at users) or cascade-deletes every role. The pragma only takes effect outside a
    transaction, so the one pysqlite opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('suspended_reason', sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_suspended_at'), ['suspended_at'], unique=False)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_suspended_at'))
        batch_op.drop_column('suspended_reason')
        batch_op.drop_column('suspended_at')
    _sqlite_foreign_keys(True)
