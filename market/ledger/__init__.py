"""What the platform owes each artisan: commission rules, the append-only ledger, payout
batches and statements. Entries are posted from the order and refund records (signals, and
an idempotent sweep); nothing here changes an order or a refund."""
