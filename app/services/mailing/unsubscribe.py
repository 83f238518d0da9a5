"""Unsubscribing by the signed link of a campaign message (no login; also RFC 8058 one-click POST).

The token names the company and the recipient row; it is read inside ``tenant_scope`` of that
company only, so a token of one company can never touch another company's addresses. The
unsubscribe is recorded as a suppressed address of the company and as the withdrawal of the
consent on every contact of the company with that address; every later campaign skips it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.models.campaigns import CampaignRecipient, MailSuppression
from app.models.company import Company
from app.models.contacts import Contact
from app.models.mixins import utcnow
from app.security.tenancy import tenant_scope
from app.services import DomainError, unit_of_work
from app.services.mailing import sender


@dataclass(frozen=True)
class Subscription:
    """What the unsubscribe page shows: the address and the company that sends to it."""

    email: str
    company_name: str
    unsubscribed: bool


def _row(company_id: int, recipient_id: int) -> CampaignRecipient | None:
    """The recipient row of the token's company (the tenancy hook hides another company's)."""
    return db.session.scalars(select(CampaignRecipient).where(CampaignRecipient.id == recipient_id)).first()


def _is_unsubscribed(email: str) -> bool:
    return db.session.scalar(select(MailSuppression.id).where(
        MailSuppression.email == email, MailSuppression.reason == "unsubscribed")) is not None


def lookup(token: str) -> Subscription | None:
    """The address and company of a valid token, None for an invalid one."""
    ids = sender.read_token(token)
    if ids is None:
        return None
    company_id, recipient_id = ids
    with tenant_scope(company_id):
        row = _row(company_id, recipient_id)
        if row is None:
            return None
        company = db.session.get(Company, company_id)
        return Subscription(row.email, company.name if company else "", _is_unsubscribed(row.email))


def unsubscribe(token: str) -> Subscription:
    """Record the unsubscribe of the token's address (idempotent); DomainError for an invalid token."""
    ids = sender.read_token(token)
    if ids is None:
        raise DomainError(_l("This unsubscribe link is not valid."))
    company_id, recipient_id = ids
    with tenant_scope(company_id):
        return _unsubscribe(company_id, recipient_id)


@unit_of_work
def _unsubscribe(company_id: int, recipient_id: int) -> Subscription:
    row = _row(company_id, recipient_id)
    if row is None:
        raise DomainError(_l("This unsubscribe link is not valid."))
    now = utcnow()
    if not _is_unsubscribed(row.email):
        db.session.add(MailSuppression(company_id=company_id, email=row.email, reason="unsubscribed",
                                       campaign_id=row.campaign_id, created_at=now))
    db.session.execute(
        update(Contact).where(func.lower(Contact.email) == row.email, Contact.consent_withdrawn_at.is_(None))
        .values(consent_withdrawn_at=now).execution_options(synchronize_session=False))
    if row.status in ("sent", "queued"):
        row.status = "unsubscribed"
    company = db.session.get(Company, company_id)
    return Subscription(row.email, company.name if company else "", True)
