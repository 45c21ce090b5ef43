"""Times as readers see them: stored times are naive UTC; every page and mail shows them in
the TIMEZONE setting (Beijing time by default) through `localtime` (the `|localtime` Jinja
filter, registered in market/__init__.py). Dates without a time are shown as they are."""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"
FORMATS = {"datetime": "%Y-%m-%d %H:%M", "date": "%Y-%m-%d", "seconds": "%Y-%m-%d %H:%M:%S", "month": "%Y-%m",
           "time": "%H:%M"}


@lru_cache(maxsize=8)
def zone(name: str | None = None) -> ZoneInfo:
    return ZoneInfo(name or DEFAULT_ZONE)


def _configured_zone() -> ZoneInfo:
    try:
        from flask import current_app

        return zone(current_app.config.get("TIMEZONE") or DEFAULT_ZONE)
    except RuntimeError:  # no app (a script): the default
        return zone(DEFAULT_ZONE)


def to_local(value: datetime, tz: ZoneInfo | None = None) -> datetime:
    """A stored time (naive = UTC, or aware) in the reader's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz or _configured_zone())


def localtime(value: datetime | date | None, fmt: str = "datetime") -> str:
    """`value` formatted in the configured zone; `fmt` is a name in FORMATS or a strftime
    pattern. None gives ""; a date (no time of day) is formatted as it is."""
    if value is None:
        return ""
    pattern = FORMATS.get(fmt, fmt)
    if isinstance(value, datetime):
        return to_local(value).strftime(pattern)
    return value.strftime(FORMATS["date"] if fmt in FORMATS else pattern)


def local_now() -> datetime:
    return datetime.now(UTC).astimezone(_configured_zone())


def month_start_utc(year: int, month: int) -> datetime:
    """The first instant of a local calendar month, as a naive UTC time (to compare with stored times)."""
    while month < 1:
        year, month = year - 1, month + 12
    while month > 12:
        year, month = year + 1, month - 12
    local = datetime(year, month, 1, tzinfo=_configured_zone())
    return local.astimezone(UTC).replace(tzinfo=None)
