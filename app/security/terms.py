"""The owner accepts a new version of the terms or the data-processing agreement at sign-in.

After the platform admin publishes a new version, the owner's first page of each new sign-in is
the acceptance page (``TermsAcceptView``) until they accept; employees are never stopped. Only GET
pages are redirected, so a form being sent is never lost. Once a sign-in's check passed it is not
repeated for that sign-in (kept in the session under its server-side session id).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Flask, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

#: the session key: the server-side session id whose check passed
CHECKED_KEY = "crm_terms_checked"

#: what an owner with documents to accept may still open
FREE_ENDPOINTS = {
    "TermsAcceptView.index",
    "TermsAcceptView.accept",
    "LegalView.show",
    "PricingView.index",
    "CrmAuthDBView.login",
    "CrmAuthDBView.logout",
    "MediaView.avatar",
    "MediaView.logo",
    "AccountSecurityView.two_factor",
    "static",
    "appbuilder.static",
}


def install_terms_gate(app: Flask, pending: Callable[[int], list[Any]]) -> None:
    """Send an owner whose company has ``pending(company_id)`` documents to the acceptance page."""

    @app.before_request
    def _terms_gate() -> Optional[ResponseReturnValue]:
        """At the first page of a sign-in, an owner with new documents to accept accepts them first."""
        if request.method != "GET" or request.endpoint in FREE_ENDPOINTS:
            return None
        if request.path.startswith(("/static/", "/api/")):
            return None
        user = g.get("user")
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_owner", False):
            return None
        company_id = getattr(user, "company_id", None)
        signed_in = g.get("crm_session_id")
        if company_id is None or (signed_in is not None and session.get(CHECKED_KEY) == signed_in):
            return None
        if pending(company_id):
            return redirect(url_for("TermsAcceptView.index", next=request.full_path.rstrip("?")))
        if signed_in is not None:
            session[CHECKED_KEY] = signed_in
        return None
