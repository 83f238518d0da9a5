"""Sign-in: the password check with lockout, the pending second step (TOTP), sign-in statistics,
sign-out records and API tokens.

Every browser session is a server-side row (``sessions.py``) stamped with the user's session token
(``CrmUser.fs_uniquifier``), which is also the identity of every API token; rotating the token ends
them all at once. Where the pending second step is kept (the browser session) is the security
layer's part: this module makes and checks its marker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import create_access_token
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.services import DomainError, transaction, unit_of_work
from app.services.accounts import audit
from app.services.accounts.lockout import is_locked, locked_error, register_failure
from app.services.accounts.security_policy import company_requires_2fa
from app.services.accounts.signups import check_confirmed
from app.services.accounts.two_factor import WRONG_CODE, verify_second_factor

WRONG_LOGIN = _l("Wrong e-mail or password.")
_EMAIL_SHAPE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def fingerprint(user: CrmUser) -> str:
    """Changes whenever the password or the session token changes (single-use links and markers)."""
    raw = f"{user.fs_uniquifier}:{user.password or ''}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def find_login_user(login: str) -> CrmUser | None:
    """The user who signs in with ``login`` (login name or e-mail, any case), if any."""
    login = (login or "").strip().lower()
    if not login:
        return None
    return db.session.execute(
        select(CrmUser).where((func.lower(CrmUser.username) == login) | (func.lower(CrmUser.email) == login))
    ).scalars().first()


def _fake_hash_check(password: str) -> None:
    """Spend the time of a real check, so unknown logins do not answer faster."""
    check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], password or "x")


def typed_login(login: str | None) -> str | None:
    """The login typed for an unknown account, kept only when it looks like an e-mail address
    (people sometimes type their password into the login field; it must never be stored).
    """
    value = (login or "").strip()[:100]
    return value if _EMAIL_SHAPE.fullmatch(value) else None


def authenticate(login: str, password: str, now: dt.datetime | None = None) -> CrmUser:
    """The user with this login and password, or DomainError (wrong data or locked account).

    Not a unit of work: a failed attempt is saved although the call raises.
    """
    now = now or utcnow()
    user = find_login_user(login)
    if user is None or not user.active or not user.password:
        _fake_hash_check(password)
        audit.record_now(audit.LOGIN_FAILED, user, details=None if user is not None else typed_login(login))
        raise DomainError(WRONG_LOGIN)
    if is_locked(user, now):
        _fake_hash_check(password)
        raise locked_error(user)
    if user.locked_until is not None:  # the lock has expired: a fresh start
        with transaction():
            user.locked_until = None
            user.fail_login_count = 0
    if not password or not check_password_hash(user.password, password):
        if register_failure(user, audit.LOGIN_FAILED, now):
            raise locked_error(user)
        raise DomainError(WRONG_LOGIN)
    check_confirmed(user)  # the right password of a sign-up whose e-mail is not confirmed yet
    return user


@unit_of_work
def record_login(user: CrmUser, method: str | None = None) -> None:
    """Update sign-in statistics and record the sign-in (the security layer starts the session)."""
    user.login_count = (user.login_count or 0) + 1
    user.last_login = dt.datetime.now()
    user.fail_login_count = 0
    audit.record(audit.LOGIN, user, details=method)


def record_logout(user: CrmUser) -> None:
    """Record a plain sign-out."""
    audit.record_now(audit.LOGOUT, user)


# ---------------------------------------------------------------- the pending second step


def pending_marker(user: CrmUser, next_url: str) -> dict[str, Any]:
    """What the browser session keeps between the right password and the code."""
    return {"u": user.id, "f": fingerprint(user), "at": int(time.time()), "next": next_url}


def pending_user(marker: Any) -> CrmUser | None:
    """The user a marker waits for, while it is fresh and still valid (else None: drop it)."""
    if not isinstance(marker, dict):
        return None
    if int(time.time()) - int(marker.get("at", 0)) > int(current_app.config["TWO_FACTOR_PENDING_SECONDS"]):
        return None
    user = db.session.get(CrmUser, int(marker.get("u", 0)))
    if user is None or not user.active or not user.two_factor_enabled or fingerprint(user) != marker.get("f"):
        return None
    return user


def pending_next(marker: Any) -> str:
    """Where to go after the second step."""
    return (marker.get("next") if isinstance(marker, dict) else None) or "/"


def finish_second_step(user: CrmUser, code: str, now: dt.datetime | None = None) -> str:
    """Check the authenticator or recovery code; return how it was signed in ("totp"/"recovery").

    ``AccountLocked`` when the account is (or now becomes) locked, DomainError when the code is
    wrong. Not a unit of work: a wrong code is saved although the call raises.
    """
    now = now or utcnow()
    if is_locked(user, now):
        raise locked_error(user)
    method = verify_second_factor(user, code, now)
    if method is None:
        if register_failure(user, audit.TWO_FACTOR_FAILED, now):
            raise locked_error(user)
        raise DomainError(WRONG_CODE, "code")
    return method


# ---------------------------------------------------------------- API tokens


def issue_api_token(login: str, password: str, code: str | None = None) -> str:
    """A JWT bound to the user's session token (log out everywhere revokes it)."""
    user = authenticate(login, password)
    if user.two_factor_enabled:
        if not code or verify_second_factor(user, code) is None:
            register_failure(user, audit.TWO_FACTOR_FAILED, utcnow())
            raise DomainError(WRONG_CODE, "code")
    elif company_requires_2fa(user.company_id):
        raise DomainError(_l("Your company requires two-step sign-in: turn it on in your profile first."))
    _record_token(user)
    return create_access_token(identity=user.fs_uniquifier, fresh=True)


@unit_of_work
def _record_token(user: CrmUser) -> None:
    user.fail_login_count = 0
    audit.record(audit.API_TOKEN, user)
