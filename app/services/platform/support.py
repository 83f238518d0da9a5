"""Support requests ("Zgłoś modyfikację lub problem"): a company user sends one, the platform admin answers.

A new request is e-mailed to the support address (``CRM_SUPPORT_EMAIL``) and listed in the
platform admin's panel; the admin sets its status (nowe, w analizie, zaplanowane, zrobione,
odrzucone) and writes an answer, which is dated and e-mailed to the person who asked. Company
users see their company's requests with the answers. The admin's screens work across companies
(``all_tenants()``, the named opt-out for the platform admin); everything else is tenant-filtered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.integrations.mail import mail_configured, send_later
from app.integrations.storage import new_key
from app.models.company import Company
from app.models.mixins import utcnow
from app.models.support import SUPPORT_KINDS, SUPPORT_STATUSES, SupportRequest
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, FieldChecks, formats, unit_of_work
from app.services.inputs import check_text
from app.services.work.attachments import get_storage, safe_filename, sniff_mime

KIND_LABELS: dict[str, Any] = {"modification": _l("Modification request"), "problem": _l("Problem")}
STATUS_LABELS: dict[str, Any] = {
    "new": _l("New"), "analysis": _l("In analysis"), "planned": _l("Planned"), "done": _l("Done"),
    "rejected": _l("Rejected"),
}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
SUBJECT_MAX = 200
DESCRIPTION_MAX = 10_000
ANSWER_MAX = 10_000
#: the admin's list shows at most this many requests per status filter
LIST_LIMIT = 500


def max_bytes() -> int:
    """The size limit of a request's attachment (SUPPORT_MAX_BYTES, 5 MB by default)."""
    return int(current_app.config.get("SUPPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class RequestData:
    """What the form sends: kind, subject, description and an optional file."""

    kind: str | None
    subject: str | None
    description: str | None
    file_name: str | None = None
    file_data: bytes | None = None


def _text(value: str | None, field: str, limit: int, missing: Any) -> str:
    clean = (value or "").strip()
    if not clean:
        raise DomainError(missing, field)
    check_text(clean, field)
    if len(clean) > limit:
        raise DomainError(_l("At most %(n)s characters.", n=limit), field)
    return clean


def _file(data: RequestData) -> tuple[str, str] | None:
    """The checked name and type of the attachment, or None when there is none."""
    if not data.file_data:
        return None
    limit = max_bytes()
    if len(data.file_data) > limit:
        raise DomainError(_l("The file is too large (at most %(size)s).", size=formats.file_size(limit)), "attachment")
    name = safe_filename(data.file_name)
    mime = sniff_mime(data.file_data, name)
    if mime is None:
        raise DomainError(
            _l("This file type is not allowed. Upload a PDF, an image, an office document or a text file."),
            "attachment",
        )
    return name, mime


def _checked(data: RequestData) -> tuple[str, str, str, tuple[str, str] | None]:
    checks = FieldChecks()
    kind = data.kind if data.kind in SUPPORT_KINDS else None
    if kind is None:
        checks.refuse(_l("Choose whether it is a modification request or a problem."), "kind")
    subject = checks.run(_text, data.subject, "subject", SUBJECT_MAX, _l("Enter a subject."))
    description = checks.run(_text, data.description, "description", DESCRIPTION_MAX, _l("Describe the request."))
    upload = checks.run(_file, data)
    checks.raise_if_any()
    return str(kind), subject, description, upload


@unit_of_work
def _save(company_id: int, user: CrmUser, kind: str, subject: str, description: str,
          upload: tuple[str, str] | None, data: bytes | None, key: str) -> SupportRequest:
    row = SupportRequest(company_id=company_id, user_id=user.id, kind=kind, subject=subject,
                         description=description, status="new")
    if upload is not None and data is not None:
        row.attachment_key = key
        row.attachment_name, row.attachment_mime = upload
        row.attachment_size = len(data)
        get_storage().put(row.attachment_key, data)
    db.session.add(row)
    db.session.flush()
    return row


def create_request(company_id: int, user: CrmUser, data: RequestData, link: str) -> SupportRequest:
    """Save a request (and its file), then e-mail it to the support address with a link to the admin's page."""
    kind, subject, description, upload = _checked(data)
    key = new_key(company_id, "support")
    try:
        row = _save(company_id, user, kind, subject, description, upload, data.file_data, key)
    except Exception:
        get_storage().delete(key)  # bytes whose row was not saved
        raise
    _mail_support(row, user, link)
    return row


def _mail_support(row: SupportRequest, user: CrmUser, link: str) -> None:
    """E-mail a new request to CRM_SUPPORT_EMAIL (nothing when no address or no mail is configured)."""
    to = current_app.config.get("CRM_SUPPORT_EMAIL")
    if not to or not mail_configured():
        return
    company = user.company.name if user.company else ""
    with force_locale("pl"):
        subject = gettext("[%(kind)s] %(subject)s", kind=KIND_LABELS[row.kind], subject=row.subject)
        body = gettext(
            "A new request from %(user)s (%(email)s), company %(company)s.\n\nKind: %(kind)s\nSubject: %(subject)s\n\n"
            "%(description)s\n\nAnswer it in the administration panel: %(link)s",
            user=str(user), email=user.email, company=company, kind=KIND_LABELS[row.kind], subject=row.subject,
            description=row.description, link=link,
        )
    send_later(to, subject, body)


def list_requests(company_id: int) -> list[SupportRequest]:
    """The company's requests, newest first (the tenancy hook keeps other companies' out)."""
    stmt = (select(SupportRequest).options(joinedload(SupportRequest.user))
            .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc()).limit(LIST_LIMIT))
    return list(db.session.scalars(stmt))


def get_request(company_id: int, request_id: int) -> SupportRequest | None:
    """One request of the company, or None (another company's is None too)."""
    return db.session.scalar(select(SupportRequest).where(SupportRequest.id == request_id))


def read_attachment(row: SupportRequest) -> bytes | None:
    """The bytes of the request's file, or None when it has none."""
    return get_storage().get(row.attachment_key) if row.attachment_key else None


# --- the platform admin ---------------------------------------------------------------------------


def admin_list(status: str | None = None) -> list[SupportRequest]:
    """Every company's requests (optionally of one status), new ones first, then newest."""
    with all_tenants():
        stmt = select(SupportRequest).options(joinedload(SupportRequest.user))
        if status in SUPPORT_STATUSES:
            stmt = stmt.where(SupportRequest.status == status)
        stmt = stmt.order_by((SupportRequest.status != "new"), SupportRequest.created_at.desc(),
                             SupportRequest.id.desc()).limit(LIST_LIMIT)
        return list(db.session.scalars(stmt))


def admin_get(request_id: int) -> SupportRequest | None:
    """One request of any company, for the platform admin."""
    with all_tenants():
        stmt = select(SupportRequest).options(joinedload(SupportRequest.user)).where(SupportRequest.id == request_id)
        return db.session.scalar(stmt)


def company_name(row: SupportRequest) -> str:
    """The name of the company that sent a request."""
    company = db.session.get(Company, row.company_id)
    return company.name if company else "—"


@unit_of_work
def _answer(admin: CrmUser, request_id: int, status: str, answer: str) -> SupportRequest:
    row = admin_get(request_id)
    if row is None:
        raise DomainError(_l("This request no longer exists."))
    with tenant_scope(row.company_id):
        row.status = status
        row.answer = answer or None
        row.answered_at = utcnow()
        row.answered_by_id = admin.id
        db.session.flush()
    return row


def answer_request(admin: CrmUser, request_id: int, status: str | None, answer: str | None, link: str) -> SupportRequest:
    """Set the status and the answer (dated); e-mail the answer to the person who asked."""
    checks = FieldChecks()
    if status not in SUPPORT_STATUSES:
        checks.refuse(_l("Choose a status."), "status")
    clean = (answer or "").strip()
    checks.run(check_text, clean, "answer")
    if len(clean) > ANSWER_MAX:
        checks.refuse(_l("At most %(n)s characters.", n=ANSWER_MAX), "answer")
    if status in ("done", "rejected", "planned") and not clean:
        checks.refuse(_l("Write the answer the customer will read."), "answer")
    checks.raise_if_any()
    row = _answer(admin, request_id, str(status), clean)
    user = row.user
    if user is not None and user.email and mail_configured():
        with force_locale("pl"):
            subject = gettext("Answer to your request: %(subject)s", subject=row.subject)
            body = gettext(
                "Status of your request \"%(subject)s\": %(status)s.\n\n%(answer)s\n\nAll your requests: %(link)s",
                subject=row.subject, status=STATUS_LABELS[row.status], answer=row.answer or "—", link=link,
            )
        send_later(user.email, subject, body)
    return row
