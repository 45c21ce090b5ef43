"""Extensions, created unbound here and bound in create_app."""
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
# Shared by all app servers when CACHE_TYPE is RedisCache; see market.caching for how it is used.
cache = Cache()
