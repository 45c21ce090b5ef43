"""Configuration from environment variables, with safe development defaults."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-secret-key"


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual libpq form."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    DATA_DIR = Path(os.environ.get("DATA_DIR", PROJECT_ROOT / "var"))
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'market.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_FOLDER = Path(os.environ.get("UPLOAD_FOLDER", DATA_DIR / "uploads"))
    MAX_IMAGE_BYTES = int(os.environ.get("MAX_IMAGE_BYTES", 5 * 1024 * 1024))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024))
    THUMBNAIL_SIZE = (400, 400)
    IMAGE_MAX_SIDE = 1600

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")

    # Counters must be shared by all app servers, so Redis when there is one.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in each process instead of refusing logins or letting everyone through.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")

    PRODUCTS_PER_PAGE = 24

    # Payments: the Stripe REST API. The development default is localstripe on loopback.
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_localstripe")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_dev_localstripe")
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "")  # empty: derived from STRIPE_API_BASE
    STRIPE_WEBHOOK_TOLERANCE = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE", 300))  # seconds
    STRIPE_TIMEOUT = float(os.environ.get("STRIPE_TIMEOUT", 10))  # read timeout, seconds
    STRIPE_CONNECT_TIMEOUT = float(os.environ.get("STRIPE_CONNECT_TIMEOUT", 3))
    STRIPE_MAX_RETRIES = int(os.environ.get("STRIPE_MAX_RETRIES", 2))
    STRIPE_RETRY_BACKOFF = float(os.environ.get("STRIPE_RETRY_BACKOFF", 0.25))  # seconds, doubled per retry
    # Unpaid orders hold their stock this long; then `flask expire-reservations` (or the next
    # look at the order or its products) releases it.
    RESERVATION_TTL_MINUTES = int(os.environ.get("RESERVATION_TTL_MINUTES", 30))

    # Mutual aid: a case with no follow-up for this many days is flagged to staff; the matcher
    # learns its weights from outcomes once it has this many answered introductions.
    CASE_OVERDUE_DAYS = int(os.environ.get("CASE_OVERDUE_DAYS", 14))
    MATCHER_MIN_OUTCOMES = int(os.environ.get("MATCHER_MIN_OUTCOMES", 40))

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")  # empty: mail is logged to the console
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") == "1"
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@sisters-market.local")

    # ---- serving on several machines (see README "Deploying on several machines") ----
    # Redis is shared by every app server: background jobs, caches, rate-limit counters.
    # Empty: jobs run inline in the request and caches live in each process (development).
    REDIS_URL = os.environ.get("REDIS_URL", "")
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "sm:")
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "market")
    CACHE_TYPE = os.environ.get("CACHE_TYPE") or ("RedisCache" if REDIS_URL else "SimpleCache")
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", REDIS_URL)
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", REDIS_KEY_PREFIX + "cache:")
    CACHE_DEFAULT_TIMEOUT = 60
    # Catalogue pages cache their ordered product ids and total for this long (0: off);
    # the products themselves (price, stock, visibility) are always read fresh.
    CATALOG_CACHE_SECONDS = int(os.environ.get("CATALOG_CACHE_SECONDS", 60))
    # Pages for visitors without a session are shared for this long (0: off); market.serving.
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", 30))
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", REDIS_KEY_PREFIX.rstrip(":"))

    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # "json" under gunicorn (gunicorn.conf.py)
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # /metrics answers loopback clients that came through no proxy, or a bearer token.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    # A bare route for the benchmarks' baseline (off unless asked for).
    BENCH_HELLO_ROUTE = os.environ.get("BENCH_HELLO_ROUTE", "") == "1"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    ENV_NAME = os.environ.get("MARKET_ENV", "development")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "1000 per minute"
    SERVER_NAME = None
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast for tests only; production uses scrypt
    REDIS_URL = ""  # jobs run inline; tests that need Redis say so
    RATELIMIT_STORAGE_URI = "memory://"
    CACHE_TYPE = "NullCache"
    CACHE_NO_NULL_WARNING = True
    PAGE_CACHE_SECONDS = 0
    CATALOG_CACHE_SECONDS = 0
    LOG_FORMAT = "text"
    BENCH_HELLO_ROUTE = False


def config_for_environment() -> type[Config]:
    return ProductionConfig if os.environ.get("MARKET_ENV") == "production" else Config
