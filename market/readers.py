"""A signed-in reader's own parts of a page, from the shared cache without the database.

A shell page (market.serving) needs four things about who is reading: her rendered header
(templates/_user_nav.html: name, cart count, unread count, menu by role), her CSRF token, and,
for product pages, whether she is staff, owns the product's shop or bought it (then the page
is rendered for her alone). `Reader` holds them, cached under

    (session token, user id, her version, everyone's version, language)

where the versions are read on every request (market.user_versions: with Redis, from this
process's copy that Redis keeps current, market.tracked_versions; else one `MGET`) and change
when anything a header shows changes, or her session is ended (logout,
"log out everywhere", a new password, suspension). So:

- a changed header is a new key: the very next request misses and renders it from the
  database (`remember_reader` stores the new one);
- an ended session is a new version and a token the database no longer knows: it misses, and
  Flask-Login finds nobody (the per-request session check holds; a cookie is never trusted
  for more than READER_CACHE_SECONDS even if a bump were lost);
- the versions are read *before* the user is loaded, so a header built from rows that a
  concurrent commit is replacing is stored under the version that commit retires.

The session token -> user id mapping never changes (tokens are random and replaced, never
reused), so it is kept like any other cached value. A Reader holds no secret: its header's
CSRF token is a hole, filled per request from this session's own token (`csrf_token`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, g, session
from flask_login.signals import session_protected
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from market import user_versions
from market.caching import cache_key, local_cache
from market.extensions import cache, db, login_manager

log = logging.getLogger(__name__)

T = TypeVar("T")
TOKEN_SECONDS = 24 * 3600
# A signed CSRF token is reused for this long within a process (it carries its signing time;
# WTF_CSRF_TIME_LIMIT, an hour, counts from then).
CSRF_REUSE_SECONDS = 60.0


@dataclass(frozen=True)
class Reader:
    user_id: int
    nav: str  # templates/_user_nav.html for her, with serving.HOLE_CSRF for the token
    is_staff: bool
    artisan_id: int | None
    bought: frozenset[int]  # products on any of her orders (she may review them)


def _seconds() -> int:
    return int(current_app.config.get("READER_CACHE_SECONDS", 0))


def _session_token() -> str | None:
    token = session.get("_user_id")
    return token if isinstance(token, str) and 0 < len(token) <= 64 else None


def _token_key(token: str) -> str:
    return cache_key("sessuser", token)


def _reader_key(token: str, user_id: int, versions: tuple[str, str], locale: str) -> str:
    return cache_key("reader", token, user_id, versions, locale)


def _session_protection_holds() -> bool:
    """Flask-Login's session protection, as its loader applies it: a request from another
    address or browser than the login's marks the session not fresh ("basic", or a permanent
    session) and goes on, or ends the session ("strong": False here, the slow path ends it)."""
    mode = current_app.config.get("SESSION_PROTECTION", login_manager.session_protection)
    if mode not in ("basic", "strong") or session.get("_id") == login_manager._session_identifier_generator():
        return True
    if mode == "basic" or session.permanent:
        if session.get("_fresh") is not False:
            session["_fresh"] = False
        session_protected.send(current_app._get_current_object())
        return True
    return False


def _user_of_token(token: str) -> int | None:
    local, key = local_cache(), _token_key(token)
    user_id = local.get(key)
    if user_id is None:
        try:
            user_id = cache.get(key)
        except Exception as exc:  # noqa: BLE001
            log.warning("reader cache read failed: %s", exc)
            return None
        if user_id is not None:
            local.set(key, user_id, TOKEN_SECONDS)
    return user_id


def cached_reader(locale: str) -> Reader | None:
    """This request's reader from the caches alone, or None (the database must say)."""
    if _seconds() <= 0:
        return None
    token = _session_token()
    if token is None or "csrf_token" not in session or not _session_protection_holds():
        return None
    return _cached_reader_of(token, locale)


def reader_of_session(data: dict, locale: str, while_waiting: Callable[[], T]) -> tuple[Reader | None, T | None]:
    """`cached_reader` for a session read outside a request (market.catalog.product_lane),
    whose caller has checked Flask-Login's session protection itself, and `while_waiting()`'s
    result: it runs while the shared cache answers for her versions (Redis: the request is
    sent first, read after), so the caller's own round trip and hers overlap. Neither runs
    for a session with no user or no CSRF token ((None, None)). Needs an app context."""
    if _seconds() <= 0:
        return None, None
    token = data.get("_user_id")
    if not isinstance(token, str) or not 0 < len(token) <= 64 or "csrf_token" not in data:
        return None, None
    user_id = _user_of_token(token)
    if user_id is None:
        return None, None
    finish = user_versions.begin_read_versions(user_id)
    try:
        result = while_waiting()
    finally:
        versions = finish() if finish is not None else user_versions.read_versions(user_id)
    return (_reader_for(token, user_id, versions, locale) if versions is not None else None), result


def _cached_reader_of(token: str, locale: str) -> Reader | None:
    user_id = _user_of_token(token)
    if user_id is None:
        return None
    versions = user_versions.read_versions(user_id)
    if versions is None:
        return None
    return _reader_for(token, user_id, versions, locale)


def _reader_for(token: str, user_id: int, versions: tuple[str, str], locale: str) -> Reader | None:
    key = _reader_key(token, user_id, versions, locale)
    local = local_cache()
    reader = local.get(key)
    if reader is None:
        try:
            reader = cache.get(key)
        except Exception as exc:  # noqa: BLE001
            log.warning("reader cache read failed: %s", exc)
            return None
        if reader is None:
            return None
        local.set(key, reader, _seconds())
    return reader


def prepare_reader() -> None:
    """Before the user is loaded from the database: the versions her header will be stored
    under (see the module's docstring for why before)."""
    if _seconds() <= 0 or "_login_user" in g:
        return
    token = _session_token()
    user_id = _user_of_token(token) if token else None
    if user_id is not None:
        versions = user_versions.versions(user_id)
        if versions is not None:
            g.reader_versions = (token, user_id, versions)


def remember_reader(user, nav: str, locale: str) -> None:
    """Store her header (rendered with a CSRF hole) for the next requests of this session."""
    seconds = _seconds()
    token = _session_token()
    if seconds <= 0 or token is None or token != user.get_id():
        return
    prepared = g.pop("reader_versions", None)
    try:
        if prepared is None:
            # First request of this session here: learn who the token is; the header is
            # stored next time, under versions read before her rows are.
            cache.set(_token_key(token), user.id, timeout=TOKEN_SECONDS)
            return
        _token, user_id, versions = prepared
        if _token != token or user_id != user.id:
            return
        reader = Reader(user_id=user.id, nav=nav, is_staff=user.is_staff,
                        artisan_id=user.artisan.id if user.artisan is not None else None,
                        bought=_bought(user.id))
        cache.set(_reader_key(token, user.id, versions, locale), reader, timeout=seconds)
    except Exception as exc:  # noqa: BLE001  the next request renders it again
        log.warning("reader cache write failed: %s", exc)


def _bought(user_id: int) -> frozenset[int]:
    from market.models import Order, OrderLine

    rows = db.session.scalars(select(OrderLine.product_id).join(Order, OrderLine.order_id == Order.id)
                              .where(Order.buyer_id == user_id, OrderLine.product_id.is_not(None)).distinct())
    return frozenset(rows)


def csrf_token() -> str:
    """This session's signed CSRF token, signed at most once a minute per process (the same
    token Flask-WTF would give; it validates against the raw token in her session)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    known = g.get(field)
    if known:
        return known
    raw = session.get(field)
    if not raw:
        return generate_csrf()
    token = signed_csrf(raw)
    setattr(g, field, token)  # what generate_csrf would return later in this request
    return token


def signed_csrf(raw: str) -> str:
    """The signed token for the raw one in a session (Flask-WTF's signing, as generate_csrf
    does it), kept by this process for CSRF_REUSE_SECONDS; needs only an app context (the
    product lane signs outside a request)."""
    local, key = local_cache(), cache_key("csrf", raw, current_app.secret_key)
    token = local.get(key)
    if token is None:
        cfg = current_app.config
        secret = cfg.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        token = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)
        local.set(key, token, CSRF_REUSE_SECONDS)
    return token
