"""Restoring deleted data: the owner asks, the platform admin restores; both recorded."""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.mixins import utcnow
from app.models.restores import RestoreRequest
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import DomainError, audit, transaction, trash

log = logging.getLogger(__name__)


def request_restore(owner: CrmUser, deletion_id: str, note: str | None = None) -> RestoreRequest:
    """The owner asks for one delete operation of the last 30 days to be brought back."""
    company_id = owner.company_id
    if deletion_id not in {g.deletion_id for g in trash.deletion_groups(company_id)}:
        raise DomainError(_l("There is no such deleted data from the last 30 days."))
    pending = db.session.execute(
        select(RestoreRequest.id).where(
            RestoreRequest.company_id == company_id,
            RestoreRequest.deletion_id == deletion_id,
            RestoreRequest.status == "pending",
        )
    ).first()
    if pending:
        raise DomainError(_l("You have already asked for this data to be restored."))
    with transaction() as session:
        req = RestoreRequest(
            company_id=company_id, deletion_id=deletion_id, status="pending",
            note=(note or "").strip()[:2000] or None, requested_by_id=owner.id,
        )
        session.add(req)
        audit.record(audit.RESTORE_REQUESTED, owner, details=deletion_id[:8])
    _tell_platform_admin(owner)
    return req


def _tell_platform_admin(owner: CrmUser) -> None:
    admin = current_app.config.get("PLATFORM_ADMIN_EMAIL")
    if not (admin and mail_configured()):
        return
    try:
        send_mail(
            admin,
            gettext("Restore request from %(company)s", company=owner.company.name),
            gettext("%(name)s (%(email)s) asks to restore deleted data of %(company)s (NIP %(nip)s).",
                    name=str(owner), email=owner.email, company=owner.company.name, nip=owner.company.nip),
        )
    except OSError:
        log.warning("could not e-mail the platform admin about a restore request")


def company_requests(company_id: int, limit: int = 50) -> list[RestoreRequest]:
    """A company's restore requests, newest first."""
    return list(db.session.execute(
        select(RestoreRequest).where(RestoreRequest.company_id == company_id)
        .order_by(RestoreRequest.created_at.desc()).limit(limit)
    ).scalars())


def pending_by_company() -> dict[int, int]:
    """Platform admin: how many pending requests each company has."""
    with all_tenants():
        rows = db.session.execute(
            select(RestoreRequest.company_id, func.count()).where(RestoreRequest.status == "pending")
            .group_by(RestoreRequest.company_id)
        ).all()
    return dict(rows)


def companies_to_restore(q: str = "", limit: int = 100) -> tuple[list[Company], dict[int, int]]:
    """Platform admin: companies matching ``q`` (name or NIP), those with pending requests first."""
    stmt = select(Company).order_by(Company.name).limit(limit)
    if q:
        stmt = stmt.where((Company.name.ilike(f"%{q}%")) | (Company.nip == q.replace("-", "")))
    companies = list(db.session.execute(stmt).scalars())
    pending = pending_by_company()
    companies.sort(key=lambda c: (-pending.get(c.id, 0), c.name))
    return companies, pending


def pending_deletions(company_id: int) -> set[str]:
    """Platform admin: delete operations of a company its owner asked to restore."""
    with all_tenants():
        return set(db.session.execute(
            select(RestoreRequest.deletion_id).where(
                RestoreRequest.company_id == company_id, RestoreRequest.status == "pending")
        ).scalars())


def restore_on_request(admin: CrmUser, company_id: int, deletion_id: str) -> int:
    """Bring back one delete operation of one company; its request is closed, its audit log shows it."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise DomainError(_l("There is no such company account."))
    restored = trash.restore(deletion_id, company_id)
    if restored == 0:
        raise DomainError(_l("There is nothing to restore for this operation."))
    with all_tenants(), transaction():
        for req in db.session.execute(
            select(RestoreRequest).where(
                RestoreRequest.company_id == company_id, RestoreRequest.deletion_id == deletion_id,
                RestoreRequest.status == "pending")
        ).scalars():
            req.status, req.handled_at = "done", utcnow()
        audit.record(audit.DATA_RESTORED, None, actor=admin, company_id=company_id,
                     details=f"{restored} / {deletion_id[:8]}")
    return restored
