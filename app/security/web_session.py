"""The browser's side of signing in: the session cookie, Flask-Login, the pending second step
kept in the session, and the client (IP, device) of each request handed to the audit log.

Services stay free of request state: this module reads ``request``/``session``/``g`` and passes
plain values to ``app/services/accounts`` (sessions, signin, audit).
"""

from __future__ import annotations

from typing import Optional

from flask import Flask, g, request, session
from flask_login import login_user

from app.models.users import CrmUser
from app.services.accounts import audit, sessions, signin

#: session key of the pending second step (the password was right, a code is still needed)
PENDING_KEY = "crm_2fa_pending"
#: session key: the e-mail address of the sign-up waiting for its link (pre-fills "send again")
SIGNUP_EMAIL_KEY = "crm_signup_email"


def client() -> audit.Client:
    """The IP address and User-Agent of the current request."""
    return audit.Client(ip=request.remote_addr or None, user_agent=request.user_agent.string or None)


def install(app: Flask) -> None:
    """Hand every request's client to the audit log, and take it away after the request."""

    @app.before_request
    def _audit_client() -> None:
        audit.set_client(client())

    @app.teardown_request
    def _no_audit_client(_exc: Optional[BaseException]) -> None:
        audit.set_client(None)


def current_session_id() -> Optional[int]:
    """The id of the browser session of this request (None for API tokens and anonymous requests)."""
    return g.get("crm_session_id")


def current_user_row() -> Optional[CrmUser]:
    """The signed-in user's row (not Flask-Login's proxy), or None."""
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return sessions.real_user(user)


def sign_in(user: CrmUser, method: Optional[str] = None) -> None:
    """Record the sign-in, start a server-side session and put its token into the session cookie."""
    user = sessions.real_user(user)
    session.pop(PENDING_KEY, None)
    signin.record_login(user, method)
    token, session_id = sessions.start(user, client())
    g.crm_session_id = session_id
    user.session_token = token  # type: ignore[assignment]  # declared None on the model: not stored
    login_user(user, remember=False)


def load_user(token: str) -> Optional[CrmUser]:
    """Flask-Login's loader: the active user of the open session whose cookie token is ``token``."""
    loaded = sessions.load(token, request.remote_addr or None)
    if loaded is None:
        return None
    g.crm_session_id = loaded.id
    loaded.user.session_token = token  # type: ignore[assignment]  # declared None on the model: not stored
    return loaded.user


def end_current() -> None:
    """End the session of this request on the server (a plain sign-out); no-op without one."""
    token = session.get("_user_id")
    if token:
        sessions.end_token(str(token))


# ---------------------------------------------------------------- the pending second step


def start_second_step(user: CrmUser, next_url: str) -> None:
    """Remember in the session that the password was right and a code is still needed."""
    session[PENDING_KEY] = signin.pending_marker(user, next_url)


def pending_user() -> Optional[CrmUser]:
    """The user waiting for the second step, while the marker is fresh and valid (else it is dropped)."""
    user = signin.pending_user(session.get(PENDING_KEY))
    if user is None:
        drop_pending()
    return user


def pending_next() -> str:
    """Where to go after the second step."""
    return signin.pending_next(session.get(PENDING_KEY))


def drop_pending() -> None:
    """Forget the pending second step."""
    session.pop(PENDING_KEY, None)

