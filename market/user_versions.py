"""One version per user for everything her page header shows, kept in the shared cache.

Signed-in pages take the reader's rendered header from the cache (market.readers) under a key
that holds her version, so a header is only ever served for the version it was made for. Any
committed change that a header shows or that decides who she is bumps it: her name, roles,
session token (logout, "log out everywhere", password change, suspension), unread count,
cart, orders (what she may review) and her shop. Bumps come from SQLAlchemy events, not call
sites, so a new code path that changes those rows cannot forget one:

- ORM changes (`session.add`, attribute changes, deletes) are seen at flush;
- bulk `update()` / `delete()` statements through a session are read for the user they name
  (`User.id == x`, `CartItem.user_id == x`, ...); one that names nobody bumps every user (the
  `*` version, which is part of every key too).

Versions are bumped after the commit (never before: a reader who read the old version while
the change was not yet visible stores what she loaded under the old version, which nobody
asks for any more), and are random, so a version that was evicted and made again never
matches an old header. A header also expires after READER_CACHE_SECONDS, in case a bump is
lost (the cache unreachable at that moment).
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import redis
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from market import tracked_versions
from market.extensions import cache

log = logging.getLogger(__name__)

EVERYONE = "*"
_TOUCHED = "sm_touched_users"
VERSION_SECONDS = 7 * 24 * 3600

# table -> the column that names the user whose header a row changes
USER_COLUMNS = {"users": "id", "user_roles": "user_id", "cart_items": "user_id", "orders": "buyer_id",
                "artisans": "user_id"}


def version_key(user_id: int | str) -> str:
    return f"uver:{user_id}"


def versions(user_id: int) -> tuple[str, str] | None:
    """(her version, everyone's version) from the shared cache, made when missing; None when
    the cache cannot answer."""
    keys = [version_key(user_id), version_key(EVERYONE)]
    try:
        values = cache.get_many(*keys)
        if None in values:
            for key, value in zip(keys, values, strict=True):
                if value is None:
                    cache.add(key, secrets.token_hex(6), timeout=VERSION_SECONDS)
            values = cache.get_many(*keys)
    except Exception as exc:  # noqa: BLE001  no shared cache: no cached headers
        log.warning("user version read failed: %s", exc)
        return None
    if None in values:  # NullCache (tests, development without a cache)
        return None
    return values[0], values[1]


def read_versions(user_id: int) -> tuple[str, str] | None:
    """Like `versions` but never makes one (the fast path: a missing version is a miss).
    With Redis, from this process's copy that Redis keeps current (market.tracked_versions)."""
    keys = [version_key(user_id), version_key(EVERYONE)]
    try:
        values = _read_tracked(keys)
        if values is None:
            values = cache.get_many(*keys)
    except Exception as exc:  # noqa: BLE001
        log.warning("user version read failed: %s", exc)
        return None
    return None if None in values else (values[0], values[1])


def _redis_backend():
    """The shared cache's Redis client and its cachelib backend, or (None, None)."""
    backend = getattr(cache, "cache", None)
    client = getattr(backend, "_read_client", None)
    if not isinstance(client, redis.Redis) or not hasattr(backend, "_get_prefix"):
        return None, None
    return client, backend


def _read_tracked(keys: list[str]) -> list | None:
    """`keys`' values through this process's tracking connection; None when there is none
    (a shared cache other than Redis, or VERSIONS_TRACKING off)."""
    if not current_app.config.get("VERSIONS_TRACKING", True):
        return None
    client, backend = _redis_backend()
    if client is None:
        return None
    prefix = backend._get_prefix()
    raw = tracked_versions.for_client(client).get_many([f"{prefix}{key}" for key in keys])
    return [backend.serializer.loads(value) for value in raw]


def begin_read_versions(user_id: int) -> Callable[[], tuple[str, str] | None] | None:
    """`read_versions` in two halves, for a caller with a round trip of its own to make
    meanwhile (market.catalog.product_lane reads the product from the database): the `MGET`
    is sent now and the returned function reads its answer (call it exactly once; it gives
    the connection back to the pool). None when the shared cache is not Redis or cannot take
    the request: the caller reads as usual then."""
    client, backend = _redis_backend()
    if client is None:
        return None
    if current_app.config.get("VERSIONS_TRACKING", True):
        versions = read_versions(user_id)  # kept in this process: no round trip to overlap
        return lambda: versions
    prefix = backend._get_prefix()
    pool = client.connection_pool
    try:
        conn = pool.get_connection()
    except Exception as exc:  # noqa: BLE001
        log.warning("user version read failed: %s", exc)
        return None
    try:
        conn.send_command("MGET", f"{prefix}{version_key(user_id)}", f"{prefix}{version_key(EVERYONE)}")
    except Exception as exc:  # noqa: BLE001
        conn.disconnect()
        pool.release(conn)
        log.warning("user version read failed: %s", exc)
        return None

    def finish() -> tuple[str, str] | None:
        try:
            values = [backend.serializer.loads(v) for v in conn.read_response()]
        except Exception as exc:  # noqa: BLE001  a half-read answer: the connection is dropped
            conn.disconnect()
            log.warning("user version read failed: %s", exc)
            return None
        finally:
            pool.release(conn)
        return None if None in values else (values[0], values[1])

    return finish


def bump(*user_ids: int | str) -> None:
    """New versions for these users (EVERYONE for all): their cached headers are never served again."""
    if not user_ids:
        return
    try:
        cache.set_many({version_key(u): secrets.token_hex(6) for u in user_ids}, timeout=VERSION_SECONDS)
        client, _backend = _redis_backend()
        if client is not None:
            # Redis pushes the change to every process keeping these versions
            # (market.tracked_versions) in the same turn as its reply to the write, but may be
            # interrupted between the two: one more round trip, and the pushes are out before
            # this request goes on (to the reader's next page).
            client.ping()
    except Exception as exc:  # noqa: BLE001  the headers expire after READER_CACHE_SECONDS
        log.warning("user version bump failed for %s: %s", user_ids, exc)


def touch(session: Session, *user_ids: int | str | None) -> None:
    """Bump these users' versions when `session` commits (forgotten on rollback)."""
    ids = {u for u in user_ids if u is not None}
    if ids:
        session.info.setdefault(_TOUCHED, set()).update(ids)


# ---- SQLAlchemy events ------------------------------------------------------------------

def _user_of(obj) -> int | None:
    table = getattr(obj, "__tablename__", None)
    column = USER_COLUMNS.get(table)
    return getattr(obj, column, None) if column else None


def _old_user_of(obj) -> int | None:
    """The user a row named before this flush (a cart line moved, an order claimed)."""
    from sqlalchemy import inspect

    column = USER_COLUMNS.get(getattr(obj, "__tablename__", None))
    if column is None:
        return None
    history = inspect(obj).attrs[column].history
    return history.deleted[0] if history.deleted else None


def _before_flush(session: Session, _context, _instances) -> None:
    ids = set()
    for obj in session.new:
        ids.add(_user_of(obj))
    for obj in session.deleted:
        ids.add(_user_of(obj))
    for obj in session.dirty:
        if getattr(obj, "__tablename__", None) in USER_COLUMNS and session.is_modified(obj):
            ids.update((_user_of(obj), _old_user_of(obj)))
    touch(session, *ids)


def _named_users(statement) -> list:
    """The values compared with the user column in a bulk statement's WHERE clause."""
    table = getattr(getattr(statement, "table", None), "name", None)
    column = USER_COLUMNS.get(table)
    where = getattr(statement, "whereclause", None)
    if column is None or where is None:
        return []
    found = []
    for node in visitors.iterate(where):
        if (isinstance(node, BinaryExpression) and node.operator is operators.eq
                and getattr(node.left, "name", None) == column and getattr(getattr(node.left, "table", None), "name", None) == table
                and isinstance(node.right, BindParameter)):
            found.append(node.right.effective_value)
    return found


def _inserted_users(state, statement) -> list:
    """The user column's values in a Core `insert()` (`.values(user_id=...)` or the
    parameters passed with it)."""
    column = USER_COLUMNS[statement.table.name]
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    found = [row[column] for row in rows if isinstance(row, dict) and column in row]
    if not found:
        try:
            compiled = statement.compile(dialect=state.session.get_bind().dialect)
            if column in compiled.params:
                found.append(compiled.params[column])
        except Exception:  # noqa: BLE001  unknown: everyone's headers are made again
            return []
    return found


def _do_orm_execute(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    statement = state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table not in USER_COLUMNS:
        return
    named = _inserted_users(state, statement) if state.is_insert else _named_users(statement)
    touch(state.session, *(named or [EVERYONE]))


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_TOUCHED, None)
    if ids and has_app_context() and "cache" in current_app.extensions:
        bump(*ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def install() -> None:
    """Listen on every session (idempotent)."""
    for name, fn in (("before_flush", _before_flush), ("do_orm_execute", _do_orm_execute),
                     ("after_commit", _after_commit), ("after_soft_rollback", _after_rollback_soft)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def _after_rollback_soft(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: its changes are gone
        _after_rollback(session)
