"""The app's clock: `now()` (naive UTC) and `today()` (the date in Beijing, where the
federation works). Tests control it (`set(app, moment)`, `advance(app, timedelta)`), so
expiry and escalation are tested without sleeping."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask, current_app, has_app_context

BEIJING = timedelta(hours=8)


def now() -> datetime:
    if has_app_context():
        fixed = current_app.extensions.get("clock_now")
        if fixed is not None:
            return fixed
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return (now() + BEIJING).date()


def set(app: Flask, moment: datetime | None) -> None:  # noqa: A001 - clock.set reads well
    app.extensions["clock_now"] = moment


def advance(app: Flask, delta: timedelta) -> datetime:
    app.extensions["clock_now"] = (app.extensions.get("clock_now") or datetime.now(UTC).replace(tzinfo=None)) + delta
    return app.extensions["clock_now"]
