"""Signals other modules subscribe to, so accounts need not know about them
(e.g. the cart merges a guest cart into the stored one on login)."""
from blinker import Namespace

_signals = Namespace()
user_logged_in_merge = _signals.signal("user-logged-in-merge")

# Checkout events (counted by market.observability; sender is the Order).
order_placed = _signals.signal("order-placed")
order_paid = _signals.signal("order-paid")
payment_declined = _signals.signal("payment-declined")  # reason= the decline code
order_cancelled = _signals.signal("order-cancelled")  # reason= the cancel reason
sub_order_shipped = _signals.signal("sub-order-shipped")  # sender is the SubOrder
