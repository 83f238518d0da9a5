"""What documents' pages take from the mailing domain: the sent messages of a document."""

from __future__ import annotations

from flask import current_app

from app.extensions import appbuilder
from app.models.mailing import DocumentEmail
from app.services.mailing import documents
from app.views.base import current_company_id


def document_emails(kind: str, document_id: int) -> list[DocumentEmail]:
    """Template global: the messages that carried a document, newest first."""
    return documents.sent_emails(current_company_id(), kind, document_id)


def has_mailing_tab() -> bool:
    """Template global: True when the user may open Settings > Mailing."""
    return bool(appbuilder.sm.has_access("can_list", "Mailboxes"))


def register_template_globals() -> None:
    """Make the helpers above available to every template."""
    current_app.jinja_env.globals.update(document_emails=document_emails, has_mailing_tab=has_mailing_tab)
