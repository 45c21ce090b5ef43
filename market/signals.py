"""Signals other modules subscribe to, so accounts need not know about them
(e.g. the cart merges a guest cart into the stored one on login)."""
from blinker import Namespace

_signals = Namespace()
user_logged_in_merge = _signals.signal("user-logged-in-merge")
# A new account (sender is the User): the help desk lets her claim profiles filed for her.
user_registered = _signals.signal("user-registered")

# Checkout events (counted by market.observability; sender is the Order).
order_placed = _signals.signal("order-placed")
order_paid = _signals.signal("order-paid")
payment_declined = _signals.signal("payment-declined")  # reason= the decline code
