"""Users' versions kept per process and kept current by Redis (market.tracked_versions), against
Redis itself (TEST_REDIS_URL; CI sets it, and with REQUIRE_POSTGRES an unreachable Redis fails
instead of skipping): a change made by anyone is seen by the very next read, reads in between
ask nothing, and a lost connection loses nothing."""
from __future__ import annotations

import os
import uuid

import pytest
import redis

from market import tracked_versions
from tests.support import redis_or_skip

URL = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture
def clients():
    writer = redis_or_skip(URL)
    reader = redis.Redis.from_url(URL)
    prefix = f"tracktest-{uuid.uuid4().hex[:8]}:"
    yield writer, tracked_versions.TrackedVersions(reader.connection_pool), prefix
    for key in writer.scan_iter(f"{prefix}*"):
        writer.delete(key)
    writer.close()
    reader.close()


def test_every_change_by_another_client_is_seen_by_the_next_read(clients):
    writer, tracked, prefix = clients
    her, everyone = f"{prefix}uver:7", f"{prefix}uver:*"
    writer.set(her, b"v0")
    writer.set(everyone, b"e0")
    assert tracked.get_many([her, everyone]) == [b"v0", b"e0"]
    asked = tracked.asked
    for _ in range(50):
        assert tracked.get_many([her, everyone]) == [b"v0", b"e0"]
    assert tracked.asked == asked  # kept: nothing asked
    for n in range(1000):  # each change, once its writer has made one more round trip, is seen at once
        writer.set(her if n % 3 else everyone, f"v{n + 1}".encode())
        writer.ping()  # as user_versions.bump does
        assert tracked.get_many([her, everyone]) == writer.mget(her, everyone)
    writer.delete(her)
    writer.ping()
    assert tracked.get_many([her, everyone])[0] is None
    writer.set(her, b"back", px=50)  # expiry is a change too
    assert tracked.get_many([her])[0] == b"back"
    import time

    time.sleep(0.2)
    assert writer.get(her) is None  # expired: Redis deletes it now, and pushes that
    writer.ping()
    assert tracked.get_many([her]) == [None]


def test_a_lost_connection_loses_nothing(clients):
    writer, tracked, prefix = clients
    key = f"{prefix}uver:8"
    writer.set(key, b"v0")
    assert tracked.get_many([key]) == [b"v0"]
    # The tracking connection is cut; the key changes while nobody tracks it for this process.
    tracked._conn.send_command("CLIENT", "ID")
    writer.client_kill_filter(_id=tracked._conn.read_response())
    writer.set(key, b"v1")
    writer.ping()
    with pytest.raises(redis.RedisError):
        tracked.get_many([key])  # the broken connection is found and dropped, with what it kept
    assert tracked.get_many([key]) == [b"v1"]  # a new connection reads afresh
