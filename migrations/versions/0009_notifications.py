"""notifications: the notices table (one row per event, recipient and channel), each person's
notice preferences, her notice language and the unread counter on users (existing users: 0
unread, the site's default language)

Revision ID: 0009_notifications
Revises: 0008_cases_areas_audit
Create Date: 2026-11-27 15:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009_notifications'
down_revision = '0008_cases_areas_audit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=120), nullable=False),
    sa.Column('recipient', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['client_profiles.id'], name=op.f('fk_notices_profile_id_client_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('event', 'recipient', 'channel', name='uq_notices_event_recipient_channel')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_status_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notices_user_channel', ['user_id', 'channel', 'id'], unique=False)

    op.create_table('notice_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', 'channel', name=op.f('pk_notice_preferences'))
    )
    # Plain ADD COLUMN (no table rebuild): every existing user gets 0 unread and no language.
    op.add_column('users', sa.Column('locale', sa.String(length=5), nullable=True))
    op.add_column('users', sa.Column('unread_notices', sa.Integer(), server_default='0', nullable=False))


def _sqlite_foreign_keys(on: bool) -> None:
    """Rebuilding `users` on SQLite drops the old table: with foreign keys on, that fails (as in 0005)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.connection.dbapi_connection.commit()
        bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('unread_notices')
        batch_op.drop_column('locale')
    _sqlite_foreign_keys(True)
    op.drop_table('notice_preferences')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_user_channel')
        batch_op.drop_index('ix_notices_status_due')
    op.drop_table('notices')
