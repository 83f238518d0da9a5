"""Security audit log: record events (who, whose account, when, IP), list them for the owner, purge.

AuditEvent has a nullable company_id and no TenantMixin, so every query here filters by company
explicitly. Callers add events inside their own unit of work; ``record_now`` commits alone.

The client's IP and device come in as a ``Client``: passed to ``record`` or, for the events of a web
request, put in scope once per request by the security layer (``client_scope``), so no service
reads the request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models.mixins import utcnow
from app.models.security import AuditEvent
from app.models.users import CrmUser
from app.security.roles import ROLE_LABELS
from app.services import transaction, unit_of_work

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOCKOUT = "lockout"
UNLOCK = "unlock"
LOGOUT = "logout"
LOGOUT_EVERYWHERE = "logout_everywhere"
SESSION_ENDED = "session_ended"
PASSWORD_CHANGED = "password_changed"
PASSWORD_CHECK_FAILED = "password_check_failed"
PASSWORD_RESET_REQUESTED = "password_reset_requested"
PASSWORD_RESET = "password_reset"
TWO_FACTOR_ENABLED = "2fa_enabled"
TWO_FACTOR_DISABLED = "2fa_disabled"
TWO_FACTOR_FAILED = "2fa_failed"
RECOVERY_CODE_USED = "recovery_code_used"
RECOVERY_CODES_NEW = "recovery_codes_new"
COMPANY_2FA = "company_2fa"
ROLE_CHANGED = "role_changed"
EMPLOYEE_ADDED = "employee_added"
EMPLOYEE_DEACTIVATED = "employee_deactivated"
EMPLOYEE_REACTIVATED = "employee_reactivated"
API_TOKEN = "api_token"
DATA_RESTORED = "data_restored"
RESTORE_REQUESTED = "restore_requested"
RESTORE_CONFIRMED = "restore_confirmed"
RESTORE_EXPIRED = "restore_expired"
RESTORE_REFUSED = "restore_refused"
RESTORE_REJECTED = "restore_rejected"
SIGNUP_CONFIRMED = "signup_confirmed"
NIP_CLAIM_APPROVED = "nip_claim_approved"
NIP_CLAIM_REJECTED = "nip_claim_rejected"
NIP_TAKEN_OVER = "nip_taken_over"
LICENCE_CHANGED = "licence_changed"
PLAN_EDITED = "plan_edited"
TERMS_ACCEPTED = "terms_accepted"
LEGAL_PUBLISHED = "legal_published"
MAILBOX_ADDED = "mailbox_added"
MAILBOX_CHANGED = "mailbox_changed"
MAILBOX_DELETED = "mailbox_deleted"

#: event code -> label shown in the owner's audit log (order = the filter's order)
EVENT_LABELS: dict[str, Any] = {
    LOGIN: _l("Sign-in"),
    LOGIN_FAILED: _l("Failed sign-in"),
    LOCKOUT: _l("Account locked"),
    UNLOCK: _l("Account unlocked"),
    LOGOUT: _l("Sign-out"),
    LOGOUT_EVERYWHERE: _l("Signed out everywhere"),
    SESSION_ENDED: _l("Session ended"),
    PASSWORD_CHANGED: _l("Password changed"),
    PASSWORD_CHECK_FAILED: _l("Wrong current password"),
    PASSWORD_RESET_REQUESTED: _l("Password reset requested"),
    PASSWORD_RESET: _l("Password reset by e-mail"),
    TWO_FACTOR_ENABLED: _l("Two-step sign-in turned on"),
    TWO_FACTOR_DISABLED: _l("Two-step sign-in turned off"),
    TWO_FACTOR_FAILED: _l("Wrong verification code"),
    RECOVERY_CODE_USED: _l("Recovery code used"),
    RECOVERY_CODES_NEW: _l("New recovery codes"),
    COMPANY_2FA: _l("Company two-step sign-in policy changed"),
    ROLE_CHANGED: _l("Role changed"),
    EMPLOYEE_ADDED: _l("Employee added"),
    EMPLOYEE_DEACTIVATED: _l("Employee deactivated"),
    EMPLOYEE_REACTIVATED: _l("Employee reactivated"),
    API_TOKEN: _l("API token issued"),
    DATA_RESTORED: _l("Deleted data restored"),
    RESTORE_REQUESTED: _l("Restore of deleted data requested"),
    RESTORE_CONFIRMED: _l("Restore request confirmed by e-mail"),
    RESTORE_EXPIRED: _l("Restore request expired unconfirmed"),
    RESTORE_REFUSED: _l("Restore confirmation link refused"),
    RESTORE_REJECTED: _l("Restore request cancelled by the administrator"),
    SIGNUP_CONFIRMED: _l("Account e-mail address confirmed"),
    NIP_CLAIM_APPROVED: _l("NIP moved to another account after a verified claim"),
    NIP_CLAIM_REJECTED: _l("Claim of the company's NIP rejected"),
    NIP_TAKEN_OVER: _l("Account created for the verified owner of the NIP"),
    LICENCE_CHANGED: _l("Licence changed by the platform administrator"),
    TERMS_ACCEPTED: _l("Terms and data-processing agreement accepted"),
    MAILBOX_ADDED: _l("Mailbox added"),
    MAILBOX_CHANGED: _l("Mailbox changed"),
    MAILBOX_DELETED: _l("Mailbox deleted"),
}

#: why a restore confirmation link was refused (details of RESTORE_REFUSED)
_REFUSALS = {
    "foreign": _l("used by a person of another company"),
    "expired": _l("the link has expired"),
    "used": _l("the link was already used"),
    "closed": _l("the request is already closed"),
}

#: the fields named in the details of MAILBOX_CHANGED ("address: field, field"; never a value)
_MAILBOX_FIELDS = {
    "email": _l("E-mail address"),
    "smtp_host": _l("SMTP server"),
    "smtp_port": _l("SMTP port"),
    "smtp_security": _l("SMTP security"),
    "imap_host": _l("IMAP server"),
    "imap_port": _l("IMAP port"),
    "imap_security": _l("IMAP security"),
    "login": _l("User name (login)"),
    "password": _l("Password"),
}

PAGE_SIZE = 50

_METHODS = {
    "password": _l("password"),
    "totp": _l("code from the app"),
    "recovery": _l("recovery code"),
}


def describe(row: AuditEvent) -> str:
    """The event's detail in the user's language ("—" when there is none)."""
    d = row.details or ""
    if not d:
        return "—"
    if row.event == LOGIN:
        return str(_METHODS.get(d, d))
    if row.event in (EMPLOYEE_ADDED, ROLE_CHANGED):
        return " → ".join(
            ", ".join(str(ROLE_LABELS.get(r.strip(), r.strip())) for r in part.split(","))
            for part in d.split("->")
        )
    if row.event == COMPANY_2FA:
        return str(_l("required") if d == "on" else _l("optional"))
    if row.event == LOCKOUT:
        return str(_l("after %(n)s failed attempts", n=d))
    if row.event == RESTORE_REFUSED:
        return str(_REFUSALS.get(d, d))
    if row.event == DATA_RESTORED and d.count(",") == 2:
        restored, skipped, renamed = d.split(",")
        return str(_l("restored %(r)s, left in the trash %(s)s, renamed %(n)s", r=restored, s=skipped, n=renamed))
    if row.event == MAILBOX_CHANGED and ": " in d:
        address, _, fields = d.partition(": ")
        return address + ": " + ", ".join(str(_MAILBOX_FIELDS.get(f, f)) for f in fields.split(", "))
    if row.event == RECOVERY_CODE_USED:
        return str(_l("%(n)s codes left", n=d))
    if row.event == LICENCE_CHANGED:
        return _licence_change(d)
    if row.event == TERMS_ACCEPTED:
        return "; ".join(_document_version(part.strip()) for part in d.split(","))
    return d


#: documents of the terms acceptance, by kind (as app/models/legal.py names them)
_DOCUMENTS = {"terms": _l("Terms of service"), "dpa": _l("Data-processing agreement")}


def _licence_change(details: str) -> str:
    """"2026-11-29 -> 2026-12-30: reason" as "29.11.2026 → 30.12.2026: reason"."""
    dates, _, reason = details.partition(": ")
    try:
        old, new = (dt.date.fromisoformat(x.strip()) for x in dates.split("->"))
    except ValueError:
        return details
    return f"{old:%d.%m.%Y} → {new:%d.%m.%Y}: {reason}"


def _document_version(part: str) -> str:
    """"terms v2" as "Regulamin, wersja 2"."""
    kind, _, version = part.partition(" v")
    if kind not in _DOCUMENTS or not version.isdigit():
        return part
    return str(_l("%(document)s, version %(version)s", document=_DOCUMENTS[kind], version=version))


@dataclass(frozen=True)
class Client:
    """Where an action came from: the client's IP address and User-Agent (either may be unknown)."""

    ip: str | None = None
    user_agent: str | None = None


_NO_CLIENT = Client()
#: the client of the current web request (set by the security layer; jobs and the CLI have none)
_CLIENT: ContextVar[Client] = ContextVar("crm_audit_client", default=_NO_CLIENT)


@contextlib.contextmanager
def client_scope(client: Client) -> Iterator[None]:
    """Record the events of a block (one web request) with this client's IP and device."""
    token = _CLIENT.set(client)
    try:
        yield
    finally:
        _CLIENT.reset(token)


def set_client(client: Client | None) -> None:
    """Set (or with None clear) the client of the current request; the security layer calls it."""
    _CLIENT.set(client or _NO_CLIENT)


def current_client() -> Client:
    """The client in scope (an empty ``Client`` outside a web request)."""
    return _CLIENT.get()


def record(
    event: str,
    user: CrmUser | None = None,
    actor: CrmUser | None = None,
    details: str | None = None,
    company_id: int | None = None,
    client: Client | None = None,
) -> AuditEvent:
    """Add one event to the session (the caller's unit of work commits it)."""
    client = client or current_client()
    ip, agent = client.ip, (client.user_agent or "")[:200] or None
    if company_id is None:
        company_id = (user.company_id if user is not None else None) or (
            actor.company_id if actor is not None else None
        )
    row = AuditEvent(
        event=event,
        company_id=company_id,
        user_id=user.id if user is not None else None,
        actor_id=actor.id if actor is not None else (user.id if user is not None else None),
        ip=ip,
        user_agent=agent,
        details=(details or None) and str(details)[:255],
        created_at=utcnow(),
    )
    db.session.add(row)
    return row


def record_now(event: str, user: CrmUser | None = None, **kw: Any) -> None:
    """Record one event in its own transaction (failed logins: nothing else is saved)."""
    with transaction():
        record(event, user, **kw)


@dataclass
class AuditFilter:
    """The owner's filters of the audit log."""

    user_id: int | None = None
    event: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1


def _filtered(company_id: int, flt: AuditFilter) -> Any:
    # AuditEvent is no tenant table (platform events have no company): the hook does not filter it
    stmt = select(AuditEvent).where(AuditEvent.company_id == company_id)
    if flt.user_id:
        stmt = stmt.where((AuditEvent.user_id == flt.user_id) | (AuditEvent.actor_id == flt.user_id))
    if flt.event and flt.event in EVENT_LABELS:
        stmt = stmt.where(AuditEvent.event == flt.event)
    if flt.date_from:
        stmt = stmt.where(AuditEvent.created_at >= _utc_midnight(flt.date_from))
    if flt.date_to:
        stmt = stmt.where(AuditEvent.created_at < _utc_midnight(flt.date_to + dt.timedelta(days=1)))
    return stmt


def _utc_midnight(day: dt.date) -> dt.datetime:
    """Local (company time zone) midnight of ``day`` as naive UTC."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Warsaw"))
    local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def list_events(company_id: int, flt: AuditFilter) -> tuple[list[AuditEvent], int]:
    """One page of the company's events, newest first, and the number of pages."""
    stmt = _filtered(company_id, flt)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, flt.page), pages)
    rows = db.session.execute(
        stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).scalars()
    return list(rows), pages


@unit_of_work
def purge_old(now: dt.datetime | None = None) -> int:
    """Delete events older than AUDIT_RETENTION_DAYS (every company); return how many."""
    now = now or utcnow()
    days = int(current_app.config.get("AUDIT_RETENTION_DAYS", 365))
    cutoff = now - dt.timedelta(days=days)
    result = db.session.execute(
        delete(AuditEvent).where(AuditEvent.created_at < cutoff).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
