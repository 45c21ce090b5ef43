"""Users' versions (market.user_versions) kept in each process and kept current by Redis itself.

Every signed-in page served from the caches asks Redis for two versions (hers and everyone's)
to prove her cached header is current and her session not ended. That round trip was the
largest cost of such a page that is ours (README, "Speed, part 7"). Redis can instead tell a
process when a key it read changes: with `CLIENT TRACKING ON` on a connection, Redis remembers
the keys read through it and pushes an *invalidation* for each one as soon as any client
changes it (a bump, a new version, expiry, eviction, a flush). So each process keeps the
versions it read, on one connection of its own (RESP3, so pushes come on the same connection),
and before every read takes in the pushes already waiting on that socket (no round trip: a
non-blocking look). A version is read from Redis again only after its push arrived.

Why that is as current as asking: Redis queues the push to this connection while it runs the
command that changed the key, and writes every queued reply and push before it reads anything
more; the author of a change (market.user_versions.bump, after its commit) makes one more round
trip (`PING`) before it goes on, so by then the push is in this process's socket buffer and the
next request here takes it in before reading the version. (Without that round trip a reader
could slip between Redis' reply to the write and its push: tests/unit/test_tracked_versions.py
found it.) Anything unusual (the connection
lost, Redis restarted, a reply that cannot be read) drops everything kept and the connection;
the next read starts afresh. Redis 6 or later; `VERSIONS_TRACKING=0` turns it off (every read
asks Redis, as before).
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import OrderedDict

import redis

log = logging.getLogger(__name__)

MAX_KEYS = 50_000


class TrackedVersions:
    """Version keys read through one tracking connection, kept until Redis says they changed."""

    def __init__(self, pool: redis.ConnectionPool, max_keys: int = MAX_KEYS):
        self._connection_class = pool.connection_class
        self._connection_kwargs = {**pool.connection_kwargs, "protocol": 3}
        self._max_keys = max_keys
        self._values: OrderedDict[str, bytes] = OrderedDict()
        self._conn = None
        self._lock = threading.Lock()
        self.asked = 0  # MGETs sent (tests and the bench read it)

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        """The raw values of `keys` (None where absent), current as of this call."""
        with self._lock:
            try:
                conn = self._connection()
                while conn.can_read(timeout=0):  # pushes already waiting: take them in
                    conn.read_response(push_request=True)
                values = [self._values.get(k) for k in keys]
                if None not in values:
                    return values
                self.asked += 1
                conn.send_command("MGET", *keys)
                values = conn.read_response()  # pushes before the reply are handled on the way
                for key, value in zip(keys, values, strict=True):
                    if value is not None:
                        self._values[key] = value
                        self._values.move_to_end(key)
                while len(self._values) > self._max_keys:
                    # Forgetting is safe: Redis may push for it later, which changes nothing.
                    self._values.popitem(last=False)
                return values
            except Exception:
                self._drop()
                raise

    def _connection(self):
        if self._conn is None:
            conn = self._connection_class(**self._connection_kwargs)
            conn.connect()
            conn._parser.set_invalidation_push_handler(self._invalidated)
            conn.send_command("CLIENT", "TRACKING", "ON")
            reply = conn.read_response()
            if reply not in (b"OK", "OK"):
                conn.disconnect()
                raise redis.RedisError(f"CLIENT TRACKING ON answered {reply!r}")
            self._values.clear()  # nothing read before this connection is tracked
            self._conn = conn
        return self._conn

    def _invalidated(self, message) -> None:
        keys = message[1] if len(message) > 1 else None
        if keys is None:  # FLUSHALL / FLUSHDB
            self._values.clear()
            return
        for key in keys:
            self._values.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _drop(self) -> None:
        self._values.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken
                conn.disconnect()


_PROCESS: dict[tuple[int, int], TrackedVersions] = {}
_PROCESS_LOCK = threading.Lock()


def for_client(client: redis.Redis) -> TrackedVersions:
    """This process's tracker for `client`'s server and database (made after a fork)."""
    key = (os.getpid(), id(client.connection_pool))
    tracker = _PROCESS.get(key)
    if tracker is None:
        with _PROCESS_LOCK:
            tracker = _PROCESS.get(key)
            if tracker is None:
                tracker = _PROCESS[key] = TrackedVersions(client.connection_pool)
    return tracker
