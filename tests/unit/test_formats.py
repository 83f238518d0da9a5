"""Display helpers: Warsaw time across the summer-time changes, Polish dates, sizes and phones."""

from __future__ import annotations

import datetime as dt

import pytest
from jinja2 import Environment

from app.services import clock
from app.services.formats import file_size, local_date, local_datetime, phone
from app.views.formats import FILTERS


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        (dt.datetime(2026, 3, 29, 0, 30), "29.03.2026 01:30"),  # last hour of winter time (UTC+1)
        (dt.datetime(2026, 3, 29, 1, 30), "29.03.2026 03:30"),  # 02:00-03:00 does not exist: summer time
        (dt.datetime(2026, 10, 25, 0, 30), "25.10.2026 02:30"),  # summer time (UTC+2)
        (dt.datetime(2026, 10, 25, 1, 30), "25.10.2026 02:30"),  # back to winter: 02:30 again
        (dt.datetime(2026, 11, 30, 13, 5), "30.11.2026 14:05"),
        (dt.datetime(2026, 7, 1, 22, 15), "02.07.2026 00:15"),  # the next day in Warsaw
    ],
)
def test_utc_moment_shown_in_warsaw_time(utc: dt.datetime, shown: str) -> None:
    """A stored naive-UTC moment is shown as Warsaw wall-clock time, summer time included."""
    assert local_datetime(utc) == shown


def test_aware_moment_is_converted_first() -> None:
    """An aware moment in another zone is shown as the same instant in Warsaw."""
    moment = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    assert local_datetime(moment) == "01.06.2026 14:00"


def test_dates() -> None:
    """A calendar date stays as it is; a UTC moment gives its Warsaw date; nothing is a dash."""
    assert local_date(dt.date(2026, 3, 1)) == "01.03.2026"
    assert local_date(dt.datetime(2026, 12, 31, 23, 30)) == "01.01.2027"
    assert local_date(None) == "—"
    assert local_datetime(None) == "—"


def test_typed_warsaw_time_round_trips_through_utc() -> None:
    """What a user types (Warsaw time) is stored as the right UTC moment and shown back unchanged."""
    assert clock.local_to_utc(dt.datetime(2026, 3, 29, 3, 30)) == dt.datetime(2026, 3, 29, 1, 30)
    assert clock.local_to_utc(dt.datetime(2026, 1, 15, 9, 0)) == dt.datetime(2026, 1, 15, 8, 0)
    assert clock.local_to_utc(dt.datetime(2026, 7, 15, 9, 0)) == dt.datetime(2026, 7, 15, 7, 0)
    assert local_datetime(clock.local_to_utc(dt.datetime(2026, 7, 15, 9, 0))) == "15.07.2026 09:00"


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1536, "1,5 KB"),
        (10 * 1024 * 1024, "10,0 MB"),
        (int(1.25 * 1024 ** 3), "1,2 GB"),
        (None, "—"),
    ],
)
def test_file_sizes_in_polish(size: int | None, shown: str) -> None:
    """Sizes use a decimal comma and one decimal place above a kilobyte."""
    assert file_size(size) == shown


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+48600123456", "+48 600 123 456"),
        ("+48221234567", "+48 22 123 45 67"),
        ("+48124567890", "+48 12 456 78 90"),
        ("600123456", "+48 600 123 456"),
        ("0048 22 123 45 67", "+48 22 123 45 67"),
        ("+49301234567", "+49301234567"),  # not Polish: as stored
        ("call the office", "call the office"),
        ("", "—"),
        (None, "—"),
    ],
)
def test_phone_numbers(stored: str | None, shown: str) -> None:
    """Polish mobiles are grouped 3-3-3, Warsaw and other landlines 2-3-2-2; anything else as stored."""
    assert phone(stored) == shown


def test_filters_in_a_template() -> None:
    """The Jinja filters give the same text as the helpers."""
    env = Environment(autoescape=True)
    env.filters.update(FILTERS)
    out = env.from_string("{{ t | crm_datetime }}|{{ d | crm_date }}|{{ s | crm_size }}|{{ p | crm_phone }}").render(
        t=dt.datetime(2026, 10, 25, 1, 30), d=dt.date(2026, 10, 25), s=1536, p="+48221234567")
    assert out == "25.10.2026 02:30|25.10.2026|1,5 KB|+48 22 123 45 67"
