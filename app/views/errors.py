"""Polish error pages; a CSRF failure or bad input never ends in a 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, flash, redirect, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import appbuilder, db
from app.security.tenancy import TenantViolation

log = logging.getLogger(__name__)


def _page(code: int, title: str, text: str) -> Any:
    return (
        render_template(
            "crm/error.html", code=code, title=title, text=text,
            appbuilder=appbuilder, base_template=appbuilder.base_template,
        ),
        code,
    )


def register_error_handlers(app: Flask) -> None:
    """Install handlers for CSRF, 403, 404, 405, 413 and unexpected errors."""

    @app.errorhandler(CSRFError)
    def _csrf(_err: CSRFError) -> Any:
        flash(gettext("The form has expired or was sent from elsewhere. Please try again."), "danger")
        return redirect(request.referrer or request.path if request.method == "GET" else request.url)

    @app.errorhandler(404)
    def _404(_err: Exception) -> Any:
        return _page(404, gettext("Page not found"), gettext("The page does not exist or you have no access to it."))

    @app.errorhandler(403)
    def _403(_err: Exception) -> Any:
        return _page(403, gettext("Access denied"), gettext("You have no access to this page."))

    @app.errorhandler(405)
    def _405(_err: Exception) -> Any:
        return _page(405, gettext("Action not allowed"), gettext("This action is not available this way."))

    @app.errorhandler(413)
    def _413(_err: Exception) -> Any:
        return _page(413, gettext("File too large"), gettext("The file you sent is too large."))

    @app.errorhandler(TenantViolation)
    def _tenant_violation(err: TenantViolation) -> Any:
        """A request that reached another company's data: 404 for reads, 403 for writes."""
        db.session.rollback()
        log.warning("Tenancy violation refused: %s %s: %s", request.method, request.path, err)
        if request.path.startswith("/api/"):
            if request.method in ("GET", "HEAD", "OPTIONS"):
                return {"message": gettext("Not found.")}, 404
            return {"message": gettext("You have no access to this page.")}, 403
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return _404(err)
        return _403(err)

    @app.errorhandler(Exception)
    def _500(err: Exception) -> Any:
        if isinstance(err, HTTPException):
            return err
        log.exception("Unhandled error")
        db.session.rollback()
        return _page(500, gettext("Something went wrong"), gettext("The error has been logged. Please try again."))
