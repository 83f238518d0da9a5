"""Personal API tokens: made and revoked by the user in the profile, checked on every API call.

A token reads ``kl_<lookup>_<secret>``. It is shown once, when it is made; the database keeps its
SHA-256 and the short ``lookup`` part that finds the row. A token works while it is neither
revoked nor expired, its user is active and the user's session stamp is the one the token was
made with: "Wyloguj ze wszystkich miejsc" and deactivating the user rotate the stamp and also
mark every live token revoked (``revoke_all``), so the profile lists them as revoked.

``authenticate`` runs before any company is in scope (the caller is not known yet): its lookup of
the token row opts out of the tenancy filter explicitly, and the write of the last use runs inside
``tenant_scope`` of the token's company.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models.api_tokens import TOKEN_SCOPES, ApiToken
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.security.tenancy import tenant_scope
from app.services import DomainError, FieldChecks, transaction, unit_of_work
from app.services import validators as v
from app.services.accounts import audit

log = logging.getLogger(__name__)

#: every personal token starts with this (FAB_API_KEY_PREFIXES)
PREFIX = "kl_"
#: expiry choices of the form, in days
EXPIRY_DAYS = (30, 90, 365)
#: last use is written at most this often (seconds), not on every call
TOUCH_SECONDS = 60
#: at most this many live tokens per user
MAX_LIVE = 20

SCOPE_LABELS = {"read": _l("Read only"), "write": _l("Read and write")}


@dataclass
class TokenData:
    """Fields of the "new token" form."""

    name: str
    scope: str = "read"
    days: int = 90


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row and the secret, shown once."""

    row: ApiToken
    secret: str


def stamp_of(user: CrmUser) -> str:
    """A digest of the user's session token (``fs_uniquifier``): it changes when every session must end."""
    return hashlib.sha256(f"api:{user.fs_uniquifier}".encode()).hexdigest()[:32]


def digest(raw: str) -> str:
    """The SHA-256 (hex) a token is stored as."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _split(raw: str) -> str | None:
    """The lookup part of a well-formed token, else None."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    lookup, sep, secret = raw[len(PREFIX):].partition("_")
    if not sep or len(lookup) != 12 or not secret:
        return None
    return lookup


def list_tokens(company_id: int, user: CrmUser) -> list[ApiToken]:
    """The user's own tokens, newest first (revoked and expired ones included, for the record)."""
    return list(
        db.session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars()
    )


def _clean(data: TokenData) -> tuple[str, str, int]:
    checks = FieldChecks()
    name = checks.run(v.clean_text, data.name, "name", _l("Name"), 80, required=True)
    if data.scope not in TOKEN_SCOPES:
        checks.refuse(_l("Choose what the token may do."), "scope")
    if data.days not in EXPIRY_DAYS:
        checks.refuse(_l("Choose how long the token works."), "days")
    checks.raise_if_any()
    return name, data.scope, data.days


@unit_of_work
def create_token(company_id: int, user: CrmUser, data: TokenData, now: dt.datetime | None = None) -> NewToken:
    """Make a token for the user; the returned secret is shown once and never stored."""
    now = now or utcnow()
    name, scope, days = _clean(data)
    live = [t for t in list_tokens(company_id, user) if t.is_live(now)]
    if len(live) >= MAX_LIVE:
        raise DomainError(_l("You have too many active tokens. Revoke one you no longer use."), "name")
    lookup = secrets.token_hex(6)
    secret = f"{PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        company_id=company_id, user_id=user.id, name=name, scope=scope, lookup=lookup,
        token_hash=digest(secret), user_stamp=stamp_of(user), created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    db.session.add(row)
    audit.record(audit.API_TOKEN, user, details=name)
    db.session.flush()
    return NewToken(row=row, secret=secret)


@unit_of_work
def revoke_token(company_id: int, user: CrmUser, token_id: int, now: dt.datetime | None = None) -> ApiToken:
    """Revoke one of the user's own tokens (another user's or company's token: "does not exist")."""
    row = db.session.execute(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        raise DomainError(_l("This token does not exist."))
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
    return row


def revoke_all(user: CrmUser, now: dt.datetime | None = None) -> int:
    """Mark every live token of the user revoked (log out everywhere, deactivation); joins the caller's unit."""
    if user.company_id is None:
        return 0
    with tenant_scope(user.company_id):
        result = db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Caller:
    """Who an API call comes from: the user, the token's id and scope."""

    user: CrmUser
    token_id: int
    scope: str


def authenticate(raw: str, ip: str | None = None, now: dt.datetime | None = None) -> Caller | None:
    """The caller of a personal token, or None when the token is unknown, revoked, expired or its user inactive."""
    now = now or utcnow()
    lookup = _split(raw or "")
    if lookup is None:
        return None
    # no company is in scope yet (the token says which one): an explicit, read-only opt-out
    row = db.session.execute(
        select(ApiToken).where(ApiToken.lookup == lookup).execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest(raw)) or not row.is_live(now):
        return None
    user = db.session.get(CrmUser, row.user_id)
    if user is None or not user.active or user.company_id != row.company_id:
        return None
    if not hmac.compare_digest(row.user_stamp, stamp_of(user)):
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_SECONDS or row.last_used_ip != ip:
        _touch(row, now, ip)
    return Caller(user=user, token_id=row.id, scope=row.scope)


def _touch(row: ApiToken, now: dt.datetime, ip: str | None) -> None:
    """Record the last use (best effort: a busy database must not refuse the call itself)."""
    try:
        with tenant_scope(row.company_id), transaction():
            row.last_used_at = now
            row.last_used_ip = (ip or "")[:45] or None
    except SQLAlchemyError:
        log.warning("Last use of API token %s not recorded", row.id, exc_info=True)
