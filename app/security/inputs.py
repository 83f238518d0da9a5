"""Hostile input at the door: ids in URLs are bounded, text with control characters is refused.

``<int:...>`` in every route of the app (ours and Flask-AppBuilder's) matches only a positive id
within the database's integer range, so ``/tasks/99999999999999999999`` is a plain 404. Before
any view runs, a request whose query string, form fields, uploaded file names or JSON strings hold
a control character (NUL, the other C0 characters except tab and newlines, DEL) is refused with
a Polish 400 page, the same on SQLite and PostgreSQL, and nothing is written; so is a query-string
value over MAX_QUERY_VALUE characters.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.services.inputs import CONTROL_CHARS_MESSAGE, MAX_ID, has_control_chars


class IdConverter(IntegerConverter):
    """``<int:...>``: ASCII digits naming 1..MAX_ID; anything larger or smaller matches no route (404)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


#: the longest value a query-string parameter may have (searches are cut to 100 characters anyway)
MAX_QUERY_VALUE = 1000
QUERY_TOO_LONG_MESSAGE = _l("The address of the page is too long. Shorten the search text and try again.")


class InputRefused(BadRequest):
    """A request carried input refused at the door; shown as a Polish 400 page with ``message``."""

    def __init__(self, message: Any) -> None:
        super().__init__()
        self.message = message


def install_id_converter(app: Flask) -> None:
    """Make ``<int:...>`` bounded; call before any route is added."""
    app.url_map.converters["int"] = IdConverter


def _json_strings(value: Any, depth: int = 0) -> Any:
    if depth > 50:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _json_strings(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v, depth + 1)


def request_has_control_chars() -> bool:
    """Whether the current request's text input (query, form, file names, JSON) holds control characters."""
    sources = [request.args]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        sources.append(request.form)
        for key, storage in request.files.items(multi=True):
            if has_control_chars(key) or has_control_chars(storage.filename or ""):
                return True
    for multi in sources:
        for key, value in multi.items(multi=True):
            if has_control_chars(key) or has_control_chars(value):
                return True
    if request.is_json:
        return any(has_control_chars(s) for s in _json_strings(request.get_json(silent=True)))
    return False


def install_input_guard(app: Flask) -> None:
    """Refuse, before any view runs, a request whose text input holds control characters."""

    def _refuse_hostile_input() -> None:
        if request_has_control_chars():
            raise InputRefused(CONTROL_CHARS_MESSAGE)
        if any(len(value) > MAX_QUERY_VALUE for value in request.args.values()):
            raise InputRefused(QUERY_TOO_LONG_MESSAGE)

    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_hostile_input)
