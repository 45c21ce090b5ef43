"""Short-lived caching of derived data that is expensive to compute and harmless when a
minute old (which products match a search, how many there are). What a buyer must see
exactly (price, stock, whether a product is still for sale) is never cached.

The cache is Flask-Caching: RedisCache on several app servers, SimpleCache in development,
NullCache in tests. A cache that fails (Redis down) only makes pages slower, never broken.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from market.extensions import cache

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_key(namespace: str, *parts: Any) -> str:
    """A short key for `parts` (any reprs), so user input never becomes a raw Redis key."""
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:24]
    return f"{namespace}:{digest}"


def remember(key: str, timeout: int, compute: Callable[[], T]) -> T:
    """The cached value for `key`, or `compute()` stored for `timeout` seconds (0: no cache)."""
    if timeout <= 0:
        return compute()
    try:
        value = cache.get(key)
    except Exception as exc:  # noqa: BLE001  a cache outage must not break the page
        log.warning("cache read failed for %s: %s", key, exc)
        return compute()
    if value is not None:
        return value
    value = compute()
    try:
        cache.set(key, value, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        log.warning("cache write failed for %s: %s", key, exc)
    return value
