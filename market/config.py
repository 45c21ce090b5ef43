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

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
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


def config_for_environment() -> type[Config]:
    return ProductionConfig if os.environ.get("MARKET_ENV") == "production" else Config
