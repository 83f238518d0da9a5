"""Local (Polish) time versus stored UTC: every conversion in one place."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from app.models.mixins import utcnow


def local_tz() -> ZoneInfo:
    """The installation's time zone (BABEL_DEFAULT_TIMEZONE, Europe/Warsaw by default)."""
    name = "Europe/Warsaw"
    if has_app_context():
        name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or name
    return ZoneInfo(name)


def utc_now() -> dt.datetime:
    """The current moment as naive UTC (what services compare stored moments with)."""
    return utcnow()


def local_now() -> dt.datetime:
    """The current local wall-clock time, naive."""
    return utc_to_local(utcnow())


def local_today() -> dt.date:
    """Today's local date."""
    return local_now().date()


def local_to_utc(value: dt.datetime) -> dt.datetime:
    """A naive local wall-clock time as naive UTC (how the database stores moments)."""
    aware = value.replace(tzinfo=local_tz())
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def utc_to_local(value: dt.datetime) -> dt.datetime:
    """A naive UTC moment as naive local wall-clock time (how users read it)."""
    aware = value.replace(tzinfo=dt.UTC)
    return aware.astimezone(local_tz()).replace(tzinfo=None)
