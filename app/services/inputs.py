"""Request data to safe values: database ids and text without control characters.

Every id that comes from a request (a form field, a hidden input, a select, a query parameter,
a list of ticked rows) is read by ``parse_id``/``parse_ids``/``to_id``: a positive integer within
the range of the id columns (4-byte integers on PostgreSQL), written with ASCII digits only.
Text may hold tab and newlines but no other C0 control character (NUL included) nor DEL:
PostgreSQL refuses NUL, and the others have no place in a CRM's text on either database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any, Iterable, Iterator

from flask_babel import lazy_gettext as _l

from app.services import DomainError

#: the largest id the database holds (PostgreSQL INTEGER; SQLite would take up to 2**63 - 1)
MAX_ID = 2**31 - 1
#: the largest number of ids one request may name (ticked rows of a list)
MAX_IDS = 10_000
#: an uploaded table's cell may not be longer than this (characters)
MAX_CELL = 10_000

INVALID_VALUE = _l("Invalid value.")
CONTROL_CHARS_MESSAGE = _l("The text contains control characters (such as NUL) that are not allowed. Remove them and try again.")

_ID = re.compile(r"[0-9]{1,10}")
#: C0 control characters except tab, line feed and carriage return, and DEL
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMPTY = ("", "None", "__None", "0")


def to_id(value: Any) -> int | None:
    """The id a value names, or None when it is not a positive integer within the id range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    text = str(value).strip() if value is not None else ""
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_id(value: Any, field: str | None = None, message: Any = None) -> int | None:
    """An optional id from request data: None when empty, else the id; DomainError ("Invalid value.") otherwise."""
    if value is None or value == 0 or (isinstance(value, str) and value.strip() in _EMPTY):
        return None
    ident = to_id(value)
    if ident is None:
        raise DomainError(message or INVALID_VALUE, field)
    return ident


def parse_ids(values: Iterable[Any] | None, field: str | None = None, message: Any = None) -> list[int]:
    """Distinct ids, sorted, from a list of request values (empty entries skipped); DomainError for a bad one."""
    out: set[int] = set()
    for value in values or []:
        ident = parse_id(value, field, message)
        if ident is not None:
            out.add(ident)
        if len(out) > MAX_IDS:
            raise DomainError(_l("Too many rows chosen at once."), field)
    return sorted(out)


def has_control_chars(text: str | None) -> bool:
    """Whether a text holds a forbidden control character (NUL, other C0 except tab/newlines, DEL)."""
    if not text:
        return False
    return CONTROL_CHARS.search(text) is not None


def strip_control_chars(text: str) -> str:
    """The text without forbidden control characters (for file contents, which nobody typed)."""
    return CONTROL_CHARS.sub("", text)


def check_text(value: str | None, field: str | None = None) -> str | None:
    """The value unchanged, or DomainError with the Polish message when it holds control characters."""
    if isinstance(value, str) and has_control_chars(value):
        raise DomainError(CONTROL_CHARS_MESSAGE, field)
    return value


def csv_reader(text: str, **fmt: Any) -> Iterator[list[str]]:
    """A csv reader over an uploaded file's text (control characters removed) whose cells are bounded.

    A cell longer than MAX_CELL characters makes the reader raise ``csv.Error``, which the
    importers turn into a Polish refusal of the file.
    """
    csv.field_size_limit(MAX_CELL)
    return csv.reader(io.StringIO(strip_control_chars(text), newline=""), **fmt)


def column_index(value: Any) -> int | None:
    """A column number (0, 1, ...) from request data, or None when it is not one."""
    text = str(value if value is not None else "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,5}", text) else None


def parse_date(raw: Any, field: str | None = None) -> dt.date | None:
    """A date as typed (YYYY-MM-DD from <input type=date>, or DD.MM.YYYY), a date as it is, or None
    for nothing; DomainError naming ``field`` when malformed.
    """
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DomainError(_l("Enter a date as DD.MM.YYYY."), field)
