"""Sending a sales document by e-mail: through a company mailbox when one is registered, else the platform.

The seam for company mailboxes is explicit: a mailing package calls ``register_company_mailer``
once at start-up with a function that sends from the company's verified mailbox and returns the
sender address (or None when the company has no usable mailbox). Without a registered mailer,
documents go out through the platform's SMTP server.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.integrations.mail import mail_configured, send_mail
from app.services import DomainError

#: (file name, content, MIME type) of one attachment
MailAttachment = tuple[str, bytes, str]
#: company_id, to, subject, body, attachments -> the sender address used, or None to fall back to the platform
CompanyMailer = Callable[[int, str, str, str, list[MailAttachment]], "str | None"]

_company_mailer: CompanyMailer | None = None


def register_company_mailer(mailer: CompanyMailer | None) -> None:
    """Let documents be sent from company mailboxes (None removes the mailer again)."""
    global _company_mailer
    _company_mailer = mailer


def deliver(company_id: int, to: str, subject: str, body: str, attachments: list[MailAttachment]) -> str:
    """Send through the company's mailbox if a registered mailer has one, else the platform SMTP; the sender."""
    if _company_mailer is not None:
        sender = _company_mailer(company_id, to, subject, body, attachments)
        if sender:
            return sender
    if not mail_configured():
        raise DomainError(_l("E-mail sending is not configured. Add a company mailbox in Settings > Mailing."))
    try:
        send_mail(to, subject, body, attachments=attachments)
    except OSError:
        raise DomainError(_l("The e-mail could not be sent. Try again later.")) from None
    return str(current_app.config.get("MAIL_DEFAULT_SENDER", ""))
