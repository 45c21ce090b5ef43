"""the first contact of each case kept on the case (cases.first_contact_at), filled from the
log entries already written, so the reports' median days to first contact read one indexed
column instead of grouping the whole log (market.staff.reports)

Revision ID: 0019_reports_first_contact
Revises: 0018_staffq_report_indexes
Create Date: 2026-11-27 18:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0019_reports_first_contact'
down_revision = '0018_staffq_report_indexes'
branch_labels = None
depends_on = None

# market.models.mentoring.CONTACT_KINDS, as it stands at this revision.
CONTACT_KINDS = ("call", "visit", "wechat", "meeting")


def _sqlite_foreign_keys(on: bool) -> None:
    """Dropping the column rebuilds `cases` on SQLite; with foreign keys on, that DROP would
    cascade-delete every case's log, difficulties and consents. The pragma only takes effect
    outside a transaction, so the one pysqlite opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    op.add_column('cases', sa.Column('first_contact_at', sa.DateTime(), nullable=True))
    # Carry the existing log over: each case's earliest call, visit, WeChat or meeting.
    kinds = ", ".join(f"'{k}'" for k in CONTACT_KINDS)
    contacts = f"FROM case_log_entries e WHERE e.case_id = cases.id AND e.kind IN ({kinds})"
    op.execute(f"UPDATE cases SET first_contact_at = (SELECT min(e.created_at) {contacts}) "
               f"WHERE EXISTS (SELECT 1 {contacts})")
    op.create_index('ix_cases_first_contact_at', 'cases', ['first_contact_at'], unique=False)


def downgrade():
    op.drop_index('ix_cases_first_contact_at', table_name='cases')
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('first_contact_at')
    _sqlite_foreign_keys(True)
