"""accounts: a per-user session token (Flask-Login's alternative id) and email verification

Every existing user gets her own fresh random session token, so the cookies signed before this
migration (which hold the numeric id) stop opening anything: everyone logs in once more.
Existing addresses are left unverified (email_verified_at NULL): nothing proved that their
owners read them, and what a verified address unlocks (attaching guest orders by address)
must not be open to whoever typed someone else's address once. The account page offers the
link again.

Revision ID: 0005_accounts_sessions
Revises: 0004
Create Date: 2026-11-27 14:30:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_accounts_sessions'
down_revision = '0004'
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """Rebuilding `users` on SQLite drops the old table; with foreign keys on, that DROP fails
    (orders point at users) or cascade-deletes every role. The pragma only takes effect outside
    a transaction, so the one pysqlite opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))

    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String(64)))
    conn = op.get_bind()
    ids = conn.execute(sa.select(users.c.id)).scalars().all()
    for start in range(0, len(ids), 1000):
        conn.execute(
            users.update().where(users.c.id == sa.bindparam('uid')).values(session_token=sa.bindparam('token')),
            [{'uid': i, 'token': secrets.token_urlsafe(32)} for i in ids[start:start + 1000]],
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_session_token'), ['session_token'])
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_session_token'), type_='unique')
        batch_op.drop_column('email_verified_at')
        batch_op.drop_column('session_token')
    _sqlite_foreign_keys(True)
