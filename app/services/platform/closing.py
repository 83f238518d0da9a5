"""Closing a company account: a 30-day grace period the owner can undo, then the company's data is deleted.

The owner confirms with the password; the company is marked with the day its data will be
deleted (``delete_after``). Until then everything keeps working, every page shows the date and
the owner can press "Anuluj zamknięcie konta" (the export of all data stays available). The
scheduler's daily job (``purge_due``) then deletes the company's rows from every table that
carries ``company_id`` (trash included), its people and their sessions, and its stored files; the
company row stays as a record without data (name replaced, NIP and addresses emptied,
``purged_at`` set), and the audit log keeps one event saying that the data was deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app
from flask_appbuilder import Model
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, delete, select, update

from app.extensions import db
from app.integrations.mail import mail_configured, send_later
from app.models.binders import Attachment
from app.models.company import Company
from app.models.mixins import utcnow
from app.models.security import AuditEvent
from app.models.support import CompanyExport, SupportRequest
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import DomainError, formats, unit_of_work
from app.services.accounts import audit, lockout
from app.services.work.attachments import get_storage

log = logging.getLogger(__name__)

GRACE_DAYS = 30
ACCOUNT_CLOSING = "account_closing"
ACCOUNT_CLOSING_CANCELLED = "account_closing_cancelled"
ACCOUNT_DATA_DELETED = "account_data_deleted"
audit.EVENT_LABELS.update({
    ACCOUNT_CLOSING: _l("Account closing requested"),
    ACCOUNT_CLOSING_CANCELLED: _l("Account closing cancelled"),
    ACCOUNT_DATA_DELETED: _l("Company data deleted after the account was closed"),
})
#: tables whose rows of a closed company stay (the record of the company and of the deletion)
KEPT_TABLES = frozenset({"company", "audit_event", "ab_user"})


def grace_days() -> int:
    """Days between closing the account and deleting its data (ACCOUNT_CLOSING_GRACE_DAYS, 30)."""
    return int(current_app.config.get("ACCOUNT_CLOSING_GRACE_DAYS", GRACE_DAYS))


def _company(company_id: int) -> Company:
    company = db.session.get(Company, company_id)
    if company is None or company.purged_at is not None:
        raise DomainError(_l("This company account no longer exists."))
    return company


def close_account(company_id: int, owner: CrmUser, password: str | None, today: dt.date | None = None) -> Company:
    """The owner closes the account (password confirmed): data is deleted after the grace period."""
    if not owner.is_owner or owner.company_id != company_id:
        raise DomainError(_l("Only the owner can close the company account."))
    lockout.check_current_password(owner, password)
    company = _mark_closing(company_id, owner, today or dt.date.today())
    _mail_owner(company, owner)
    return company


@unit_of_work
def _mark_closing(company_id: int, owner: CrmUser, today: dt.date) -> Company:
    company = _company(company_id)
    if company.is_closing:
        raise DomainError(_l("The account is already being closed."))
    company.closing_requested_at = utcnow()
    company.delete_after = today + dt.timedelta(days=grace_days())
    audit.record(ACCOUNT_CLOSING, actor=owner, company_id=company_id, details=company.delete_after.isoformat())
    return company


def _mail_owner(company: Company, owner: CrmUser) -> None:
    """Tell the owner the date and how to undo it."""
    if not mail_configured() or not owner.email or company.delete_after is None:
        return
    with force_locale("pl"):
        subject = gettext("The account of %(company)s will be closed", company=company.name)
        body = gettext(
            "You closed the account of %(company)s. All its data will be deleted on %(date)s.\n\n"
            "Until then you can sign in, download the export of all data (Settings, Data export) and undo "
            "the closing with \"Cancel the account closing\".",
            company=company.name, date=formats.local_date(company.delete_after),
        )
    send_later(owner.email, subject, body)


@unit_of_work
def cancel_closing(company_id: int, owner: CrmUser) -> Company:
    """Undo the closing during the grace period."""
    if not owner.is_owner or owner.company_id != company_id:
        raise DomainError(_l("Only the owner can cancel the account closing."))
    company = _company(company_id)
    if not company.is_closing:
        raise DomainError(_l("The account is not being closed."))
    company.closing_requested_at = None
    company.delete_after = None
    audit.record(ACCOUNT_CLOSING_CANCELLED, actor=owner, company_id=company_id)
    return company


# --- deleting the data (the scheduler's daily job) -----------------------------------------------------


def _company_tables() -> list[Table]:
    """Every table with a company_id column, children before parents (the order of deletion)."""
    return [t for t in reversed(Model.metadata.sorted_tables)
            if "company_id" in t.c and t.name not in KEPT_TABLES]


def _storage_keys(company_id: int) -> list[str]:
    """Every stored file of the company: attachments (trash included), exports, support files."""
    keys: list[str] = []
    for column, model in ((Attachment.storage_key, Attachment), (CompanyExport.storage_key, CompanyExport),
                          (SupportRequest.attachment_key, SupportRequest)):
        stmt = select(column).where(model.company_id == company_id, column.is_not(None))
        keys += list(db.session.scalars(stmt.execution_options(include_deleted=True)))
    return keys


def _run(stmt: Any) -> int:
    """Execute a bulk statement over every row, trash included; the number of rows it touched."""
    return int(db.session.execute(stmt.execution_options(include_deleted=True)).rowcount or 0)


def _delete_rows(company_id: int) -> int:
    """Delete the company's rows from every table; return how many rows went."""
    tables = _company_tables()
    total = 0
    for table in tables:  # self-references first (e.g. a correction points at its invoice)
        for fk in table.foreign_keys:
            if fk.column.table is table and fk.parent.nullable:
                _run(update(table).where(table.c.company_id == company_id).values({fk.parent.name: None}))
    meta = Model.metadata.tables
    links = (("contact_tag", "contact_id", "contact"), ("task_assignee", "task_id", "task"))
    for link_name, column, parent in links:
        if link_name in meta and parent in meta:
            link, owner = meta[link_name], meta[parent]
            ids = select(owner.c.id).where(owner.c.company_id == company_id)
            total += _run(delete(link).where(link.c[column].in_(ids)))
    for table in tables:
        total += _run(delete(table).where(table.c.company_id == company_id))
    users = meta["ab_user"]
    user_ids = select(users.c.id).where(users.c.company_id == company_id)
    for name in ("user_session", "ab_user_role"):
        if name in meta:
            total += _run(delete(meta[name]).where(meta[name].c.user_id.in_(user_ids)))
    for name, columns in (("audit_event", ("user_id", "actor_id")),):
        for col in columns:
            _run(update(meta[name]).where(meta[name].c[col].in_(user_ids)).values({col: None}))
    total += _run(delete(users).where(users.c.company_id == company_id))
    return total


def _tombstone(company: Company) -> None:
    """Keep the company row as a record without data."""
    company.name = gettext("Deleted account #%(id)s", id=company.id)
    for attr in ("nip", "regon", "street", "postal_code", "city", "iban", "email", "signup_email", "phone",
                 "logo", "logo_mime"):
        setattr(company, attr, None)
    company.active = False
    company.purged_at = utcnow()


@unit_of_work
def _purge_rows(company_id: int) -> tuple[int, list[str]]:
    company = db.session.get(Company, company_id)
    if company is None or company.purged_at is not None:
        return 0, []
    keys = _storage_keys(company_id)
    count = _delete_rows(company_id)
    # the company's audit log held people's IP addresses: one record of the deletion stays
    _run(delete(AuditEvent).where(AuditEvent.company_id == company_id))
    _tombstone(company)
    audit.record(ACCOUNT_DATA_DELETED, company_id=company_id, details=str(count),
                 client=audit.Client())
    return count, keys


def purge_company(company_id: int) -> int:
    """Delete all data of one company (a platform job: ``all_tenants()``); return the rows deleted."""
    with all_tenants():
        count, keys = _purge_rows(company_id)
    storage = get_storage()
    for key in keys:  # after the commit: a failed delete of rows leaves the files in place
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 (a file left behind is logged; the data rows are gone)
            log.exception("file %s of closed company %s could not be deleted", key, company_id)
    log.info("closed company %s: %s rows and %s files deleted", company_id, count, len(keys))
    return count


def purge_due(today: dt.date | None = None) -> int:
    """Delete the data of every company whose grace period has ended; return how many companies."""
    today = today or dt.date.today()
    with all_tenants():
        ids = list(db.session.scalars(select(Company.id).where(
            Company.delete_after.is_not(None), Company.delete_after <= today, Company.purged_at.is_(None))))
    for company_id in ids:
        purge_company(company_id)
    return len(ids)

