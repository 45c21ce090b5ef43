"""Signals other modules subscribe to, so the senders need not know about them. (Signing in
uses Flask-Login's own `user_logged_in`, which the cart listens to, to keep a guest's cart.)"""
from blinker import Namespace

_signals = Namespace()
# A new account (sender is the User): the help desk lets her claim profiles filed for her.
user_registered = _signals.signal("user-registered")
# Staff suspended her account (sender is the user's id): the help desk withdraws asks waiting on her.
user_suspended = _signals.signal("user-suspended")
# Her email address is verified (sender is the User): guest orders with it join her account.
email_verified = _signals.signal("email-verified")

# Checkout events (counted by market.observability; sender is the Order).
order_placed = _signals.signal("order-placed")
order_paid = _signals.signal("order-paid")
payment_declined = _signals.signal("payment-declined")  # reason= the decline code
order_cancelled = _signals.signal("order-cancelled")  # reason= the cancel reason
sub_order_shipped = _signals.signal("sub-order-shipped")  # sender is the SubOrder
# sender is the Refund's id; succeeded: made (True) or, after being made, failed at the bank (False)
refund_settled = _signals.signal("refund-settled")
payout_paid = _signals.signal("payout-paid")  # sender is the Payout's id
