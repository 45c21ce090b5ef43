"""one saved address per (user, name, phone, address): the address-book form sent twice at
once (a double click) saved two identical entries; a unique constraint makes the second
submit find the first. Copies already stored are merged into their oldest entry (which
stays the default if any copy was).

Revision ID: 0023_qa2_one_saved_address
Revises: 0022_memsearch_updated_idx
Create Date: 2026-11-28 00:20:00

"""
from alembic import op
from sqlalchemy import text

revision = '0023_qa2_one_saved_address'
down_revision = '0022_memsearch_updated_idx'
branch_labels = None
depends_on = None

# The oldest entry of each group of identical entries.
_KEEP = ("SELECT min(id) FROM saved_addresses GROUP BY user_id, name, phone, address")


def upgrade():
    conn = op.get_bind()
    # A copy that was her default hands that on to the entry that stays.
    conn.execute(text(
        "UPDATE saved_addresses SET is_default = true WHERE id IN (" + _KEEP + ") AND EXISTS ("
        " SELECT 1 FROM saved_addresses AS copy WHERE copy.user_id = saved_addresses.user_id"
        " AND copy.name = saved_addresses.name AND copy.phone = saved_addresses.phone"
        " AND copy.address = saved_addresses.address AND copy.is_default = true)"))
    conn.execute(text("DELETE FROM saved_addresses WHERE id NOT IN (" + _KEEP + ")"))
    with op.batch_alter_table('saved_addresses', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_saved_addresses_entry', ['user_id', 'name', 'phone', 'address'])


def downgrade():
    with op.batch_alter_table('saved_addresses', schema=None) as batch_op:
        batch_op.drop_constraint('uq_saved_addresses_entry', type_='unique')
