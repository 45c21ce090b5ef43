"""orders re-modelled: payment records of their own, refund reservations, the order's
lifecycle only, one cancel reason

Carries every existing order over:
- its PaymentIntent id, client secret and error into a `payments` row (status as the old
  order state implies: paid -> succeeded, declined or cancelled -> canceled, unpaid ->
  requires_payment_method; the reconcile job asks the API for the exact one later);
- its refunds into refund records with a status (succeeded when the API gave a refund id,
  else failed) and an origin (late_payment on a cancelled order, external when reported by
  the payments service), and `refunded_fen` recomputed from the succeeded ones (a late
  payment refunded by the old code had left it at 0);
- `paid_fen`: the total for every order whose money was taken (paid, partially_refunded,
  refunded, and cancelled orders with a refund of a late payment);
- the two cancel fields into `cancel_reason` (the payment error when there was one: it is
  the more precise, e.g. card_declined rather than payment_failed);
- the old statuses refunded / partially_refunded into the lifecycle plus refund totals:
  refunded in full with nothing shipped -> cancelled (reason refunded, its parcels
  cancelled); otherwise paid, fulfilled (every live parcel shipped) or completed (every
  live parcel delivered), as the parcels say.

Revision ID: 0006_orders_payment_records
Revises: 0005_accounts_sessions
Create Date: 2026-11-27 14:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_orders_payment_records"
down_revision = "0005_accounts_sessions"
branch_labels = None
depends_on = None

DECLINES = "('card_declined', 'authentication_failed', 'payment_failed')"
MONEY_TAKEN = "('paid', 'partially_refunded', 'refunded')"


def _sqlite_foreign_keys(on: bool) -> None:
    """Rebuilding `orders` on SQLite drops the old table; with foreign keys on, that DROP
    would cascade-delete every sub-order, line and refund. The pragma only takes effect
    outside a transaction, so the one pysqlite opened is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.connection.dbapi_connection.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("client_secret", sa.String(length=255), nullable=True),
        sa.Column("last_error_code", sa.String(length=60), nullable=True),
        sa.Column("creating_since", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payments_order_id")),
        sa.UniqueConstraint("stripe_payment_intent_id", name=op.f("uq_payments_stripe_payment_intent_id")),
    )
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="succeeded"))
        batch_op.add_column(sa.Column("origin", sa.String(length=20), nullable=False, server_default="staff"))
        batch_op.add_column(sa.Column("request_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=False,
                                      server_default=sa.text("(CURRENT_TIMESTAMP)")))
        batch_op.create_unique_constraint(batch_op.f("uq_refunds_request_token"), ["request_token"])
        batch_op.create_index("ix_refunds_status", ["status"], unique=False)
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("paid_fen", sa.Integer(), nullable=False, server_default="0"))

    # ---- the data --------------------------------------------------------------------
    late_refund = ("EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = orders.id "
                   "AND r.stripe_refund_id IS NOT NULL)")
    op.execute(f"""
        INSERT INTO payments (order_id, stripe_payment_intent_id, amount_fen, currency, status, client_secret,
                              last_error_code, created_at, updated_at)
        SELECT id, payment_intent_id, total_fen, currency,
               CASE WHEN status IN {MONEY_TAKEN} THEN 'succeeded'
                    WHEN status = 'cancelled' AND {late_refund} THEN 'succeeded'
                    WHEN status = 'cancelled' THEN 'canceled'
                    ELSE 'requires_payment_method' END,
               payment_client_secret,
               CASE WHEN payment_error IN {DECLINES} THEN payment_error END,
               created_at, updated_at
        FROM orders WHERE payment_intent_id IS NOT NULL AND total_fen > 0
    """)
    op.execute(f"""
        UPDATE orders SET paid_fen = total_fen
        WHERE status IN {MONEY_TAKEN} OR (status = 'cancelled' AND {late_refund})
    """)
    op.execute("UPDATE refunds SET status = CASE WHEN stripe_refund_id IS NOT NULL THEN 'succeeded' ELSE 'failed' END")
    op.execute("""
        UPDATE refunds SET origin = 'late_payment'
        WHERE order_id IN (SELECT id FROM orders WHERE status = 'cancelled')
    """)
    op.execute("""
        UPDATE refunds SET origin = 'external'
        WHERE created_by_id IS NULL AND reason = 'reported by the payments service'
    """)
    op.execute("""
        UPDATE orders SET refunded_fen = COALESCE((SELECT SUM(r.amount_fen) FROM refunds r
                                                    WHERE r.order_id = orders.id AND r.status = 'succeeded'), 0)
    """)
    op.execute("""
        UPDATE orders SET cancel_reason = SUBSTR(COALESCE(payment_error, cancel_reason, 'payment_cancelled'), 1, 30)
        WHERE status = 'cancelled'
    """)
    nothing_shipped = ("NOT EXISTS (SELECT 1 FROM sub_orders s WHERE s.order_id = orders.id "
                       "AND s.status IN ('shipped', 'delivered'))")
    op.execute(f"""
        UPDATE sub_orders SET status = 'cancelled'
        WHERE status = 'awaiting_shipment' AND order_id IN (
            SELECT id FROM orders WHERE status IN ('refunded', 'partially_refunded', 'paid')
            AND paid_fen > 0 AND refunded_fen >= paid_fen AND {nothing_shipped})
    """)
    op.execute(f"""
        UPDATE orders SET status = 'cancelled', cancel_reason = 'refunded', cancelled_at = updated_at
        WHERE status IN {MONEY_TAKEN} AND paid_fen > 0 AND refunded_fen >= paid_fen AND {nothing_shipped}
    """)
    live = "FROM sub_orders s WHERE s.order_id = orders.id AND s.status <> 'cancelled'"
    op.execute(f"""
        UPDATE orders SET status = CASE
            WHEN EXISTS (SELECT 1 {live}) AND NOT EXISTS (SELECT 1 {live} AND s.status <> 'delivered') THEN 'completed'
            WHEN EXISTS (SELECT 1 {live})
                 AND NOT EXISTS (SELECT 1 {live} AND s.status NOT IN ('shipped', 'delivered')) THEN 'fulfilled'
            ELSE 'paid' END
        WHERE status IN {MONEY_TAKEN}
    """)

    # ---- the old columns go ---------------------------------------------------------
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_constraint(op.f("uq_orders_payment_intent_id"), type_="unique")
        batch_op.drop_constraint(op.f("ck_orders_refund_within_total"), type_="check")
        batch_op.drop_column("payment_intent_id")
        batch_op.drop_column("payment_client_secret")
        batch_op.drop_column("payment_error")
        batch_op.create_check_constraint("paid_within_total", "paid_fen >= 0 AND paid_fen <= total_fen")
        batch_op.create_check_constraint("refund_within_paid", "refunded_fen >= 0 AND refunded_fen <= paid_fen")
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_paid_within_total"), type_="check")
        batch_op.drop_constraint(op.f("ck_orders_refund_within_paid"), type_="check")
        batch_op.add_column(sa.Column("payment_intent_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("payment_client_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("payment_error", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_orders_payment_intent_id"), ["payment_intent_id"])
    op.execute("""
        UPDATE orders SET
            payment_intent_id = (SELECT p.stripe_payment_intent_id FROM payments p WHERE p.order_id = orders.id),
            payment_client_secret = (SELECT p.client_secret FROM payments p WHERE p.order_id = orders.id),
            payment_error = CASE WHEN status = 'cancelled' THEN cancel_reason END
    """)
    op.execute("""
        UPDATE orders SET status = CASE
            WHEN refunded_fen >= total_fen THEN 'refunded'
            WHEN refunded_fen > 0 THEN 'partially_refunded' ELSE 'paid' END
        WHERE status IN ('paid', 'fulfilled', 'completed')
           OR (status = 'cancelled' AND cancel_reason = 'refunded')
    """)
    op.execute("DELETE FROM refunds WHERE status <> 'succeeded'")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("paid_fen")
        batch_op.create_check_constraint("refund_within_total", "refunded_fen >= 0 AND refunded_fen <= total_fen")
    with op.batch_alter_table("refunds") as batch_op:
        batch_op.drop_index("ix_refunds_status")
        batch_op.drop_constraint(op.f("uq_refunds_request_token"), type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("request_token")
        batch_op.drop_column("origin")
        batch_op.drop_column("status")
    op.drop_table("payments")
    _sqlite_foreign_keys(True)
