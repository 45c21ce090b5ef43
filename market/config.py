"""Configuration: read from the environment when the app is created (never at import), with
safe development defaults, validated, and refused in production while any default secret is
left in place.

`load_config(environ, overrides)` is what `create_app` calls: defaults, then the environment,
then whatever the caller passes (a mapping, or a class such as `TestConfig`).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-secret-key"
DEV_STRIPE_SECRET_KEY = "sk_test_localstripe"
DEV_STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev_localstripe"
DEV_STRIPE_API_BASE = "http://127.0.0.1:8420"


class ConfigError(ValueError):
    """A setting that is malformed, or unsafe for the environment the app starts in."""


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual libpq form."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(value: str) -> bool:
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("", "0", "false", "no", "off"):
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


# name -> (type, default). Every one of these is read from the variable of the same name.
SIMPLE_SETTINGS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "SECRET_KEY": (str, DEV_SECRET_KEY),
    "MAX_IMAGE_BYTES": (int, 5 * 1024 * 1024),
    "MAX_CONTENT_LENGTH": (int, 16 * 1024 * 1024),
    # Uploads (market.images): pixels read from the header before decoding, images per product
    # and per request, and images an account may upload (Flask-Limiter syntax, counted per image).
    "IMAGE_MAX_PIXELS": (int, 16_000_000),
    "MAX_IMAGES_PER_PRODUCT": (int, 8),
    "MAX_IMAGES_PER_REQUEST": (int, 8),
    "UPLOAD_RATE_LIMIT": (str, "60 per hour"),
    # Proxies in front of the app whose X-Forwarded-For / -Proto are trusted (werkzeug ProxyFix).
    # 0: none, the headers are ignored. 1: one balancer. Never more hops than there really are.
    "PROXY_FIX_X_FOR": (int, 0),
    "PROXY_FIX_X_PROTO": (int, 0),
    # Strict-Transport-Security max-age, sent only when MARKET_ENV=production (0: not sent).
    "HSTS_SECONDS": (int, 31_536_000),
    "LOGIN_RATE_LIMIT": (str, "10 per minute"),
    # Accounts (market.accounts): each limit is counted per client address and, separately, per
    # email address typed into the form (or per account, for resending the verification mail).
    "REGISTER_RATE_LIMIT": (str, "10 per hour"),
    "REGISTER_EMAIL_RATE_LIMIT": (str, "3 per hour"),
    "PASSWORD_RESET_RATE_LIMIT": (str, "10 per hour"),
    "PASSWORD_RESET_EMAIL_RATE_LIMIT": (str, "3 per hour"),
    "VERIFY_RESEND_RATE_LIMIT": (str, "3 per hour"),
    "PASSWORD_RESET_MAX_AGE": (int, 3600),  # seconds a reset link stays valid (it works once)
    "EMAIL_VERIFY_MAX_AGE": (int, 7 * 86400),  # seconds a verification link stays valid
    # Roles staff may give and take away on /staff/users (comma separated, from
    # market.models.accounts.ROLES). "staff" is left out by default: new staff come from
    # `flask create-staff`. Staff never remove their own staff role, whatever this says.
    "STAFF_GRANTABLE_ROLES": (str, "buyer,artisan,entrepreneur,mentor,committee,supervisor,finance"),
    "STRIPE_API_BASE": (str, DEV_STRIPE_API_BASE),
    "STRIPE_SECRET_KEY": (str, DEV_STRIPE_SECRET_KEY),
    "STRIPE_PUBLISHABLE_KEY": (str, DEV_STRIPE_PUBLISHABLE_KEY),
    "STRIPE_WEBHOOK_SECRET": (str, DEV_STRIPE_WEBHOOK_SECRET),
    "STRIPE_JS_URL": (str, ""),  # empty: derived from STRIPE_API_BASE
    "STRIPE_WEBHOOK_TOLERANCE": (int, 300),  # seconds
    # One total budget per payments-API call (every attempt, timeout and pause between
    # retries), and per payment (all the calls of one pay request): well below gunicorn's
    # worker timeout (GUNICORN_TIMEOUT, 30 s).
    "STRIPE_CALL_BUDGET": (float, 8.0),  # seconds
    # gunicorn.conf.py reads it too; here only to check the budget stays well below it.
    "GUNICORN_TIMEOUT": (int, 30),
    "STRIPE_TIMEOUT": (float, 5.0),  # read timeout of one attempt, seconds (capped by the budget)
    "STRIPE_CONNECT_TIMEOUT": (float, 2.0),
    "STRIPE_MAX_RETRIES": (int, 2),
    "STRIPE_RETRY_BACKOFF": (float, 0.25),  # seconds, doubled per retry
    # Unpaid orders hold their stock this long; then the reconcile job (`flask reconcile-payments`,
    # every minute under `flask scheduler`) cancels the PaymentIntent and releases the stock.
    "RESERVATION_TTL_MINUTES": (int, 30),
    # The reconcile job asks the API about a pending payment at most this often.
    "RECONCILE_MIN_AGE_SECONDS": (int, 60),
    # Hoarding limits (0: off): unpaid orders per buyer, units of one product per buyer in
    # unpaid orders, and checkouts per buyer (Flask-Limiter syntax).
    "MAX_UNPAID_ORDERS_PER_BUYER": (int, 3),
    "MAX_UNPAID_UNITS_PER_PRODUCT": (int, 10),
    "CHECKOUT_RATE_LIMIT": (str, "20 per hour"),
    # Guest checkout (market.orders.guests): how long the signed link to a guest's order works
    # (seconds; a new one can be asked for by mail), and how often one may be asked for per
    # client address. Saved addresses a signed-in buyer may keep.
    "GUEST_ORDER_LINK_MAX_AGE": (int, 30 * 86400),
    "GUEST_LINK_RESEND_RATE_LIMIT": (str, "5 per hour"),
    "MAX_SAVED_ADDRESSES": (int, 20),
    # Every time shown on a page or in a mail is in this zone (stored times are UTC).
    "TIMEZONE": (str, "Asia/Shanghai"),
    # Mutual aid: a case with no follow-up for this many days is flagged to staff; the matcher
    # learns its weights from outcomes once it has this many answered introductions.
    "CASE_OVERDUE_DAYS": (int, 14),
    # Early warning (market.insights): a dismissed shop stays out of the staff queue this many
    # days unless the same signal comes back this many times as strong; the scanner's threshold
    # (nats); the fewest cases for an outcome estimate.
    "INSIGHTS_DISMISS_DAYS": (int, 90),
    "INSIGHTS_WORSE_FACTOR": (float, 1.5),
    "INSIGHTS_THRESHOLD": (float, 9.0),
    "INSIGHTS_MIN_CASES": (int, 8),
    "MATCHER_MIN_OUTCOMES": (int, 40),
    # An ask a mentor has not answered in this many hours expires and the case moves on.
    "MENTORING_ASK_HOURS": (int, 72),
    # An ask unanswered this many hours is "stuck": the global assignment offers to withdraw it
    # and ask someone else (market.mentoring.services.assignment).
    "MENTORING_STUCK_ASK_HOURS": (int, 48),
    # The front line (market.outreach): how many women each cadre keeps in touch with.
    "OUTREACH_LIST_SIZE": (int, 10),
    # Escalation of overdue cases: after this many days overdue the staff of the case's area
    # are told, after this many more a supervisor (0 turns a step off).
    "ESCALATE_STAFF_AFTER_DAYS": (int, 0),
    "ESCALATE_SUPERVISOR_AFTER_DAYS": (int, 7),
    # Refund and return requests (market.returns): "changed my mind" is open this many days after
    # delivery (China's seven-day rule) and never for these categories (comma separated, from
    # market.vocab.CATEGORIES); every other reason until REFUND_REQUEST_DAYS after delivery. The
    # artisan answers within RETURN_RESPONSE_DAYS, or the request goes to staff.
    "RETURN_WINDOW_DAYS": (int, 7),
    "RETURN_EXCLUDED_CATEGORIES": (str, "seafood,produce,snacks"),
    "REFUND_REQUEST_DAYS": (int, 30),
    "RETURN_RESPONSE_DAYS": (int, 3),
    "REFUND_REQUEST_MAX_PHOTOS": (int, 3),
    # Storefront (market.reviews): buyers are asked to review a parcel this many days after
    # delivery; the product page promises shipping within SHIP_DAYS (per category in
    # market.catalog.services.SHIPPING_DAYS otherwise).
    "REVIEW_ASK_DAYS": (int, 5),
    # The artisan ledger (market.ledger): a parcel's money is due this many days after delivery
    # (the return window); payout batches pay due balances of at least PAYOUT_MINIMUM_FEN.
    "PAYOUT_HOLD_DAYS": (int, 7),
    "PAYOUT_MINIMUM_FEN": (int, 100),
    # Fernet key (urlsafe base64 of 32 bytes) encrypting payout details; empty: derived from
    # SECRET_KEY. Changing it makes stored details unreadable (artisans enter them again).
    "PAYOUT_DETAILS_KEY": (str, ""),
        "MAIL_SERVER": (str, ""),  # empty: mail is logged to the console (and /dev/notices in development)
    "MAIL_PORT": (int, 25),
    "MAIL_USERNAME": (str, ""),
    "MAIL_PASSWORD": (str, ""),
    "MAIL_USE_TLS": (_flag, False),
    "MAIL_DEFAULT_SENDER": (str, "noreply@sisters-market.local"),
    # Notifications (market.notifications): the site's address for links in mails and SMS (empty:
    # the address of the request, or a bare path from background jobs); seconds before each retry
    # of a failed mail or SMS (then it is marked failed and staff are told).
    "PUBLIC_URL": (str, ""),
    "NOTIFY_RETRY_SECONDS": (str, "60,300,1800"),
    # SMS: "console" (logged, development) or "http" (an operator's gateway, see README).
    # No SMS between these hours, Beijing time ("22-8"; empty: any hour); held SMS go at the end.
    "SMS_BACKEND": (str, "console"),
    "SMS_HTTP_URL": (str, ""),
    "SMS_HTTP_BODY": (str, '{"to": "{phone}", "text": "{text}"}'),
    "SMS_HTTP_CONTENT_TYPE": (str, "application/json"),
    "SMS_HTTP_TOKEN": (str, ""),
    "SMS_HTTP_USERNAME": (str, ""),
    "SMS_HTTP_PASSWORD": (str, ""),
    "SMS_HTTP_TIMEOUT": (float, 5.0),
    "SMS_QUIET_HOURS": (str, "22-8"),
    # Redis is shared by every app server: background jobs, caches, rate-limit counters.
    # Empty: jobs run inline in the request and caches live in each process (development).
    "REDIS_URL": (str, ""),
    "REDIS_KEY_PREFIX": (str, "sm:"),
    "JOBS_QUEUE": (str, "market"),
    # Catalogue pages cache their ordered product ids and total for this long (0: off);
    # the products themselves (price, stock, visibility) are always read fresh.
    "CATALOG_CACHE_SECONDS": (int, 60),
    # Product cards' HTML is shared by everyone for this long (0: off), keyed by the product's
    # id, update time and stock state (market/catalog/cards.py).
    "CARD_CACHE_SECONDS": (int, 300),
    "CARD_LOCAL_ITEMS": (int, 20000),  # product cards each process keeps (market/catalog/cards.py)
    # Each process keeps what it read from the shared cache for at most this long (0: off).
    "LOCAL_CACHE_SECONDS": (float, 5.0),
    "LOCAL_CACHE_ITEMS": (int, 5000),
    # Listings count their matches exactly up to this many past the page shown; above it
    # they say "1,000+" (the count costs the same whatever the number of matches).
    "COUNT_EXACT_MAX": (int, 1000),
    # Searches are counted for "popular searches" in each process and written every this
    # many seconds (0: at once, one upsert per search).
    "SEARCH_COUNT_FLUSH_SECONDS": (float, 10.0),
    # Pages for visitors without a session are shared for this long (0: off); market.serving.
    "PAGE_CACHE_SECONDS": (int, 30),
    # A signed-in reader's rendered header (name, cart, unread count, menu) is kept per session
    # for at most this long (0: off); every change to what it shows makes a new key at once
    # (market.user_versions), this is only the safety net should a change's bump be lost.
    "READER_CACHE_SECONDS": (int, 120),
    # Search (market/catalog/searching.py): synonyms and typo correction (0: the literal
    # words only); how often a process checks whether its search vocabulary is stale;
    # how long each process keeps the staff's synonym groups and popular searches; over how
    # many matches at most facets are counted (more: the counts are lower bounds, "600+").
    "SEARCH_EXPANSION": (_flag, True),
    "SEARCH_VOCAB_SECONDS": (int, 300),
    "SYNONYMS_CACHE_SECONDS": (int, 60),
    "POPULAR_CACHE_SECONDS": (int, 300),
    "FACET_EXACT_MAX": (int, 2000),
    # Listings from each process's in-process index (market/catalog/indexed.py; 0: the SQL
    # path): how often it asks the database for products changed since its stamp (0: every
    # listing request); how far back each ask reaches, for transactions that committed after
    # a later one (PostgreSQL's now() is the transaction's start); a full rebuild every this
    # many seconds (0: only when the changes pile up) catches anything older than that.
    "LISTING_INDEX": (_flag, True),
    "LISTING_INDEX_FRESH_SECONDS": (float, 0.0),
    "LISTING_INDEX_LAG_SECONDS": (float, 5.0),
    "LISTING_INDEX_REBUILD_SECONDS": (float, 900.0),
    # GET /api/search/suggest answered from remembered answers before Flask (market/catalog/suggest_lane.py).
    "SUGGEST_LANE": (_flag, True),
    # GET /products/<id> for a signed-in reader with a cached header, from the stored body
    # before Flask (market/catalog/product_lane.py).
    "PRODUCT_LANE": (_flag, True),
    # Users' versions kept per process and kept current by Redis (CLIENT TRACKING; market/tracked_versions.py).
    "VERSIONS_TRACKING": (_flag, True),
    "LOG_FORMAT": (str, "text"),  # "json" under gunicorn (gunicorn.conf.py)
    # JSON access lines (market/observability.py): the share of ordinary requests logged
    # (errors and requests slower than ACCESS_LOG_SLOW_MS always are, and at once).
    "ACCESS_LOG_SAMPLE": (float, 1.0),
    "ACCESS_LOG_SLOW_MS": (float, 1000.0),
    "LOG_LEVEL": (str, "INFO"),
    # /metrics answers loopback clients that came through no proxy, or a bearer token.
    "METRICS_TOKEN": (str, ""),
    # A bare route for the benchmarks' baseline (off unless asked for).
    "BENCH_HELLO_ROUTE": (_flag, False),
}


class TestConfig:
    """What the test suite changes on top of the defaults and the environment."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "1000 per minute"
    REGISTER_RATE_LIMIT = "1000 per minute"
    REGISTER_EMAIL_RATE_LIMIT = "1000 per minute"
    PASSWORD_RESET_RATE_LIMIT = "1000 per minute"
    PASSWORD_RESET_EMAIL_RATE_LIMIT = "1000 per minute"
    VERIFY_RESEND_RATE_LIMIT = "1000 per minute"
    CHECKOUT_RATE_LIMIT = "1000 per minute"  # tests that check the limit set their own
    GUEST_LINK_RESEND_RATE_LIMIT = "1000 per minute"
    SERVER_NAME = None
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast for tests only; production uses scrypt
    REDIS_URL = ""  # jobs run inline; tests that need Redis say so
    RATELIMIT_STORAGE_URI = "memory://"
    CACHE_TYPE = "NullCache"
    CACHE_NO_NULL_WARNING = True
    PAGE_CACHE_SECONDS = 0
    CATALOG_CACHE_SECONDS = 0
    CARD_CACHE_SECONDS = 0
    LOCAL_CACHE_SECONDS = 0
    SEARCH_COUNT_FLUSH_SECONDS = 0
    SEARCH_VOCAB_SECONDS = 0  # rebuilt on every use, so a product made in a test is known at once
    SYNONYMS_CACHE_SECONDS = 0
    LOG_FORMAT = "text"
    BENCH_HELLO_ROUTE = False
    SMS_QUIET_HOURS = ""  # tests of quiet hours set their own (the suite runs at any hour)
    ENV_NAME = "test"


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every setting, from `environ` or its default. Malformed values raise ConfigError naming
    the variable."""
    config: dict[str, Any] = {}
    for name, (kind, default) in SIMPLE_SETTINGS.items():
        raw = environ.get(name)
        if raw is None or (raw == "" and kind is not str):
            config[name] = default
            continue
        try:
            config[name] = kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from None

    if config["SMS_BACKEND"] not in ("console", "http"):
        raise ConfigError(f"SMS_BACKEND={config['SMS_BACKEND']!r} is not valid: use console or http")
    if config["SMS_BACKEND"] == "http" and not config["SMS_HTTP_URL"].startswith(("http://", "https://")):
        raise ConfigError("SMS_BACKEND=http needs SMS_HTTP_URL (the gateway's http(s) address)")
    if not all(x.strip().isdigit() for x in config["NOTIFY_RETRY_SECONDS"].split(",")):
        raise ConfigError(f"NOTIFY_RETRY_SECONDS={config['NOTIFY_RETRY_SECONDS']!r} is not valid: "
                          "seconds separated by commas")
    quiet = config["SMS_QUIET_HOURS"]
    if quiet and not (len(quiet.split("-")) == 2 and all(x.isdigit() and int(x) < 24 for x in quiet.split("-"))):
        raise ConfigError(f"SMS_QUIET_HOURS={quiet!r} is not valid: like 22-8 (hours, Beijing time)")

    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(config["TIMEZONE"])
    except (ValueError, KeyError, OSError):
        raise ConfigError(f"TIMEZONE={config['TIMEZONE']!r} is not valid: use a zone name like Asia/Shanghai") from None

    env_name = environ.get("MARKET_ENV", "development") or "development"
    if env_name not in ("development", "production", "test"):
        raise ConfigError(f"MARKET_ENV={env_name!r} is not valid: use development or production")
    data_dir = Path(environ.get("DATA_DIR") or PROJECT_ROOT / "var")
    redis_url = config["REDIS_URL"]
    config.update(
        ENV_NAME=env_name,
        DATA_DIR=data_dir,
        SQLALCHEMY_DATABASE_URI=normalise_database_url(
            environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'market.db'}"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        UPLOAD_FOLDER=Path(environ.get("UPLOAD_FOLDER") or data_dir / "uploads"),
        THUMBNAIL_SIZE=(400, 400),
        IMAGE_MAX_SIDE=1600,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE=config["TIMEZONE"],  # Flask-Babel's datetimeformat agrees with |localtime
        LANGUAGES=("zh", "en"),
        PRODUCTS_PER_PAGE=24,
        # Counters must be shared by all app servers, so Redis when there is one.
        RATELIMIT_STORAGE_URI=environ.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis down: count in each process instead of refusing logins or letting everyone through.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_KEY_PREFIX=environ.get("RATELIMIT_KEY_PREFIX") or config["REDIS_KEY_PREFIX"].rstrip(":"),
        CACHE_TYPE=environ.get("CACHE_TYPE") or ("RedisCache" if redis_url else "SimpleCache"),
        CACHE_REDIS_URL=environ.get("CACHE_REDIS_URL") or redis_url,
        CACHE_KEY_PREFIX=environ.get("CACHE_KEY_PREFIX") or config["REDIS_KEY_PREFIX"] + "cache:",
        CACHE_DEFAULT_TIMEOUT=60,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if env_name == "production":
        config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    return config


# Settings that must not keep their public development value in production.
PRODUCTION_SECRETS = {
    "SECRET_KEY": DEV_SECRET_KEY,
    "STRIPE_SECRET_KEY": DEV_STRIPE_SECRET_KEY,
    "STRIPE_PUBLISHABLE_KEY": DEV_STRIPE_PUBLISHABLE_KEY,
    "STRIPE_WEBHOOK_SECRET": DEV_STRIPE_WEBHOOK_SECRET,
    "STRIPE_API_BASE": DEV_STRIPE_API_BASE,
}


NON_NEGATIVE_SETTINGS = ("IMAGE_MAX_PIXELS", "MAX_IMAGES_PER_PRODUCT", "MAX_IMAGES_PER_REQUEST", "PROXY_FIX_X_FOR",
                         "PROXY_FIX_X_PROTO", "HSTS_SECONDS")


def grantable_roles(value: str) -> tuple[str, ...]:
    """STAFF_GRANTABLE_ROLES as a tuple; ConfigError for a name that is not a role."""
    from market.models.accounts import ROLES

    names = tuple(dict.fromkeys(r.strip() for r in (value or "").split(",") if r.strip()))
    unknown = [r for r in names if r not in ROLES]
    if unknown:
        raise ConfigError(f"STAFF_GRANTABLE_ROLES={value!r} is not valid: {', '.join(unknown)} is not a role "
                          f"(roles: {', '.join(ROLES)})")
    return names


def validate(config: Mapping[str, Any]) -> None:
    """Refuse settings that cannot work, and any development default in production."""
    if "STAFF_GRANTABLE_ROLES" in config:
        grantable_roles(config["STAFF_GRANTABLE_ROLES"])
    for name in NON_NEGATIVE_SETTINGS:
        if name in config and int(config[name]) < 0:
            raise ConfigError(f"{name}={config[name]!r} is not valid: it cannot be negative")
    budget = float(config.get("STRIPE_CALL_BUDGET", 8.0))
    worker_timeout = int(config.get("GUNICORN_TIMEOUT", 30))
    if not 0 < budget <= worker_timeout / 2:
        raise ConfigError(f"STRIPE_CALL_BUDGET={budget!r} is not valid: use more than 0 and at most half of "
                          f"gunicorn's worker timeout (GUNICORN_TIMEOUT={worker_timeout}), so a request that "
                          "waits on a hung payments API still answers")
    if config.get("ENV_NAME") != "production":
        return
    for name, dev_value in PRODUCTION_SECRETS.items():
        if config.get(name) == dev_value:
            raise ConfigError(f"Refusing to start in production with the development default of {name}; set {name}.")
    if len(str(config.get("SECRET_KEY", ""))) < 16:
        raise ConfigError("Refusing to start in production with a SECRET_KEY shorter than 16 characters.")
    if not config.get("MAIL_SERVER"):  # pages promise mails: production must really send them
        raise ConfigError("Refusing to start in production without MAIL_SERVER; set MAIL_SERVER.")


def load_config(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | type | None = None
                ) -> dict[str, Any]:
    config = read_environment(os.environ if environ is None else environ)
    if isinstance(overrides, Mapping):
        config.update(overrides)
    elif overrides is not None:
        config.update({k: getattr(overrides, k) for k in dir(overrides) if k.isupper()})
    validate(config)
    return config
