"""The daily licence check (scheduler job "licence_expiry"): companies whose licence has ended.

Blocking is not done here: every request of an expired company is already sent to the licence page
(``Company.licence_active`` in create_app). This job finds the active companies whose licence
ended, logs each one for the operator and tells their owners once per expiry (a notification on
the bell and an e-mail); a renewed and again expired licence is told again.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask_babel import gettext
from sqlalchemy import select

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.notifications import Notification
from app.security.tenancy import all_tenants, tenant_scope
from app.services import transaction, unit_of_work
from app.services.accounts import employees
from app.services.work.notifications import add_notification

log = logging.getLogger(__name__)

LICENCE_URL = "/licence/"


def expired_companies(today: dt.date | None = None) -> list[Company]:
    """Active companies whose licence no longer covers ``today`` (the same rule as the request check)."""
    today = today or dt.date.today()
    with all_tenants():  # a platform job over every company
        return list(
            db.session.execute(
                select(Company)
                .where(Company.active.is_(True), Company.licence_valid_until < today)
                .order_by(Company.id)
            ).scalars()
        )


def _already_told(company: Company, user_id: int) -> bool:
    """Whether the person was told about this expiry already (runs in the company's scope)."""
    since = dt.datetime.combine(company.licence_valid_until, dt.time.min)
    return (
        db.session.execute(
            select(Notification.id).where(
                Notification.user_id == user_id,
                Notification.url == LICENCE_URL,
                Notification.created_at >= since,
            )
        ).first()
        is not None
    )


def _tell_owners(company: Company) -> int:
    """Notify the company's owners that the licence ended (once per expiry); e-mail them after the commit."""
    mails = _notify_owners(company)
    if mails and mail_configured():
        for to, subject, body in mails:
            try:
                send_mail(to, subject, body)
            except OSError:
                log.exception("licence notice to %s failed", to)
    return len(mails)


@unit_of_work
def _notify_owners(company: Company) -> list[tuple[str, str, str]]:
    """Bell notifications for the owners not told yet; return the e-mails to send (to, subject, body)."""
    mails: list[tuple[str, str, str]] = []
    with tenant_scope(company.id):
        with transaction():  # flushed inside the company's scope: the tenancy guard checks there
            title = gettext("Your Klientela licence has ended")
            body = gettext(
                "The licence of %(company)s ended on %(date)s. Extend it to keep working with your data.",
                company=company.name,
                date=company.licence_valid_until.strftime("%d.%m.%Y"),
            )
            for owner in employees.active_people(company.id):
                if not owner.is_owner or _already_told(company, owner.id):
                    continue
                add_notification(company.id, owner.id, title, body, LICENCE_URL)
                if owner.email:
                    mails.append((owner.email, title, body))
    return mails


def check_licences(today: dt.date | None = None) -> list[int]:
    """Find companies whose licence has ended, log them and tell their owners once; return their ids.

    Each company is its own unit of work: one company's failure is rolled back and logged, and the
    check goes on with the others.
    """
    expired = expired_companies(today)
    ids = [c.id for c in expired]
    for company in expired:
        log.warning(
            "licence expired: company %s (%s, NIP %s) ended on %s",
            company.id, company.name, company.nip, company.licence_valid_until.isoformat(),
        )
        try:
            _tell_owners(company)
        except Exception:  # one company must not stop the check of the others
            log.exception("licence notice for company %s failed", company.id)
    log.info("licence check: %s expired companies", len(ids))
    return ids
