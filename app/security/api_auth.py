"""The API's authentication step: who calls (personal token or FAB's JWT) and which company is in scope.

FAB authenticates an API call inside its ``protect`` decorator, after every ``before_request``
hook has run, so the company cannot come from ``before_request``. The security manager calls
``enter`` from the authentication step itself (``validate_api_key`` for personal tokens,
``load_user_jwt`` for FAB's JWT), before the handler runs any tenant query: from then on the
tenancy hooks of ``app/security/tenancy.py`` see exactly the caller's company.
"""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from flask import Response, g, jsonify, request
from flask_babel import gettext
from flask_limiter.util import get_remote_address

from app.models.users import CrmUser

#: what a JWT (POST /api/v1/auth/token) may do: everything the user's role allows
JWT_SCOPE = "write"


def enter(user: CrmUser, scope: str, token_id: Optional[int] = None) -> None:
    """Make ``user`` the caller of this request and put their company in scope for the tenancy hooks."""
    g.user = user
    g.company_id = user.company_id
    g.crm_api_scope = scope
    g.crm_api_token_id = token_id


def api_scope() -> Optional[str]:
    """The scope of this request's token ("read" or "write"), None when no API caller is known."""
    return g.get("crm_api_scope")


def caller_company_id() -> Optional[int]:
    """The company the authentication step put in scope (None before it ran or for no company)."""
    user = g.get("user")
    if g.get("crm_api_scope") is None or user is None:
        return None
    return getattr(user, "company_id", None)


def rate_limit_key() -> str:
    """The key of the per-token rate limit: a digest of the Authorization header, or the client IP."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "ip:" + (get_remote_address() or "")


def json_error(status: int, code: str, message: Any, **extra: Any) -> Response:
    """An API error: ``{"code": stable English code, "message": Polish text, ...}`` with ``status``."""
    resp = jsonify(code=code, message=str(message), **extra)
    resp.status_code = status
    return resp


def unauthorized(*_args: Any) -> Response:
    """401 for a missing, unknown, expired or revoked token (every JWT error ends here too)."""
    return json_error(401, "unauthorized", gettext("Missing, expired or revoked API token."))


def malformed(*_args: Any) -> Response:
    """422 for an Authorization header that holds no readable token at all."""
    return json_error(422, "invalid_token", gettext("Missing, expired or revoked API token."))
