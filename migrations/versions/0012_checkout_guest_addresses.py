"""guest orders (an order may have no account: buyer_id NULL, the guest's email and when she
proved it), buyers' saved addresses, the artisan's low-stock threshold. Existing orders keep
their buyer.

Revision ID: 0011_checkout_guest_addresses
Revises: 0010_refund_requests_ledger
Create Date: 2026-11-27 17:10:30.873728

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_checkout_guest_addresses'
down_revision = '0011_staffhome_user_suspension'
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """Making orders.buyer_id nullable rebuilds `orders` on SQLite; with foreign keys on, dropping
    the old table fails (sub-orders, lines, payments point at it) or cascades. The pragma only
    takes effect outside a transaction, so the one pysqlite opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _sqlite_foreign_keys(False)
    op.create_table('saved_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_addresses'))
    )
    with op.batch_alter_table('saved_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_addresses_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('artisans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_stock_threshold', sa.Integer(), server_default='3', nullable=False))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guest_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('guest_email_verified_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('buyer_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_orders_guest_email'), ['guest_email'], unique=False)
    _sqlite_foreign_keys(True)


def downgrade():
    # Orders of guests never attached to an account cannot exist without a buyer: they go.
    op.execute("DELETE FROM orders WHERE buyer_id IS NULL")
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_guest_email'))
        batch_op.alter_column('buyer_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('guest_email_verified_at')
        batch_op.drop_column('guest_email')

    with op.batch_alter_table('artisans', schema=None) as batch_op:
        batch_op.drop_column('low_stock_threshold')

    with op.batch_alter_table('saved_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_addresses_user_id'))

    op.drop_table('saved_addresses')
    _sqlite_foreign_keys(True)
