"""Extensions, created unbound here and bound in create_app."""
from functools import partial
from weakref import WeakKeyDictionary

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    """Every limit here is on POST (login, checkout, answers, uploads) and there is no default
    limit, so a GET, HEAD or OPTIONS request skips resolving limits (a tenth of a bare request's
    cost). Setting RATELIMIT_DEFAULT (or a limit on a GET route) needs this filter gone."""
    from flask import current_app, request

    return request.method in ("GET", "HEAD", "OPTIONS") and not current_app.config.get("RATELIMIT_DEFAULT")
def skip_limiter_on_reads(app) -> None:
    """Flask-Limiter's three per-request hooks (before: resolve limits; after: headers;
    teardown: reset its context) skipped outright where `_reads_are_not_limited` holds (no
    limit applies to such a request, decorated or not): the filter alone still ran the
    limiter's context machinery on every GET (issue 15: our hello)."""
    from flask import request

    def reading() -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") and not app.config.get("RATELIMIT_DEFAULT")

    def wrap(hook, skipped):
        def hook_unless_reading(*args):
            return skipped(*args) if reading() else hook(*args)
        hook_unless_reading.__wrapped__ = hook
        return hook_unless_reading

    def owner(hook):  # a bound method of the limiter, or a partial with it first
        if isinstance(hook, partial):
            return hook.args[0] if hook.args else None
        return getattr(hook, "__self__", None)

    for funcs, skipped in ((app.before_request_funcs, lambda: None),
                           (app.after_request_funcs, lambda response: response),
                           (app.teardown_request_funcs, lambda _exc=None: None)):
        hooks = funcs.get(None, [])
        for i, hook in enumerate(hooks):
            if owner(hook) is limiter:
                hooks[i] = wrap(hook, skipped)


def remember_sync_checks(app) -> None:
    """Flask asks `inspect` whether each hook is a coroutine function on every call
    (`ensure_sync`, a dozen times a request); the answer for a function never changes, so it
    is remembered (weakly: functions made per request, as `after_this_request`'s, go)."""
    plain = app.ensure_sync
    known: WeakKeyDictionary = WeakKeyDictionary()

    def ensure_sync(func):
        try:
            if known[func]:
                return func
        except KeyError:
            result = plain(func)
            known[func] = result is func  # no reference back to func: it can still go
            return result
        except TypeError:  # not weakly referable
            pass
        return plain(func)

    app.ensure_sync = ensure_sync


# Shared by all app servers when CACHE_TYPE is RedisCache; see market.caching for how it is used.
cache = Cache()
