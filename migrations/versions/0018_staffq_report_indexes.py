"""indexes for the federation's reports: cases by filing time, difficulties solved in a
period, the first contact of each case (market.staff.reports)

Revision ID: 0018_staffq_report_indexes
Revises: 0017_speed_listing_indexes
Create Date: 2026-11-27 17:40:00

"""
from alembic import op

revision = '0018_staffq_report_indexes'
down_revision = '0017_speed_listing_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_cases_created_at', 'cases', ['created_at'], unique=False)
    op.create_index('ix_cases_opened_at', 'cases', ['opened_at'], unique=False)
    op.create_index('ix_cases_matched_at', 'cases', ['matched_at'], unique=False)
    op.create_index('ix_cases_resolved_at', 'cases', ['resolved_at'], unique=False)
    op.create_index('ix_case_difficulties_status_updated', 'case_difficulties', ['status', 'updated_at'],
                    unique=False)
    op.create_index('ix_case_log_entries_kind_case_created', 'case_log_entries', ['kind', 'case_id', 'created_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_case_log_entries_kind_case_created', table_name='case_log_entries')
    op.drop_index('ix_case_difficulties_status_updated', table_name='case_difficulties')
    op.drop_index('ix_cases_resolved_at', table_name='cases')
    op.drop_index('ix_cases_matched_at', table_name='cases')
    op.drop_index('ix_cases_opened_at', table_name='cases')
    op.drop_index('ix_cases_created_at', table_name='cases')
