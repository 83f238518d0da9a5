"""Talking to a company mailbox's servers: logged-in SMTP and IMAP sessions, messages, error codes.

Certificates are always verified. ``CRM_MAIL_CA_FILE`` adds a CA file to the system's trusted
certificates (a company's own mail server with a private CA, the test servers); nothing turns
verification off.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from cryptography.fernet import InvalidToken
from flask import current_app
from flask_babel import lazy_gettext as _l
from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from app.models.mailing import Mailbox
from app.services import DomainError
from app.services import secrets as secrets_at_rest

#: seconds a connection, a login or one command may take (unless ``CRM_MAIL_TIMEOUT`` says otherwise)
DEFAULT_TIMEOUT = 20.0

#: (file name, content, MIME type) of one attachment
Attachment = tuple[str, bytes, str]

# Stable error codes of mailbox connections (stored in Mailbox.last_error, shown in Polish by the views)
UNKNOWN_HOST = "unknown_host"
CONNECTION_REFUSED = "connection_refused"
TIMED_OUT = "timed_out"
TLS_ERROR = "tls_error"
SMTP_LOGIN_REFUSED = "smtp_login_refused"
SENDING_REFUSED = "sending_refused"
RECIPIENT_REFUSED = "recipient_refused"
TEMPORARY_FAILURE = "temporary_failure"
IMAP_LOGIN_REFUSED = "imap_login_refused"
IMAP_UNAVAILABLE = "imap_unavailable"
NOT_FOUND = "message_not_found"
PASSWORD_UNREADABLE = "password_unreadable"
UNEXPECTED = "unexpected"


class TlsNotOffered(OSError):
    """The server does not offer STARTTLS: the connection is refused rather than continued in clear."""


def tls_context() -> ssl.SSLContext:
    """A verifying TLS context: the system's CAs plus ``CRM_MAIL_CA_FILE`` when set."""
    ctx = ssl.create_default_context()
    ca_file = current_app.config.get("CRM_MAIL_CA_FILE")
    if ca_file:
        ctx.load_verify_locations(cafile=str(ca_file))
    return ctx


def mail_timeout() -> float:
    """Seconds a connection, a login or one command to a mailbox's server may take."""
    return float(current_app.config.get("CRM_MAIL_TIMEOUT") or DEFAULT_TIMEOUT)


def mailbox_password(mailbox: Mailbox) -> str:
    """The mailbox's password in clear (only ever passed to the mail servers)."""
    try:
        return secrets_at_rest.decrypt(mailbox.password_encrypted)
    except InvalidToken:
        raise DomainError(_l("The mailbox password cannot be read; enter it again in the mailbox form."), "password") from None


def mailbox_password_or_none(mailbox: Mailbox) -> str | None:
    """The saved password in clear, or None when it cannot be read."""
    try:
        return secrets_at_rest.decrypt(mailbox.password_encrypted)
    except InvalidToken:
        return None


def _smtp_login(smtp: smtplib.SMTP, login: str, password: str) -> None:
    """Log in; a login or password with Polish letters goes as UTF-8 AUTH PLAIN (smtplib sends ASCII only)."""
    if login.isascii() and password.isascii():
        smtp.login(login, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    token = base64.b64encode(b"\0" + login.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


@contextlib.contextmanager
def smtp_session(mailbox: Mailbox, timeout: float | None = None) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP connection to the mailbox's server (implicit TLS or STARTTLS)."""
    timeout = timeout or mail_timeout()
    password = mailbox_password(mailbox)
    ctx = tls_context()
    smtp: smtplib.SMTP
    if mailbox.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(mailbox.smtp_host, mailbox.smtp_port, timeout=timeout, context=ctx)
    else:
        smtp = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=timeout)
    try:
        if mailbox.smtp_security != "ssl":
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise TlsNotOffered("the SMTP server does not offer STARTTLS")
            smtp.starttls(context=ctx)
            smtp.ehlo()
        _smtp_login(smtp, mailbox.login, password)
        yield smtp
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()


@contextlib.contextmanager
def imap_session(mailbox: Mailbox, timeout: float | None = None) -> Iterator[IMAPClient]:
    """A logged-in IMAP connection to the mailbox's server (implicit TLS or STARTTLS)."""
    timeout = timeout or mail_timeout()
    password = mailbox_password(mailbox)
    ctx = tls_context()
    implicit = mailbox.imap_security == "ssl"
    client = IMAPClient(mailbox.imap_host, port=mailbox.imap_port, ssl=implicit, ssl_context=ctx, timeout=timeout)
    try:
        if not implicit:
            if not client.has_capability("STARTTLS"):
                raise TlsNotOffered("the IMAP server does not offer STARTTLS")
            client.starttls(ssl_context=ctx)
        if mailbox.login.isascii() and password.isascii():
            client.login(mailbox.login, password)
        else:
            client.plain_login(mailbox.login, password)  # AUTHENTICATE PLAIN carries UTF-8
        yield client
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
        with contextlib.suppress(OSError):
            client.shutdown()


def new_message(
    mailbox: Mailbox,
    to: str,
    subject: str,
    body: str,
    attachments: list[Attachment] | None = None,
    html: str | None = None,
) -> EmailMessage:
    """A message from the mailbox: From with the sender name, Date, a Message-ID of its domain."""
    msg = EmailMessage()
    msg["From"] = formataddr((mailbox.sender_name or "", mailbox.email))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=mailbox.email.rpartition("@")[2] or None)
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, data, mime in attachments or ():
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return msg


def _network_code(exc: BaseException) -> str | None:
    """The code of a network or TLS failure, or None for anything else."""
    if isinstance(exc, socket.gaierror):
        return UNKNOWN_HOST
    if isinstance(exc, ssl.SSLError | ssl.CertificateError | TlsNotOffered):
        return TLS_ERROR
    if isinstance(exc, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(exc, TimeoutError | socket.timeout):
        return TIMED_OUT
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        return CONNECTION_REFUSED
    return None


def smtp_error_code(exc: BaseException) -> str:
    """A stable code for an exception raised while connecting, logging in or sending over SMTP."""
    code = _network_code(exc)
    if code:
        return code
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return SMTP_LOGIN_REFUSED
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError) \
            and is_temporary(exc):
        return TEMPORARY_FAILURE
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return RECIPIENT_REFUSED
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return SENDING_REFUSED
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
        return CONNECTION_REFUSED
    if isinstance(exc, DomainError):
        return PASSWORD_UNREADABLE
    return UNEXPECTED


def imap_error_code(exc: BaseException) -> str:
    """A stable code for an exception raised while connecting or logging in over IMAP."""
    code = _network_code(exc)
    if code == CONNECTION_REFUSED:
        return IMAP_UNAVAILABLE  # the IMAP service is off (or not on that port)
    if code:
        return code
    if isinstance(exc, imap_errors.LoginError):
        return IMAP_LOGIN_REFUSED
    if isinstance(exc, imaplib.IMAP4.error):
        return IMAP_UNAVAILABLE
    if isinstance(exc, DomainError):
        return PASSWORD_UNREADABLE
    return UNEXPECTED


def is_temporary(exc: BaseException) -> bool:
    """True when an SMTP failure may pass on a later try (4xx replies, network trouble)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    permanent = ssl.SSLCertVerificationError | socket.gaierror | TlsNotOffered
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError) and not isinstance(exc, permanent)
