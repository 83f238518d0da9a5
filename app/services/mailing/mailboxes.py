"""The company's mailboxes ("Mailing" settings tab): presets, add, edit, delete, the list.

A new mailbox, and one whose server, login or password changed, is inactive until verified
(``app/services/mailing/verification.py``). The password is encrypted at rest, never returned to a
form, never logged and never put in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models.mailing import SECURITY_KINDS, Mailbox
from app.models.users import CrmUser
from app.services import DomainError, FieldChecks, secrets, trash, unit_of_work
from app.services import validators as v
from app.services.accounts import audit
from app.services.mailing import transport
from app.services.platform import plans


@dataclass(frozen=True)
class Preset:
    """The servers of a public mail provider, filled into the form by one choice."""

    label: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    imap_host: str
    imap_port: int
    imap_security: str
    note: Any = None


#: the providers the FAQ names, with their SMTP and IMAP servers (SSL/TLS on the standard ports)
PRESETS: dict[str, Preset] = {
    "wp": Preset("WP (wp.pl)", "smtp.wp.pl", 465, "ssl", "imap.wp.pl", 993, "ssl",
                 _l("In WP Poczta switch on access by POP3/IMAP/SMTP programs (Ustawienia > Konto).")),
    "onet": Preset("Onet (onet.pl)", "smtp.poczta.onet.pl", 465, "ssl", "imap.poczta.onet.pl", 993, "ssl",
                   _l("In Onet Poczta switch on access by e-mail programs (Ustawienia > Konto > Programy pocztowe).")),
    "o2": Preset("o2 (o2.pl)", "poczta.o2.pl", 465, "ssl", "poczta.o2.pl", 993, "ssl",
                 _l("In o2 Poczta switch on access by POP3/IMAP/SMTP programs (Ustawienia > Konto).")),
    "gmail": Preset("Gmail", "smtp.gmail.com", 465, "ssl", "imap.gmail.com", 993, "ssl",
                    _l("Gmail needs an app password (Google account > Security > 2-Step Verification > "
                       "App passwords); your usual Google password will be refused. IMAP must be on in Gmail's settings.")),
}

SECURITY_LABELS: dict[str, Any] = {"ssl": _l("SSL/TLS"), "starttls": _l("STARTTLS")}

STATE_LABELS: dict[str, Any] = {
    "unverified": _l("Inactive: not verified"),
    "verifying": _l("Verifying…"),
    "active": _l("Active for sending"),
    "failed": _l("Inactive: verification failed"),
}

#: the Polish message of every stable error code of a mailbox connection
ERROR_MESSAGES: dict[str, Any] = {
    transport.UNKNOWN_HOST: _l("The server name is unknown. Check the SMTP and IMAP server addresses."),
    transport.CONNECTION_REFUSED: _l("The server refused the connection. Check the server address, the port and the security setting."),
    transport.TIMED_OUT: _l("The server did not answer in time. Check the server address and the port."),
    transport.TLS_ERROR: _l("A secure (TLS) connection could not be made: the server's certificate is not trusted or the security setting does not match the port."),
    transport.SMTP_LOGIN_REFUSED: _l("The SMTP server refused the login or password. Check them (Gmail needs an app password) and whether SMTP access is switched on at your provider."),
    transport.SENDING_REFUSED: _l("The SMTP server accepted the login but refused to send the message from this address. Check that the address belongs to this mailbox."),
    transport.RECIPIENT_REFUSED: _l("The SMTP server refused the recipient's address. Check the address."),
    transport.TEMPORARY_FAILURE: _l("The SMTP server cannot take the message just now. Try again in a few minutes."),
    transport.IMAP_LOGIN_REFUSED: _l("The IMAP server refused the login or password. Check whether IMAP access is switched on at your provider."),
    transport.IMAP_UNAVAILABLE: _l("The IMAP server is not available. Check the IMAP server address and port, and whether IMAP access is switched on at your provider."),
    transport.NOT_FOUND: _l("The test message did not arrive in the mailbox in time. Check that the address is the address of this mailbox and try again."),
    transport.PASSWORD_UNREADABLE: _l("The saved password cannot be read. Enter the password again."),
    transport.UNEXPECTED: _l("The mail server answered in an unexpected way. Try again later."),
}

PORT_RANGE = (1, 65535)
RATE_RANGE = (1, 1000)
DAILY_CAP_RANGE = (1, 100000)


def error_message(code: str | None) -> str:
    """The Polish message of a stored error code ("" for none)."""
    if not code:
        return ""
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES[transport.UNEXPECTED]))


def failure_message(box: Mailbox) -> str:
    """Why the mailbox's last verification failed, in Polish ("" unless it failed)."""
    return error_message(box.last_error) if box.state == "failed" else ""


@dataclass
class MailboxData:
    """The "Dodaj nowy adres" / edit form; an empty password on edit keeps the saved one."""

    email: Any
    sender_name: Any
    smtp_host: Any
    smtp_port: Any
    smtp_security: Any
    imap_host: Any
    imap_port: Any
    imap_security: Any
    login: Any
    password: Any = ""
    rate_per_minute: Any = 30
    daily_cap: Any = 500


def list_mailboxes(company_id: int) -> list[Mailbox]:
    """The company's mailboxes, by address."""
    return list(db.session.scalars(select(Mailbox).order_by(Mailbox.email, Mailbox.id)))


def active_mailboxes(company_id: int) -> list[Mailbox]:
    """The company's verified mailboxes (the ones documents and campaigns may be sent from)."""
    return [m for m in list_mailboxes(company_id) if m.is_active]


def get_mailbox(company_id: int, mailbox_id: int) -> Mailbox | None:
    """One mailbox of the company, or None (missing, deleted or another company's)."""
    return db.session.get(Mailbox, mailbox_id)


def require_mailbox(company_id: int, mailbox_id: int) -> Mailbox:
    """One mailbox of the company, or a DomainError."""
    box = get_mailbox(company_id, mailbox_id)
    if box is None:
        raise DomainError(_l("This mailbox does not exist."))
    return box


def mailbox_count(company_id: int) -> int:
    """How many mailboxes the company keeps (not those in the trash): what the plan's limit counts."""
    return int(db.session.scalar(
        select(func.count(Mailbox.id)).where(Mailbox.company_id == company_id, Mailbox.deleted_at.is_(None))
    ) or 0)


plans.register_counter("mailboxes", mailbox_count)


def _check_mailbox_limit(company_id: int) -> None:
    """The plan's limit of mailboxes per company (DomainError naming the limit and the plan that lifts it)."""
    plans.check_limit(company_id, "mailboxes", current=mailbox_count(company_id))


_HOST_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


def _host(value: Any, field: str) -> str:
    text = str(value or "").strip().lower().rstrip(".")
    if not text:
        raise DomainError(_l("Enter the server address."), field)
    labels = text.split(".")
    if len(text) > 253 or not set(text) <= _HOST_CHARS or any(not (0 < len(p) <= 63) for p in labels) \
            or any(p.startswith("-") or p.endswith("-") for p in labels):
        raise DomainError(_l("Enter a server name such as smtp.example.pl."), field)
    return text


def _number(value: Any, field: str, bounds: tuple[int, int]) -> int:
    text = str(value if value is not None else "").strip()
    low, high = bounds
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not low <= int(text) <= high:
        raise DomainError(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field)
    return int(text)


def _security(value: Any, field: str) -> str:
    if value not in SECURITY_KINDS:
        raise DomainError(_l("Choose SSL/TLS or STARTTLS."), field)
    return str(value)


def _password(value: Any, required: bool) -> str | None:
    text = str(value or "")
    if not text:
        if required:
            raise DomainError(_l("Enter the mailbox password."), "password")
        return None
    if len(text) > 500 or any(ord(ch) < 32 for ch in text):
        raise DomainError(_l("The password is too long or contains characters that cannot be used."), "password")
    return text


def _clean(data: MailboxData, new: bool) -> dict[str, Any]:
    """Every field checked at once; the clean values (password in clear or None)."""
    checks = FieldChecks()
    clean = {
        "email": checks.run(v.clean_email, data.email, "email", required=True),
        "sender_name": checks.run(v.clean_text, data.sender_name, "sender_name", _l("Sender name"), 120),
        "smtp_host": checks.run(_host, data.smtp_host, "smtp_host"),
        "smtp_port": checks.run(_number, data.smtp_port, "smtp_port", PORT_RANGE),
        "smtp_security": checks.run(_security, data.smtp_security, "smtp_security"),
        "imap_host": checks.run(_host, data.imap_host, "imap_host"),
        "imap_port": checks.run(_number, data.imap_port, "imap_port", PORT_RANGE),
        "imap_security": checks.run(_security, data.imap_security, "imap_security"),
        "login": checks.run(v.clean_text, data.login, "login", _l("User name (login)"), 254, required=True),
        "password": checks.run(_password, data.password, new),
        "rate_per_minute": checks.run(_number, data.rate_per_minute, "rate_per_minute", RATE_RANGE),
        "daily_cap": checks.run(_number, data.daily_cap, "daily_cap", DAILY_CAP_RANGE),
    }
    checks.raise_if_any()
    return clean


def _check_unique(email: str, mailbox_id: int | None) -> None:
    other = db.session.scalars(select(Mailbox.id).where(Mailbox.email == email)).first()
    if other is not None and other != mailbox_id:
        raise DomainError(_l("This address is already on the list."), "email")


#: fields whose change makes a verified mailbox inactive again
_CONNECTION_FIELDS = ("email", "smtp_host", "smtp_port", "smtp_security", "imap_host", "imap_port", "imap_security", "login")


@unit_of_work
def create_mailbox(company_id: int, user: CrmUser, data: MailboxData) -> Mailbox:
    """"Dodaj nowy adres": save a mailbox, inactive until verified."""
    _check_mailbox_limit(company_id)
    clean = _clean(data, new=True)
    _check_unique(clean["email"], None)
    password = clean.pop("password")
    box = Mailbox(company_id=company_id, password_encrypted=secrets.encrypt(password), state="unverified", **clean)
    db.session.add(box)
    db.session.flush()
    audit.record(audit.MAILBOX_ADDED, actor=user, company_id=company_id, details=box.email)
    return box


@unit_of_work
def update_mailbox(company_id: int, user: CrmUser, mailbox_id: int, data: MailboxData) -> Mailbox:
    """Save the edit form; a changed server, login or password makes the mailbox inactive again."""
    box = require_mailbox(company_id, mailbox_id)
    clean = _clean(data, new=False)
    _check_unique(clean["email"], box.id)
    password = clean.pop("password")
    changed = [f for f in _CONNECTION_FIELDS if getattr(box, f) != clean[f]]
    if password is not None and password != transport.mailbox_password_or_none(box):
        changed.append("password")
        box.password_encrypted = secrets.encrypt(password)
    for name, value in clean.items():
        setattr(box, name, value)
    if changed:
        box.state, box.verified_at, box.last_error, box.verify_token, box.verify_step = "unverified", None, None, None, None
        # field names only: the values (the password above all) never go to the audit log
        audit.record(audit.MAILBOX_CHANGED, actor=user, company_id=company_id, details=f"{box.email}: {', '.join(changed)}")
    return box


@unit_of_work
def delete_mailbox(company_id: int, user: CrmUser, mailbox_id: int) -> str:
    """Move a mailbox to the trash; its address."""
    box = require_mailbox(company_id, mailbox_id)
    trash.soft_delete(box, user.id)
    audit.record(audit.MAILBOX_DELETED, actor=user, company_id=company_id, details=box.email)
    return box.email


def form_values(box: Mailbox) -> dict[str, Any]:
    """A mailbox's values for the edit form (never the password)."""
    return {
        "email": box.email, "sender_name": box.sender_name or "", "smtp_host": box.smtp_host,
        "smtp_port": box.smtp_port, "smtp_security": box.smtp_security, "imap_host": box.imap_host,
        "imap_port": box.imap_port, "imap_security": box.imap_security, "login": box.login,
        "rate_per_minute": box.rate_per_minute, "daily_cap": box.daily_cap,
    }
