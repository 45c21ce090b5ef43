"""Orders: checkout, stock reservation, fulfilment per artisan, refunds."""
