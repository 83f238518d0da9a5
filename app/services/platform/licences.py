"""Licences: the daily expiry check, the three-day notice, and the platform admin's hand changes.

Blocking is not done here: every request of an expired company is already sent to the licence page
(``Company.licence_active`` in create_app, allow-list in app/security/licence.py). The job
"licence_expiry" finds the active companies whose licence ended, logs each one for the operator and
tells their owners once per expiry (a notification on the bell and an e-mail); a renewed and again
expired licence is told again. The job "licence_notice" e-mails the owners three days before the
end, once per end date (``Company.licence_notice_for``); the owner also sees a banner meanwhile.
``change_licence`` lets the platform admin extend or shorten a licence with a reason (audit log).
"""

from __future__ import annotations

import datetime as dt
import logging

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.notifications import Notification
from app.models.security import AuditEvent
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, FieldChecks, transaction, unit_of_work
from app.services.accounts import audit, employees
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


# ---------------------------------------------------------------- three days before the end

#: the owner is warned when this many days (or fewer) are left before the last day of the licence
NOTICE_DAYS = 3


def notice_due(company: Company, today: dt.date | None = None) -> bool:
    """True while the licence ends within NOTICE_DAYS (the owner's banner; the e-mail goes once)."""
    today = today or dt.date.today()
    return company.active and 0 <= (company.licence_valid_until - today).days <= NOTICE_DAYS


def _notice_mails(company: Company) -> list[tuple[str, str, str]]:
    """The warning e-mails for the company's owners: (to, subject, body)."""
    subject = gettext("Your Klientela licence ends on %(date)s", date=company.licence_valid_until.strftime("%d.%m.%Y"))
    body = gettext(
        "The licence of %(company)s is valid until %(date)s. After that day access to the account is blocked "
        "until the subscription is paid; no data is deleted.\n\n"
        "Pay the subscription (AppLarge or AppLarge+, a month in advance) in Klientela: the gear icon, "
        "the Payments tab.",
        company=company.name,
        date=company.licence_valid_until.strftime("%d.%m.%Y"),
    )
    return [(u.email, subject, body) for u in employees.active_people(company.id) if u.is_owner and u.email]


@unit_of_work
def _mark_noticed(company_id: int, until: dt.date) -> list[tuple[str, str, str]]:
    """Record that the owners were warned about this end date; return the e-mails (none when already warned)."""
    with all_tenants():  # the company row itself, from a platform job
        company = db.session.get(Company, company_id, with_for_update=True)
        if company is None or company.licence_notice_for == until or company.licence_valid_until != until:
            return []
        company.licence_notice_for = until
    with tenant_scope(company_id):
        return _notice_mails(company)


def warn_expiring(today: dt.date | None = None) -> list[int]:
    """E-mail the owners of every company whose licence ends within three days, once per end date; their ids.

    The mark is committed before the e-mails go: a failed send is logged, never repeated the next day.
    """
    today = today or dt.date.today()
    with all_tenants():  # a platform job over every company
        due = list(
            db.session.execute(
                select(Company.id, Company.licence_valid_until)
                .where(
                    Company.active.is_(True),
                    Company.confirmed_at.is_not(None),
                    Company.licence_valid_until >= today,
                    Company.licence_valid_until <= today + dt.timedelta(days=NOTICE_DAYS),
                    (Company.licence_notice_for.is_(None)) | (Company.licence_notice_for != Company.licence_valid_until),
                )
                .order_by(Company.id)
            )
        )
    warned = []
    for company_id, until in due:
        try:
            mails = _mark_noticed(company_id, until)
        except Exception:  # one company must not stop the others
            log.exception("licence notice for company %s failed", company_id)
            continue
        if not mails:
            continue
        warned.append(company_id)
        if not mail_configured():
            continue
        for to, subject, body in mails:
            try:
                send_mail(to, subject, body)
            except OSError:
                log.exception("licence notice to %s failed", to)
    log.info("licence notice: %s companies warned", len(warned))
    return warned


# ---------------------------------------------------------------- the platform admin changes a licence by hand

#: how far a licence may be set by hand, in days from today (either way)
MAX_CHANGE_DAYS = 3660


def _new_end(value: dt.date | None, today: dt.date) -> dt.date:
    if value is None:
        raise DomainError(_l("Enter the new last day of the licence."), "valid_until")
    if abs((value - today).days) > MAX_CHANGE_DAYS:
        raise DomainError(_l("Choose a date within ten years from today."), "valid_until")
    return value


def _reason(value: str | None) -> str:
    text = " ".join((value or "").split())
    if len(text) < 5:
        raise DomainError(_l("Give the reason for the change (at least 5 characters)."), "reason")
    if len(text) > 200:
        raise DomainError(_l("The reason can have at most 200 characters."), "reason")
    return text


@unit_of_work
def change_licence(admin: CrmUser, company_id: int, valid_until: dt.date | None, reason: str | None,
                   today: dt.date | None = None) -> Company:
    """Extend or shorten a company's licence by hand (the new last day), with a reason, in the audit log.

    A licence set to a day before today blocks the company at once; one set to today or later unblocks it.
    """
    today = today or dt.date.today()
    checks = FieldChecks()
    new_end = checks.run(_new_end, valid_until, today)
    text = checks.run(_reason, reason)
    checks.raise_if_any()
    with all_tenants():  # the platform admin acts on another company's account
        company = db.session.get(Company, company_id)
        if company is None:
            raise DomainError(_l("This company account does not exist."))
        old_end = company.licence_valid_until
        if new_end == old_end:
            raise DomainError(_l("The licence already ends on this day."), "valid_until")
        company.licence_valid_until = new_end
        audit.record(audit.LICENCE_CHANGED, actor=admin, company_id=company.id,
                     details=f"{old_end.isoformat()} -> {new_end.isoformat()}: {text}")
    log.info("licence of company %s changed by %s: %s -> %s", company.id, admin.id, old_end, new_end)
    return company


def licence_changes(company_id: int) -> list[AuditEvent]:
    """The hand changes of a company's licence, newest first (AuditEvent has no tenant filter: explicit)."""
    return list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.company_id == company_id, AuditEvent.event == audit.LICENCE_CHANGED)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        ).scalars()
    )
