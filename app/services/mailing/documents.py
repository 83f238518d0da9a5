"""Documents (offers, orders, invoices) e-mailed from one of the company's verified mailboxes.

The user chooses the mailbox; the message goes out through that mailbox's SMTP server with the
document's PDF attached, and is recorded (when, from, to, subject) as a ``DocumentEmail`` of the
document. The platform's own SMTP server never sends company documents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.mailing import DOCUMENT_KINDS, DocumentEmail, Mailbox
from app.models.mixins import utcnow
from app.services import DomainError, FieldChecks, inputs, unit_of_work
from app.services import validators as v
from app.services.mailing import transport
from app.services.mailing.mailboxes import active_mailboxes, error_message

log = logging.getLogger(__name__)

NO_ACTIVE_MAILBOX = _l("The company has no active mailbox. Add one in Settings > Mailing and verify it with the yellow triangle.")


@dataclass
class DocumentMail:
    """The "Wyślij e-mailem" form: from which mailbox, to whom, subject and message."""

    mailbox_id: Any
    to: Any
    subject: Any
    body: Any


def mailbox_choices(company_id: int) -> list[tuple[str, str]]:
    """(id, "Name <address>") of the company's active mailboxes, for the form's select."""
    return [(str(m.id), m.from_header) for m in active_mailboxes(company_id)]


def _active_mailbox(raw: Any) -> Mailbox:
    mailbox_id = inputs.parse_id(raw, "mailbox_id", _l("Choose the mailbox to send from."))
    if mailbox_id is None:
        raise DomainError(_l("Choose the mailbox to send from."), "mailbox_id")
    box = db.session.get(Mailbox, mailbox_id)  # another company's mailbox is not found here
    if box is None or not box.is_active:
        raise DomainError(_l("Choose an active mailbox (verified in Settings > Mailing)."), "mailbox_id")
    return box


@unit_of_work
def send_document(
    company_id: int, user_id: int | None, kind: str, document_id: int, mail: DocumentMail,
    attachments: list[transport.Attachment],
) -> DocumentEmail:
    """Send a document from a verified mailbox of the company and record the message on it."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(kind)
    if not active_mailboxes(company_id):
        raise DomainError(NO_ACTIVE_MAILBOX, "mailbox_id")
    checks = FieldChecks()
    box = checks.run(_active_mailbox, mail.mailbox_id)
    to = checks.run(v.clean_email, mail.to, "to", required=True)
    subject = checks.run(v.clean_text, mail.subject, "subject", _l("Subject"), 200, required=True)
    body = checks.run(v.clean_text, mail.body, "body", _l("Message"), 10000, required=True)
    checks.raise_if_any()
    msg = transport.new_message(box, to, subject, body, attachments)
    try:
        with transport.smtp_session(box) as smtp:
            smtp.send_message(msg)
    except Exception as exc:  # every failure is shown to the user with its reason
        code = transport.smtp_error_code(exc)
        log.info("mailbox %s: %s %s not sent: %s (%s)", box.id, kind, document_id, code, type(exc).__name__)
        raise DomainError(_l("The e-mail was not sent. %(reason)s", reason=error_message(code))) from None
    row = DocumentEmail(
        company_id=company_id, document_kind=kind, document_id=document_id, mailbox_id=box.id,
        sent_by_id=user_id, sent_at=utcnow(), sender=box.email, recipient=to, subject=subject,
        message_id=str(msg["Message-ID"]), filename=attachments[0][0] if attachments else None,
    )
    db.session.add(row)
    return row


def sent_emails(company_id: int, kind: str, document_id: int) -> list[DocumentEmail]:
    """The messages that carried a document, newest first."""
    return list(db.session.scalars(
        select(DocumentEmail)
        .where(DocumentEmail.document_kind == kind, DocumentEmail.document_id == document_id)
        .order_by(DocumentEmail.sent_at.desc(), DocumentEmail.id.desc())
    ))
