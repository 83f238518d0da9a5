"""How values are shown to people, the Polish way: moments in Warsaw time, dates, file sizes, phones.

Moments are stored as naive UTC; every screen, e-mail and PDF shows them through these helpers so
that one page never disagrees with another by an hour. Phone numbers are stored as they were
cleaned (``+48600123456``) and only grouped here, on display.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from babel.numbers import format_decimal

from app.services.clock import utc_to_local

EMPTY = "—"

#: two-digit area codes of Polish landlines (the rest of the 9-digit numbers are mobile or non-geographic)
LANDLINE_AREAS = frozenset({
    "12", "13", "14", "15", "16", "17", "18", "22", "23", "24", "25", "29", "32", "33", "34", "41", "42",
    "43", "44", "46", "48", "52", "54", "55", "56", "58", "59", "61", "62", "63", "65", "67", "68", "71",
    "74", "75", "76", "77", "81", "82", "83", "84", "85", "86", "87", "89", "91", "94", "95",
})


def _as_utc_naive(value: dt.datetime) -> dt.datetime:
    """A moment as naive UTC (an aware value is converted, a naive one is already UTC)."""
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def local_datetime(value: Optional[dt.datetime]) -> str:
    """A stored UTC moment as Warsaw wall-clock time, e.g. ``30.11.2026 14:05``; "—" for nothing."""
    if value is None or value == "":
        return EMPTY
    return utc_to_local(_as_utc_naive(value)).strftime("%d.%m.%Y %H:%M")


def local_date(value: Optional[dt.date]) -> str:
    """A date as ``30.11.2026``; a UTC moment gives its Warsaw date; "—" for nothing."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dt.datetime):
        value = utc_to_local(_as_utc_naive(value)).date()
    return value.strftime("%d.%m.%Y")


def file_size(size: Optional[int]) -> str:
    """A byte count the Polish way: ``512 B``, ``1,5 KB``, ``10,0 MB``, ``1,2 GB``; "—" for nothing."""
    if size is None:
        return EMPTY
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(size)} B"
    return f"{format_decimal(value, format='#,##0.0', locale='pl')} {unit}"


def _polish_national(raw: str) -> Optional[str]:
    """The 9 national digits of a Polish number written in any usual way, or None when it is not one."""
    digits = re.sub(r"[\s\-().]", "", raw)
    if digits.startswith("+48"):
        digits = digits[3:]
    elif digits.startswith("0048"):
        digits = digits[4:]
    elif digits.startswith("48") and len(digits) == 11:
        digits = digits[2:]
    return digits if len(digits) == 9 and digits.isdigit() else None


def phone(value: Optional[str]) -> str:
    """A phone number for reading: ``+48 600 123 456`` (mobile), ``+48 22 123 45 67`` (landline).

    Numbers that are not Polish, or not numbers at all, are shown as they were stored.
    """
    raw = (value or "").strip()
    if not raw:
        return EMPTY
    national = _polish_national(raw)
    if national is None:
        return raw
    if national[:2] in LANDLINE_AREAS:
        return f"+48 {national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"
    return f"+48 {national[:3]} {national[3:6]} {national[6:]}"
