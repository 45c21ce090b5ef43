"""Signals other modules subscribe to, so accounts need not know about them
(e.g. the cart merges a guest cart into the stored one on login)."""
from blinker import Namespace

_signals = Namespace()
user_logged_in_merge = _signals.signal("user-logged-in-merge")
