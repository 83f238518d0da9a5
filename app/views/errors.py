"""Polish error pages; a CSRF failure, bad input or too many attempts never ends in a 500.

Every error page is drawn by ``error_page``. A value the database refuses (an out-of-range
number, an over-long text) is a Polish 400, not a 500; any other unexpected error shows the
Polish error page with a short reference number that is logged with the traceback, so an
operator can find the request a user reports.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Callable

from flask import Flask, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from app.extensions import appbuilder, db
from app.security.api_auth import json_error
from app.security.inputs import InputRefused
from app.security.tenancy import TenantViolation

log = logging.getLogger(__name__)


def error_page(code: int, title: str, text: str, reference: str | None = None) -> tuple[str, int]:
    """The error page in the app's layout; a bare Polish page when the layout cannot be drawn.

    (A request for an untrusted host, for example, has no URL adapter to draw the layout with.)
    """
    try:
        html = render_template(
            "crm/error.html", code=code, title=title, text=text, reference=reference,
            appbuilder=appbuilder, base_template=appbuilder.base_template,
        )
    except Exception:  # noqa: BLE001  (the page itself failed: a plain one still says what happened)
        log.exception("Error page %s could not be drawn", code)
        ref = f"<p>{escape(gettext('Reference number'))}: {escape(reference)}</p>" if reference else ""
        html = f"<!DOCTYPE html><html lang='pl'><body><h3>{escape(title)}</h3><p>{escape(text)}</p>{ref}</body></html>"
    return html, code


def error_reference() -> str:
    """A short reference number for an error, shown to the user and logged with the traceback."""
    return secrets.token_hex(4).upper()


def _rollback() -> None:
    """Undo what the failed request left in the session.

    Views never roll back (services own their transactions); the error handlers are the catch-all
    for a request that ended in an exception outside a unit of work, so they do it here.
    """
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the page must still be shown)
        log.exception("Rollback after an error failed")


def _is_api() -> bool:
    """True for the REST API (/api/...): its errors are JSON with a code and a Polish message."""
    return request.path.startswith("/api/")


def _csrf(_err: CSRFError) -> ResponseReturnValue:
    flash(gettext("The form has expired or was sent from elsewhere. Please try again."), "danger")
    return redirect(request.referrer or request.path if request.method == "GET" else request.url)


def _404(_err: Exception) -> ResponseReturnValue:
    if _is_api():
        return json_error(404, "not_found", gettext("Not found."))
    return error_page(404, gettext("Page not found"), gettext("The page does not exist or you have no access to it."))


def _403(_err: Exception) -> ResponseReturnValue:
    if _is_api():
        return json_error(403, "forbidden", gettext("You have no access to this page."))
    return error_page(403, gettext("Access denied"), gettext("You have no access to this page."))


def _405(_err: Exception) -> ResponseReturnValue:
    if _is_api():
        return json_error(405, "not_allowed", gettext("This action is not available this way."))
    return error_page(405, gettext("Action not allowed"), gettext("This action is not available this way."))


def _refused(err: InputRefused) -> ResponseReturnValue:
    if _is_api():
        return json_error(400, "bad_request", str(err.message))
    return error_page(400, gettext("Invalid data"), str(err.message))


def _400(_err: Exception) -> ResponseReturnValue:
    if _is_api():
        return json_error(400, "bad_request", gettext("The request could not be read. Check the data and try again."))
    return error_page(400, gettext("Invalid data"), gettext("The request could not be read. Check the data and try again."))


def _data_error(err: DataError) -> ResponseReturnValue:
    _rollback()
    log.warning("Value refused by the database on %s %s: %s", request.method, request.path, err.orig)
    if _is_api():
        return json_error(400, "bad_request", gettext("Invalid value. Check the data and try again."))
    return error_page(400, gettext("Invalid data"), gettext("Invalid value. Check the data and try again."))


def _413(_err: Exception) -> ResponseReturnValue:
    if _is_api():
        return json_error(413, "too_large", gettext("The file you sent is too large."))
    return error_page(413, gettext("File too large"), gettext("The file you sent is too large."))


def _429(_err: Exception) -> ResponseReturnValue:
    """Too many attempts (the rate limiter): JSON for the API, the Polish page otherwise."""
    text = gettext("Too many attempts. Wait a minute and try again.")
    if _is_api():
        return json_error(429, "rate_limited", text)
    return error_page(429, gettext("Too many attempts"), text)


def _tenant_violation(err: TenantViolation) -> ResponseReturnValue:
    """A request that reached another company's data: 404 for reads, 403 for writes."""
    _rollback()
    log.warning("Tenancy violation refused: %s %s: %s", request.method, request.path, err)
    if _is_api():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return json_error(404, "not_found", gettext("Not found."))
        return json_error(403, "forbidden", gettext("You have no access to this page."))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return _404(err)
    return _403(err)


def _500(err: Exception) -> ResponseReturnValue:
    if isinstance(err, HTTPException):
        return err
    reference = error_reference()
    log.error("Unhandled error, reference %s, on %s %s", reference, request.method, request.path, exc_info=err)
    _rollback()
    if _is_api():
        return json_error(500, "server_error", gettext("The error has been logged. Please try again."), reference=reference)
    return error_page(
        500, gettext("Something went wrong"), gettext("The error has been logged. Please try again."), reference
    )


_HANDLERS: tuple[tuple[Any, Callable[..., ResponseReturnValue]], ...] = (
    (CSRFError, _csrf),
    (404, _404),
    (403, _403),
    (405, _405),
    (InputRefused, _refused),
    (400, _400),
    (DataError, _data_error),
    (413, _413),
    (429, _429),
    (TenantViolation, _tenant_violation),
    (Exception, _500),
)


def register_error_handlers(app: Flask) -> None:
    """Install handlers for CSRF, 400, 403, 404, 405, 413, 429, refused tenancy and unexpected errors."""
    for key, handler in _HANDLERS:
        app.register_error_handler(key, handler)
