"""Server-side browser sessions: start one at sign-in, load it on every request, end it.

The cookie (Flask-Login's ``_user_id``) carries a random token; the table keeps only its SHA-256
digest, the device (User-Agent), the IP and the last activity. A plain sign-out ends that one
session on the server, so a copied cookie stops working while other devices stay signed in.
Every session also carries a stamp of the user's session token (``CrmUser.fs_uniquifier``):
rotating that token ("Wyloguj ze wszystkich miejsc", a password change or reset, deactivation)
ends every session of the user at once. API tokens (JWT) keep using ``fs_uniquifier`` directly.

The cookie, Flask-Login and the request's client are the security layer's part
(``app/security/web_session.py``); it passes the token, the client and the current session id in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.models.mixins import utcnow
from app.models.security import UserSession
from app.models.users import CrmUser, new_uniquifier
from app.services import DomainError, transaction, unit_of_work
from app.services.accounts import api_tokens, audit
from app.services.accounts.lockout import NOT_YOURS, same_company

#: last activity is written at most this often (seconds), not on every request
TOUCH_SECONDS = 60
#: ended sessions are kept this long for the record, then the nightly cleanup removes them
ENDED_KEEP_DAYS = 1


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def stamp_of(user: CrmUser) -> str:
    """A digest of the user's current session token; it changes when every session must end."""
    return hashlib.sha256(f"session:{user.fs_uniquifier}".encode()).hexdigest()[:32]


def _idle_limit() -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config.get("SESSION_IDLE_DAYS", 14)))


def real_user(user: Any) -> CrmUser:
    """The user row behind Flask-Login's ``current_user`` proxy (or the row itself)."""
    return user._get_current_object() if hasattr(user, "_get_current_object") else user


# ---------------------------------------------------------------- start, load, end


@unit_of_work
def start(user: CrmUser, client: audit.Client) -> tuple[str, int]:
    """Record a new session of ``user`` from ``client``; return its cookie token and its id."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_digest(token), user_id=user.id, stamp=stamp_of(user), created_at=now, last_seen_at=now,
        ip=client.ip, user_agent=(client.user_agent or "")[:255] or None,
    )
    db.session.add(row)
    db.session.flush()
    return token, row.id


@dataclass(frozen=True)
class OpenSession:
    """A loaded browser session: whose it is and its id."""

    user: CrmUser
    id: int


def load(token: str | None, ip: str | None = None, now: dt.datetime | None = None) -> OpenSession | None:
    """The open session ``token`` and its active user; None when it ended, expired or was revoked.

    Updates the session's last activity and IP at most once every TOUCH_SECONDS.
    """
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    now = now or utcnow()
    # one statement for the session, its user and the user's company (joined on the user)
    found = db.session.execute(
        select(UserSession, CrmUser).join(CrmUser, CrmUser.id == UserSession.user_id)
        .where(UserSession.token_hash == _digest(token))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or row.last_seen_at < now - _idle_limit():
        return None
    if not user.is_active or row.stamp != stamp_of(user):
        return None
    if now - row.last_seen_at >= dt.timedelta(seconds=TOUCH_SECONDS):
        with transaction() as s:
            s.execute(
                update(UserSession).where(UserSession.id == row.id)
                .values(last_seen_at=now, ip=ip or row.ip).execution_options(synchronize_session=False)
            )
    return OpenSession(user, row.id)


@unit_of_work
def end_token(token: str) -> None:
    """End the session of cookie token ``token`` on the server (a plain sign-out)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _digest(str(token)), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False)
    )


@unit_of_work
def keep_open(user: CrmUser, session_id: int | None) -> None:
    """After the user's session token was rotated, session ``session_id`` of that user stays open."""
    if session_id is None:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(stamp=stamp_of(user)).execution_options(synchronize_session=False)
    )


@unit_of_work
def logout_everywhere(user: CrmUser, actor: CrmUser) -> None:
    """End every session and API token of ``user`` at once (rotates the session token)."""
    if actor.id != user.id and not same_company(actor, user):
        raise DomainError(NOT_YOURS)
    user.fs_uniquifier = new_uniquifier()
    api_tokens.revoke_all(user)
    audit.record(audit.LOGOUT_EVERYWHERE, user, actor=actor)


@unit_of_work
def end(user: CrmUser, session_id: int, current_session_id: int | None) -> bool | None:
    """End one of the user's own sessions ("Wyloguj" in the list); True when it was ``current_session_id``.

    None when the session is not an open session of ``user`` (the view answers 404).
    """
    user = real_user(user)
    row = db.session.execute(
        select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    ).scalar_one_or_none()
    if row is None or not _is_open(row, user, utcnow()):
        return None
    row.ended_at = utcnow()
    audit.record(audit.SESSION_ENDED, user, details=describe_device(row.user_agent))
    return row.id == current_session_id


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


def active_sessions(
    user: CrmUser, current_session_id: int | None, now: dt.datetime | None = None
) -> list[SessionInfo]:
    """The user's open sessions, the current one first, then by last activity (newest first)."""
    user = real_user(user)
    now = now or utcnow()
    rows = db.session.execute(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.last_seen_at >= now - _idle_limit())
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).scalars()
    current = current_session_id
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


@unit_of_work
def purge_old(now: dt.datetime | None = None) -> int:
    """Delete sessions ended over a day ago or idle past SESSION_IDLE_DAYS (every user)."""
    now = now or utcnow()
    result = db.session.execute(
        delete(UserSession)
        .where(or_(
            UserSession.ended_at < now - dt.timedelta(days=ENDED_KEEP_DAYS),
            UserSession.last_seen_at < now - _idle_limit(),
        ))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
