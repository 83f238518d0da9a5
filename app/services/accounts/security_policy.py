"""The company's security policy: the owner's switch that makes two-step sign-in mandatory."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models.security import CompanySecurity
from app.models.users import CrmUser
from app.services import DomainError, unit_of_work
from app.services.accounts import audit
from app.services.accounts.lockout import NOT_YOURS


def company_requires_2fa(company_id: int | None) -> bool:
    """True when the company's owner made two-step sign-in mandatory."""
    if company_id is None:
        return False
    row = db.session.get(CompanySecurity, company_id)
    return bool(row and row.require_2fa)


@unit_of_work
def set_company_2fa(owner: CrmUser, required: bool) -> None:
    """The owner makes two-step sign-in mandatory (or optional) for the whole company."""
    if owner.company_id is None or not owner.is_owner:
        raise DomainError(NOT_YOURS)
    row = db.session.get(CompanySecurity, owner.company_id)
    if row is None:
        row = CompanySecurity(company_id=owner.company_id, require_2fa=False)
        db.session.add(row)
    if row.require_2fa != required:
        row.require_2fa = required
        audit.record(audit.COMPANY_2FA, owner, details="on" if required else "off")


def needs_2fa_setup(user: Any) -> bool:
    """True for a signed-in user whose company requires 2FA they have not turned on yet."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and not user.two_factor_enabled
        and company_requires_2fa(user.company_id)
    )
