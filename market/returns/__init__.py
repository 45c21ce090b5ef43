"""Buyers' refund and return requests: asked for by the buyer, answered by the artisan (or by
staff when she does not answer in time); an accepted request ends in the order's one refund
path (market.payments.services.refund -> market.orders.operations.reserve_refund)."""
