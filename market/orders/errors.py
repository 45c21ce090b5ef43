"""Errors of the orders module; their messages are safe to show."""
from __future__ import annotations


class OrderError(ValueError):
    """A rule was broken; the message is safe to show."""


class OutOfStock(OrderError):
    pass


class LimitReached(OrderError):
    """A hoarding limit (unpaid orders, quantity per buyer, checkout rate)."""


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass
