"""Restoring deleted data on the owner's request: done by the platform admin, recorded in the audit log."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models.company import Company
from app.models.users import CrmUser
from app.services import DomainError, audit, trash


def restore_on_request(admin: CrmUser, company_id: int, deletion_id: str) -> int:
    """Bring back one delete operation of one company; the company's audit log shows it."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise DomainError(_l("There is no such company account."))
    restored = trash.restore(deletion_id, company_id)
    if restored == 0:
        raise DomainError(_l("There is nothing to restore for this operation."))
    audit.record_now(audit.DATA_RESTORED, None, actor=admin, company_id=company_id,
                     details=f"{restored} / {deletion_id[:8]}")
    return restored
