"""The shopping cart: in the session for guests, stored for logged-in buyers."""
