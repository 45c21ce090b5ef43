"""Short-lived caching of derived data that is expensive to compute and harmless when a
minute old (which products match a search, how many there are). What a buyer must see
exactly (price, stock, whether a product is still for sale) is never cached.

The cache is Flask-Caching: RedisCache on several app servers, SimpleCache in development,
NullCache in tests. A cache that fails (Redis down) only makes pages slower, never broken.

In front of it each process keeps a small copy of what it read last (`LocalCache`, at most
LOCAL_CACHE_SECONDS old and LOCAL_CACHE_ITEMS entries), so a busy page does not pay a Redis
round trip for each of its cached parts on every request. Nothing that differs between
users is ever stored in either.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from market.extensions import cache

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_key(namespace: str, *parts: Any) -> str:
    """A short key for `parts` (any reprs), so user input never becomes a raw Redis key."""
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:24]
    return f"{namespace}:{digest}"


class LocalCache:
    """A per-process, thread-safe, size-bounded map of key -> (expiry, value)."""

    def __init__(self, max_items: int = 5000):
        self.max_items = max_items
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        entry = self._items.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            with self._lock:
                self._items.pop(key, None)
            return None
        return entry[1]

    def set(self, key: str, value: Any, seconds: float) -> None:
        if seconds <= 0 or value is None:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def local_cache() -> LocalCache:
    app = current_app._get_current_object()
    local = app.extensions.get("market_local_cache")
    if local is None:
        local = app.extensions.setdefault(
            "market_local_cache", LocalCache(int(app.config.get("LOCAL_CACHE_ITEMS", 5000))))
    return local


def _local_seconds(timeout: int) -> float:
    return min(float(timeout), float(current_app.config.get("LOCAL_CACHE_SECONDS", 5)))


def get_many(keys: list[str], timeout: int) -> list[Any]:
    """Values for `keys` (None where absent): this process's copy first, then one round
    trip to the shared cache for the rest."""
    local = local_cache()
    values = [local.get(k) for k in keys]
    missing = [i for i, v in enumerate(values) if v is None]
    if missing:
        try:
            shared = cache.get_many(*[keys[i] for i in missing])
        except Exception as exc:  # noqa: BLE001  a cache outage must not break the page
            log.warning("cache read failed: %s", exc)
            return values
        seconds = _local_seconds(timeout)
        for i, value in zip(missing, shared, strict=True):
            if value is not None:
                values[i] = value
                local.set(keys[i], value, seconds)
    return values


def set_many(mapping: dict[str, Any], timeout: int) -> None:
    local = local_cache()
    seconds = _local_seconds(timeout)
    for key, value in mapping.items():
        local.set(key, value, seconds)
    try:
        cache.set_many(mapping, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        log.warning("cache write failed: %s", exc)


def remember(key: str, timeout: int, compute: Callable[[], T]) -> T:
    """The cached value for `key`, or `compute()` stored for `timeout` seconds (0: no cache)."""
    if timeout <= 0:
        return compute()
    local = local_cache()
    value = local.get(key)
    if value is not None:
        return value
    try:
        value = cache.get(key)
    except Exception as exc:  # noqa: BLE001  a cache outage must not break the page
        log.warning("cache read failed for %s: %s", key, exc)
        return compute()
    if value is not None:
        local.set(key, value, _local_seconds(timeout))
        return value
    value = compute()
    local.set(key, value, _local_seconds(timeout))
    try:
        cache.set(key, value, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        log.warning("cache write failed for %s: %s", key, exc)
    return value
