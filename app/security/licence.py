"""What a company whose licence has run out may still reach: the ONE allow-list of the licence block.

While a company's licence is over, every request of its people is answered with the blocking page
(``LicenceView``), except what is listed here. Everyone keeps signing in and out, their avatar and
the company logo (the top bar), the two-step sign-in setup and the public pages; the owner also
keeps the profile, the "Płatności" settings tab, the export of the company's data and the support
requests, so they can pay, take their data or ask for help. Nothing is deleted or hidden: once the
licence is paid, everything is back.

Another module that must stay reachable adds itself here: an endpoint name to
``ALLOWED_ENDPOINTS`` / ``OWNER_ENDPOINTS``, or a path prefix to ``OWNER_PATHS`` (the prefix and
everything below it), or at run time with :func:`allow`.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import request
from flask_jwt_extended import get_current_user, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

#: every signed-in person of a blocked company may reach these endpoints
ALLOWED_ENDPOINTS: set[str] = {
    "CrmAuthDBView.login",
    "CrmAuthDBView.logout",
    "LicenceView.index",
    "MediaView.avatar",
    "MediaView.logo",
    "AccountSecurityView.two_factor",  # a company that requires 2FA must let its people set it up
    "PricingView.index",
    "LegalView.show",
    "TermsAcceptView.index",
    "TermsAcceptView.accept",
    "static",
    "appbuilder.static",
}

#: and the owner these endpoints
OWNER_ENDPOINTS: set[str] = set()

#: and the owner every path that starts with one of these (the profile, payments, export, support)
OWNER_PATHS: list[str] = ["/profile/", "/settings/payments/", "/settings/export/", "/settings/closing/", "/support/"]

#: paths everyone reaches (static files of the app and of Flask-AppBuilder)
ALLOWED_PATHS: tuple[str, ...] = ("/static/",)


def allow(endpoint: Optional[str] = None, path: Optional[str] = None, owner_only: bool = True) -> None:
    """Let a blocked company reach an endpoint or a path prefix (the owner only by default)."""
    if endpoint:
        (OWNER_ENDPOINTS if owner_only else ALLOWED_ENDPOINTS).add(endpoint)
    if path:
        if owner_only:
            OWNER_PATHS.append(path)
        else:
            raise ValueError("a path prefix open to every person of a blocked company is not allowed")


def reachable_while_blocked(user: Any, endpoint: Optional[str], path: str) -> bool:
    """True when ``user`` of a blocked company may reach this request (the allow-list above)."""
    if endpoint in ALLOWED_ENDPOINTS or path.startswith(ALLOWED_PATHS):
        return True
    if not getattr(user, "is_owner", False):
        return False
    return endpoint in OWNER_ENDPOINTS or any(path.startswith(prefix) for prefix in OWNER_PATHS)


def owner_may_reach(path: str) -> bool:
    """True when the owner of a blocked company may open ``path`` (the blocking page links only to those)."""
    return any(path.startswith(prefix) for prefix in OWNER_PATHS)


def api_token_user() -> Any:
    """The user of an API request signed with a bearer token (None without one or with a bad one).

    The API's own ``protect()`` answers bad tokens; this only lets the licence check see whose
    company a good token belongs to before the view runs.
    """
    if not request.path.startswith("/api/") or not request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    try:
        verify_jwt_in_request(optional=True)
        return get_current_user()
    except (JWTExtendedException, PyJWTError):
        return None
