"""Server-side browser sessions: start one at sign-in, load it on every request, end it.

The cookie (Flask-Login's ``_user_id``) carries a random token; the table keeps only its SHA-256
digest, the device (User-Agent), the IP and the last activity. A plain sign-out ends that one
session on the server, so a copied cookie stops working while other devices stay signed in.
Every session also carries a stamp of the user's session token (``CrmUser.fs_uniquifier``):
rotating that token ("Wyloguj ze wszystkich miejsc", a password change or reset, deactivation)
ends every session of the user at once. API tokens (JWT) keep using ``fs_uniquifier`` directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_request_context, request, session
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.models.mixins import utcnow
from app.models.security import UserSession
from app.models.users import CrmUser
from app.services import DomainError, transaction
from app.services.accounts import audit

#: last activity is written at most this often (seconds), not on every request
TOUCH_SECONDS = 60
#: ended sessions are kept this long for the record, then the nightly cleanup removes them
ENDED_KEEP_DAYS = 1

NOT_FOUND = _l("This session does not exist or has already ended.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def stamp_of(user: CrmUser) -> str:
    """A digest of the user's current session token; it changes when every session must end."""
    return hashlib.sha256(f"session:{user.fs_uniquifier}".encode()).hexdigest()[:32]


def _idle_limit() -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config.get("SESSION_IDLE_DAYS", 14)))


def _client() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    agent = (request.user_agent.string or "")[:255] or None
    return (request.remote_addr or None), agent


def _real(user: Any) -> CrmUser:
    return user._get_current_object() if hasattr(user, "_get_current_object") else user


# ---------------------------------------------------------------- start, load, end


def start(user: CrmUser) -> str:
    """Record a new session of ``user`` (own transaction) and return its cookie token."""
    token = secrets.token_urlsafe(32)
    ip, agent = _client()
    now = utcnow()
    with transaction() as s:
        row = UserSession(
            token_hash=_digest(token), user_id=user.id, stamp=stamp_of(user),
            created_at=now, last_seen_at=now, ip=ip, user_agent=agent,
        )
        s.add(row)
    g.crm_session_id = row.id
    return token


def sign_in(user: CrmUser) -> None:
    """Start a server-side session and put its token into the browser's session cookie."""
    user = _real(user)
    user.session_token = start(user)
    login_user(user, remember=False)


def load(token: str | None, now: dt.datetime | None = None) -> CrmUser | None:
    """The active user of the open session ``token``; None when it ended, expired or was revoked.

    Updates the session's last activity and IP at most once every TOUCH_SECONDS.
    """
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    now = now or utcnow()
    row = db.session.execute(
        select(UserSession).where(UserSession.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None or row.last_seen_at < now - _idle_limit():
        return None
    user = db.session.get(CrmUser, row.user_id)
    if user is None or not user.is_active or row.stamp != stamp_of(user):
        return None
    if now - row.last_seen_at >= dt.timedelta(seconds=TOUCH_SECONDS):
        ip, _ = _client()
        with transaction() as s:
            s.execute(
                update(UserSession).where(UserSession.id == row.id)
                .values(last_seen_at=now, ip=ip or row.ip).execution_options(synchronize_session=False)
            )
    g.crm_session_id = row.id
    user.session_token = token
    return user


def current_session_id() -> int | None:
    """The id of the session of this request (None for API tokens and anonymous requests)."""
    return g.get("crm_session_id") if has_request_context() else None


def end_current() -> None:
    """End the session of this request on the server (a plain sign-out); no-op without one."""
    token = session.get("_user_id") if has_request_context() else None
    if not token:
        return
    with transaction() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.token_hash == _digest(str(token)), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow()).execution_options(synchronize_session=False)
        )


def keep_current(user: CrmUser) -> None:
    """After the user's session token was rotated, the session of this request stays open."""
    session_id = current_session_id()
    if session_id is None:
        return
    with transaction() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(stamp=stamp_of(user)).execution_options(synchronize_session=False)
        )


def end(user: CrmUser, session_id: int) -> bool:
    """End one of the user's own sessions ("Wyloguj" in the list); True when it was this one.

    DomainError when the session is not an open session of ``user`` (the view answers 404).
    """
    user = _real(user)
    row = db.session.execute(
        select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    ).scalar_one_or_none()
    if row is None or not _is_open(row, user, utcnow()):
        raise DomainError(NOT_FOUND)
    with transaction():
        row.ended_at = utcnow()
        audit.record(audit.SESSION_ENDED, user, details=describe_device(row.user_agent))
    return row.id == current_session_id()


def _is_open(row: UserSession, user: CrmUser, now: dt.datetime) -> bool:
    return row.ended_at is None and row.stamp == stamp_of(user) and row.last_seen_at >= now - _idle_limit()


# ---------------------------------------------------------------- the list in the profile


@dataclass(frozen=True)
class SessionInfo:
    """One open session as the profile lists it."""

    id: int
    device: str
    ip: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool


def active_sessions(user: CrmUser, now: dt.datetime | None = None) -> list[SessionInfo]:
    """The user's open sessions, the current one first, then by last activity (newest first)."""
    user = _real(user)
    now = now or utcnow()
    rows = db.session.execute(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.last_seen_at >= now - _idle_limit())
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).scalars()
    current = current_session_id()
    infos = [
        SessionInfo(
            id=r.id, device=describe_device(r.user_agent), ip=r.ip or "—", created_at=r.created_at,
            last_seen_at=r.last_seen_at, current=r.id == current,
        )
        for r in rows
        if _is_open(r, user, now)
    ]
    return sorted(infos, key=lambda i: not i.current)


# ---------------------------------------------------------------- device names

# (pattern, name), first match wins: Edge and Opera also say "Chrome", Chrome also says "Safari"
_BROWSERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"SamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chromium/"), "Chromium"),
    (re.compile(r"Chrome/|CriOS/"), "Chrome"),
    (re.compile(r"Version/[\d.]+.*Safari/"), "Safari"),
    (re.compile(r"curl/"), "curl"),
    (re.compile(r"python-requests|python-urllib|Werkzeug", re.I), "Python"),
]
_SYSTEMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Android"), "Android"),
    (re.compile(r"iPhone|iPad|iPod"), "iOS"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"Linux|X11"), "Linux"),
]


def describe_device(user_agent: str | None) -> str:
    """A readable device name from a User-Agent, e.g. "Chrome na Linux"."""
    ua = user_agent or ""
    browser = next((name for pat, name in _BROWSERS if pat.search(ua)), None)
    system = next((name for pat, name in _SYSTEMS if pat.search(ua)), None)
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return gettext("Unknown browser on %(system)s", system=system)
    return gettext("Unknown device")


# ---------------------------------------------------------------- cleanup


def purge_old(now: dt.datetime | None = None) -> int:
    """Delete sessions ended over a day ago or idle past SESSION_IDLE_DAYS (every user)."""
    now = now or utcnow()
    with transaction() as s:
        result = s.execute(
            delete(UserSession)
            .where(or_(
                UserSession.ended_at < now - dt.timedelta(days=ENDED_KEEP_DAYS),
                UserSession.last_seen_at < now - _idle_limit(),
            ))
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)
