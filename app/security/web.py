"""HTTP hardening: security headers with a nonce-based CSP, ProxyFix, and the company's mandatory
two-step sign-in enforced on every request.

Error pages (the Polish 429 included) are the views layer's: ``app/views/errors.py``. The 2FA gate
gets its rule (``needs_setup``) from the composition root, so this module imports no service.
"""

from __future__ import annotations

import secrets
from typing import Callable, Optional

from flask import Flask, Response, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.middleware.proxy_fix import ProxyFix

from app.models.mixins import utcnow
from app.models.users import CrmUser

#: endpoints a user who still has to turn on the company's mandatory 2FA may reach
TWO_FACTOR_SETUP_ENDPOINTS = {
    "AccountSecurityView.two_factor",
    "CrmAuthDBView.logout",
    "CrmAuthDBView.login",
    "static",
    "appbuilder.static",
}


def csp_nonce() -> str:
    """The per-request nonce; FAB's templates read it through baselib.get_nonce()."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str) -> str:
    """A CSP that names no outside host: scripts only from here and with this request's nonce."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install_web_security(app: Flask) -> None:
    """Install ProxyFix (when configured), the security headers and the CSP nonce."""
    if app.config.get("SECURITY_REQUIRE_TRUSTED_HOSTS") and not app.config.get("TRUSTED_HOSTS"):
        raise RuntimeError("CRM_TRUSTED_HOSTS must be set (the host names of the site, comma-separated)")
    count = int(app.config.get("PROXY_FIX_COUNT", 0) or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)  # type: ignore[method-assign]

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["crm_now"] = utcnow

    @app.after_request
    def _security_headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if app.config.get("SECURITY_HSTS"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        user = g.get("user")
        if (
            user is not None
            and getattr(user, "is_authenticated", False)
            and not request.path.startswith("/static")
            and "Cache-Control" not in h
        ):
            h["Cache-Control"] = "no-store"
        return response


def install_two_factor_gate(app: Flask, needs_setup: Callable[[CrmUser], bool]) -> None:
    """Send a signed-in person whose company requires 2FA (``needs_setup``) to turn it on first."""

    @app.before_request
    def _mandatory_two_factor() -> Optional[ResponseReturnValue]:
        """A company that requires 2FA lets its people in only after they turn it on."""
        if request.endpoint in TWO_FACTOR_SETUP_ENDPOINTS or request.path.startswith(("/static", "/api/")):
            return None
        user = g.get("user")
        if not getattr(user, "is_authenticated", False):
            return None
        if needs_setup(user):
            flash(gettext("Your company requires two-step sign-in. Turn it on to continue."), "warning")
            return redirect(url_for("AccountSecurityView.two_factor"))
        return None
