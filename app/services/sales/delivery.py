"""Sending a sales document by e-mail: from a verified company mailbox that the user chooses.

Company documents never go through the platform's SMTP server (that one sends only the platform's
own messages: invitations, password resets, notifications). The mailbox, the message and its record
on the document are handled by ``app/services/mailing/documents.py``.
"""

from __future__ import annotations

from app.models.mailing import DocumentEmail
from app.services.mailing import documents

#: (file name, content, MIME type) of one attachment
MailAttachment = tuple[str, bytes, str]
DocumentMail = documents.DocumentMail


def deliver(
    company_id: int, user_id: int | None, kind: str, document_id: int, mail: DocumentMail,
    attachments: list[MailAttachment],
) -> DocumentEmail:
    """Send a document from the chosen company mailbox; the recorded message (its sender, recipient, time)."""
    return documents.send_document(company_id, user_id, kind, document_id, mail, attachments)
