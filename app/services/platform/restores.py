"""Restoring deleted data as the FAQ says: the owner asks in "Kosz" and confirms it through a signed,
single-use link sent to the address the company account was created with; only then the platform
admin sees it, previews it (what comes back, what clashes) and restores it. Every step is audited.

The owner's steps run in the owner's company scope (the tenancy hook filters them). The platform
admin's steps and the scheduled expiry run in ``all_tenants()`` on purpose (the admin acts on
another company's rows), so their queries name the company explicitly. E-mails go after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any, Callable, Optional

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.restores import OPEN_STATUSES, RestoreRequest
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, clock, transaction, trash, unit_of_work
from app.services.accounts import audit, employees

log = logging.getLogger(__name__)

LINK_INVALID = _l("This confirmation link is not valid. Open the link exactly as it came in the e-mail.")
LINK_FOREIGN = _l("This confirmation link belongs to another company account. Nothing was changed.")
LINK_USED = _l("This confirmation link has already been used. The request has been passed to the administrator.")
LINK_EXPIRED = _l("This confirmation link has expired. Ask for the restore again in the Trash tab.")
LINK_CLOSED = _l("This restore request is already closed.")


# ---------------------------------------------------------------- the owner asks


def confirm_hours() -> int:
    """How long a confirmation link works (RESTORE_CONFIRM_HOURS, 48 by default)."""
    return int(current_app.config.get("RESTORE_CONFIRM_HOURS", 48))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="crm-restore-confirm")


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def mask_email(address: str) -> str:
    """``j***@firma.pl``: enough for the owner to recognise the address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def effective_status(req: RestoreRequest, now: Optional[dt.datetime] = None) -> str:
    """The request's status as users see it: an unconfirmed request past its time is expired."""
    if req.status == "awaiting" and req.expires_at is not None and (now or clock.utcnow()) >= req.expires_at:
        return "expired"
    return req.status


def summary(group: trash.DeletionGroup | trash.Preview) -> str:
    """"Bazy klientów: 1, Kontakty: 2" for one delete operation."""
    if isinstance(group, trash.Preview):
        counts = {k: n for k, (n, _names) in group.kinds.items()}
    else:
        counts = group.counts
    order = list(trash.KIND_LABELS)
    ranked = sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    return ", ".join(f"{trash.kind_label(k)}: {n}" for k, n in ranked)


@unit_of_work
def request_restore(company_id: int, owner: CrmUser, deletion_id: str, note: Optional[str],
                    link_for: Callable[[str], str]) -> RestoreRequest:
    """The owner asks for one delete operation of the last 30 days; a confirmation link goes by e-mail.

    The link (``link_for(token)``, built by the view) goes to the address the company account was
    created with, not to the owner's current login; the platform admin sees the request only once
    it is confirmed. When the e-mail cannot be sent, nothing is recorded.
    """
    company = owner.company
    if company is None or owner.company_id != company_id or not owner.is_owner:
        raise DomainError(_l("Only the owner of the company can ask for deleted data to be restored."))
    group = next((g for g in trash.deletion_groups(company_id) if g.deletion_id == deletion_id), None)
    if group is None:
        raise DomainError(_l("There is no such deleted data from the last 30 days."))
    now = clock.utcnow()
    open_requests = db.session.execute(
        select(RestoreRequest).where(
            RestoreRequest.deletion_id == deletion_id,
            RestoreRequest.status.in_(OPEN_STATUSES),
        )
    ).scalars()
    if any(effective_status(r, now) in OPEN_STATUSES for r in open_requests):
        raise DomainError(_l("You have already asked for this data to be restored."))
    address = company.signup_email
    if not address:
        raise DomainError(_l("The e-mail address this account was created with is not known. "
                             "Contact the administrator of the system."))
    if not mail_configured():
        raise DomainError(_l("E-mail is not available on this installation, so the request cannot be confirmed. "
                             "Contact the administrator of the system."))
    nonce = secrets.token_urlsafe(24)
    req = RestoreRequest(
        company_id=company_id, deletion_id=deletion_id, status="awaiting",
        note=(note or "").strip()[:2000] or None, requested_by_id=owner.id, sent_to=address,
        confirm_digest=_digest(nonce), expires_at=now + dt.timedelta(hours=confirm_hours()),
    )
    db.session.add(req)
    db.session.flush()
    audit.record(audit.RESTORE_REQUESTED, owner, details=deletion_id[:8])
    token = _serializer().dumps({"r": req.id, "c": company_id, "n": nonce})
    # sent inside the unit on purpose: a request whose link never left is not recorded
    _send_confirmation(owner, company, address, link_for(token), summary(group))
    return req


def _send_confirmation(owner: CrmUser, company: Company, address: str, link: str, what: str) -> None:
    """E-mail the confirmation link; DomainError when it cannot be sent (nothing is recorded then)."""
    try:
        send_mail(
            address,
            gettext("Confirm the restore of deleted data in Klientela"),
            gettext(
                "Hello,\n\n%(name)s asked to restore deleted data of %(company)s (%(what)s).\n\n"
                "For safety the request goes to the administrator of the system only after you confirm it "
                "here (the link works once and for %(hours)s hours):\n%(link)s\n\n"
                "If you did not ask for it, ignore this message; the request expires by itself.",
                name=str(owner), company=company.name, what=what, hours=confirm_hours(), link=link,
            ),
        )
    except OSError:
        log.warning("could not send a restore confirmation e-mail")
        raise DomainError(_l("The confirmation e-mail could not be sent. Please try again later.")) from None


# ---------------------------------------------------------------- the link


def _refuse(req: RestoreRequest, reason: str, user: Optional[CrmUser], message: Any) -> DomainError:
    """Audit a refused link in its own transaction (it must outlive the refusal) and return the error."""
    with tenant_scope(req.company_id), transaction():
        audit.record(audit.RESTORE_REFUSED, None, actor=user, company_id=req.company_id, details=reason)
    return DomainError(message)


def request_from_link(token: str, user: Optional[CrmUser] = None) -> RestoreRequest:
    """The awaiting request a confirmation link belongs to; DomainError (and an audit entry) otherwise.

    ``user`` is the signed-in person, if any: a person of another company is refused. Not a unit of
    work: a refusal is audited in its own transaction, which must not be undone by the refusal.
    """
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise DomainError(LINK_INVALID) from None
    if not isinstance(data, dict) or not {"r", "c", "n"} <= set(data):
        raise DomainError(LINK_INVALID)
    try:
        req_id, company_id, nonce = int(data["r"]), int(data["c"]), str(data["n"])
    except (TypeError, ValueError):
        raise DomainError(LINK_INVALID) from None
    with all_tenants():  # the link may be opened signed out; the token names the company, checked below
        req = db.session.get(RestoreRequest, req_id)
    if req is None or req.company_id != company_id or not req.confirm_digest \
            or not hmac.compare_digest(req.confirm_digest, _digest(nonce)):
        raise DomainError(LINK_INVALID)
    if user is not None and user.company_id != req.company_id:
        raise _refuse(req, "foreign", user, LINK_FOREIGN)
    if req.confirmed_at is not None:
        raise _refuse(req, "used", user, LINK_USED)
    if effective_status(req) == "expired":
        raise _refuse(req, "expired", user, LINK_EXPIRED)
    if req.status != "awaiting":
        raise _refuse(req, "closed", user, LINK_CLOSED)
    return req


def link_preview(req: RestoreRequest) -> str:
    """What the confirmed request asks for, for the confirmation page."""
    with tenant_scope(req.company_id):
        return summary(trash.preview(req.deletion_id, req.company_id, sample=0))


def confirm(token: str, user: Optional[CrmUser] = None) -> RestoreRequest:
    """Confirm a request through its link (once); from now on the platform admin sees it.

    The link check audits refusals in their own transaction (see ``request_from_link``); the
    confirmation itself is one unit of work; the platform admin is e-mailed after it is committed.
    """
    req = request_from_link(token, user)
    _mark_confirmed(req, user)
    db.session.refresh(req)
    _tell_platform_admin(req)
    return req


@unit_of_work
def _mark_confirmed(req: RestoreRequest, user: Optional[CrmUser]) -> None:
    """Mark an awaiting request confirmed (once: a second click is refused) and audit it."""
    with tenant_scope(req.company_id), transaction():  # flushed inside the scope: the guard checks there
        done = db.session.execute(
            update(RestoreRequest)
            .where(RestoreRequest.id == req.id, RestoreRequest.status == "awaiting",
                   RestoreRequest.confirmed_at.is_(None))
            .values(status="pending", confirmed_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            raise DomainError(LINK_USED)
        requester = db.session.get(CrmUser, req.requested_by_id) if req.requested_by_id else None
        audit.record(audit.RESTORE_CONFIRMED, requester, actor=user, company_id=req.company_id,
                     details=req.deletion_id[:8])


def _tell_platform_admin(req: RestoreRequest) -> None:
    admin = current_app.config.get("PLATFORM_ADMIN_EMAIL")
    if not (admin and mail_configured()):
        return
    company = db.session.get(Company, req.company_id)
    try:
        send_mail(
            admin,
            gettext("Restore request from %(company)s", company=company.name),
            gettext("The owner of %(company)s (NIP %(nip)s) confirmed a request to restore deleted data.",
                    company=company.name, nip=company.nip),
        )
    except OSError:
        log.warning("could not e-mail the platform admin about a restore request")


@unit_of_work
def expire_unconfirmed(now: Optional[dt.datetime] = None) -> int:
    """Scheduled: mark requests not confirmed in time as expired (every company); return how many."""
    now = now or clock.utcnow()
    with all_tenants(), transaction():  # a platform job over every company; flushed inside the opt-out
        rows = list(db.session.execute(
            select(RestoreRequest).where(RestoreRequest.status == "awaiting", RestoreRequest.expires_at <= now)
        ).scalars())
        for req in rows:
            req.status, req.handled_at = "expired", now
            audit.record(audit.RESTORE_EXPIRED, None, company_id=req.company_id, details=req.deletion_id[:8])
    return len(rows)


# ---------------------------------------------------------------- the owner's list


def company_requests(company_id: int, limit: int = 50) -> list[RestoreRequest]:
    """The restore requests of the company in scope (``company_id``), newest first."""
    return list(db.session.execute(
        select(RestoreRequest)
        .order_by(RestoreRequest.created_at.desc(), RestoreRequest.id.desc()).limit(limit)
    ).scalars())


# ---------------------------------------------------------------- the platform admin


def pending_by_company() -> dict[int, int]:
    """Platform admin: how many confirmed requests each company has."""
    with all_tenants():  # the admin's count over every company
        rows = db.session.execute(
            select(RestoreRequest.company_id, func.count()).where(RestoreRequest.status == "pending")
            .group_by(RestoreRequest.company_id)
        ).all()
    return dict(rows)


def companies_to_restore(q: str = "", limit: int = 100) -> tuple[list[Company], dict[int, int]]:
    """Platform admin: companies matching ``q`` (name or NIP), those with confirmed requests first."""
    stmt = select(Company).order_by(Company.name).limit(limit)
    if q:
        stmt = stmt.where((Company.name.ilike(f"%{q}%")) | (Company.nip == q.replace("-", "")))
    companies = list(db.session.execute(stmt).scalars())
    pending = pending_by_company()
    companies.sort(key=lambda c: (-pending.get(c.id, 0), c.name))
    return companies, pending


def admin_requests(company_id: int) -> list[RestoreRequest]:
    """Platform admin: a company's confirmed requests, open ones first (unconfirmed ones stay hidden)."""
    with all_tenants():  # the admin acts on another company: the company is named explicitly
        rows = list(db.session.execute(
            select(RestoreRequest).where(RestoreRequest.company_id == company_id,
                                         RestoreRequest.confirmed_at.is_not(None))
            .order_by(RestoreRequest.created_at.desc(), RestoreRequest.id.desc())
        ).scalars())
    return sorted(rows, key=lambda r: r.status != "pending")


def admin_request(request_id: int) -> Optional[RestoreRequest]:
    """Platform admin: one confirmed request, or None (unknown or not confirmed)."""
    with all_tenants():  # the admin acts on another company's request
        req = db.session.get(RestoreRequest, request_id)
    return req if req is not None and req.confirmed_at is not None else None


def company_account(company_id: int) -> Optional[Company]:
    """Platform admin: one company account, or None (``Company`` is the tenant itself, not filtered)."""
    return db.session.get(Company, company_id)


def requester_names(company_id: int) -> dict[int, str]:
    """Platform admin: the names of a company's people, for "who deleted" and "who asked"."""
    with all_tenants():  # the admin reads another company's people; the service filters by company_id
        return employees.user_names(company_id)


def admin_preview(req: RestoreRequest) -> trash.Preview:
    """Platform admin: what the request would bring back and what clashes with data created since."""
    with tenant_scope(req.company_id):
        return trash.preview(req.deletion_id, req.company_id)


def _open_for_admin(request_id: int) -> RestoreRequest:
    req = admin_request(request_id)
    if req is None:
        raise DomainError(_l("There is no such confirmed restore request."))
    if req.status != "pending":
        raise DomainError(_l("This restore request is already closed."))
    return req


def restore_on_request(admin: CrmUser, request_id: int, on_conflict: Optional[str] = None,
                       expected: Optional[str] = None) -> trash.RestoreResult:
    """Restore a confirmed request as previewed; the owner is told by e-mail, the audit log shows it."""
    req, result = _restore_request(admin, request_id, on_conflict, expected)
    _tell_owner(req, gettext("Your deleted data is back in Klientela"), gettext(
        "Hello,\n\nthe administrator of the system restored the deleted data you asked for "
        "(records restored: %(restored)s, left in the trash because they clash with data created since: "
        "%(skipped)s, restored under a changed name: %(renamed)s).\n\nYou will find it in Klientela again.",
        restored=result.restored, skipped=result.skipped, renamed=result.renamed))
    return result


@unit_of_work
def _restore_request(admin: CrmUser, request_id: int, on_conflict: Optional[str],
                     expected: Optional[str]) -> tuple[RestoreRequest, trash.RestoreResult]:
    """The restore itself, checks included, as one unit (the e-mail goes after the commit)."""
    req = _open_for_admin(request_id)
    with tenant_scope(req.company_id), transaction():  # flushed inside the scope: the guard checks there
        result = trash.restore_rows(req.deletion_id, req.company_id, on_conflict, expected)
        if result.restored == 0:
            raise DomainError(_l("There is nothing to restore for this operation."))
        req.status, req.handled_at = "done", clock.utcnow()
        req.outcome = f"{result.restored},{result.skipped},{result.renamed}"
        audit.record(audit.DATA_RESTORED, None, actor=admin, company_id=req.company_id, details=req.outcome)
    return req, result


def reject(admin: CrmUser, request_id: int) -> RestoreRequest:
    """The platform admin cancels a confirmed request; nothing is restored, the owner is told."""
    req = _reject_request(admin, request_id)
    _tell_owner(req, gettext("Your restore request in Klientela was cancelled"), gettext(
        "Hello,\n\nthe administrator of the system cancelled your request to restore deleted data; "
        "nothing was changed. You can ask again in the Trash tab while the data is there (30 days)."))
    return req


@unit_of_work
def _reject_request(admin: CrmUser, request_id: int) -> RestoreRequest:
    """Close a confirmed request as rejected and audit it (the e-mail goes after the commit)."""
    req = _open_for_admin(request_id)
    with tenant_scope(req.company_id), transaction():  # flushed inside the scope: the guard checks there
        req.status, req.handled_at = "rejected", clock.utcnow()
        audit.record(audit.RESTORE_REJECTED, None, actor=admin, company_id=req.company_id,
                     details=req.deletion_id[:8])
    return req


def _tell_owner(req: RestoreRequest, subject: str, body: str) -> None:
    if not (req.sent_to and mail_configured()):
        return
    try:
        send_mail(req.sent_to, subject, body)
    except OSError:
        log.warning("could not e-mail the owner about a restore request")
