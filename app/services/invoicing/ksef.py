"""KSeF: the company's settings (token encrypted at rest), the connection check, the send queue.

Nothing here talks to KSeF inside a web request except :func:`check_connection` (bounded by
``KSEF_CHECK_TIMEOUT``). Sending goes through ``KsefOutbox``: :func:`enqueue` writes a row, the
scheduler's :func:`send_due` claims due rows with a lease (``all_tenants()``), records the attempt
before every call and works on each row inside ``tenant_scope(company_id)`` with that company's own
token. A row that already has a session recorded is first reconciled by the invoice hash
(``session_invoices``), so a sender killed in the middle of a send never makes KSeF issue a second
KSeF number for the same invoice. The KSeF token is never logged, shown or put in the audit log.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.extensions import db
from app.integrations import ksef as ksef_api
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.invoicing import KSEF_ENVIRONMENTS, Invoice, KsefOutbox, KsefSettings
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, unit_of_work
from app.services.accounts import employees
from app.services.accounts import two_factor as secrets
from app.services.invoicing import invoices  # invoices imports this module too: module imports only

log = logging.getLogger(__name__)

ENVIRONMENT_LABELS = {"test": _l("Test"), "demo": _l("Demo"), "production": _l("Production")}

#: Polish text of the KSeF status of an invoice
KSEF_STATUS_LABELS = {
    "none": _l("Not sent"),
    "queued": _l("In the queue"),
    "sending": _l("Sending"),
    "accepted": _l("Accepted by KSeF"),
    "rejected": _l("Rejected"),
}

#: the common KSeF invoice status codes (open-api.json, SessionInvoiceStatus) in Polish
REJECTION_CODES = {
    405: _l("Processing cancelled with an error"),
    410: _l("Wrong scope of permissions: the seller's NIP is not the NIP of the KSeF token"),
    415: _l("Sending an invoice with an attachment is not allowed"),
    430: _l("Error verifying the invoice file"),
    435: _l("The invoice file could not be decrypted"),
    440: _l("Duplicate invoice: KSeF already has an invoice with this number"),
    450: _l("The invoice does not match the FA(3) structure (semantic verification error)"),
    500: _l("Unknown KSeF error"),
    550: _l("Operation cancelled by KSeF"),
}

#: how long a claim holds a row; a row whose lease ran out is taken again (and reconciled first)
LEASE_SECONDS = 300


# ----------------------------------------------------------------------------- settings


@dataclass
class SettingsData:
    """What the owner saves in the "KSeF" tab; ``token`` None or "" keeps the saved one."""

    environment: str
    token: Optional[str]
    auto_send: bool


def get_settings(company_id: int) -> Optional[KsefSettings]:
    """The company's KSeF settings, or None before the first save."""
    return db.session.execute(select(KsefSettings).where(KsefSettings.company_id == company_id)).scalar()


def has_token(company_id: int) -> bool:
    """True when a KSeF token is saved for the company."""
    settings = get_settings(company_id)
    return bool(settings and settings.token_encrypted)


@unit_of_work
def save_settings(company_id: int, data: SettingsData) -> KsefSettings:
    """Save environment, auto-send and (when given) a new token, encrypted with the 2FA key."""
    if data.environment not in KSEF_ENVIRONMENTS:
        raise DomainError(_l("Choose the KSeF environment."), "environment")
    token = (data.token or "").strip()
    if token and (len(token) > 500 or any(ord(ch) < 32 for ch in token)):
        raise DomainError(_l("This is not a KSeF token: paste it exactly as the KSeF application shows it."),
                          "token")
    settings = get_settings(company_id)
    if settings is None:
        settings = KsefSettings(company_id=company_id)
        db.session.add(settings)
    if not token and not settings.token_encrypted and data.auto_send:
        raise DomainError(_l("Save the company's KSeF token first: without it nothing can be sent."), "token")
    settings.environment = data.environment
    settings.auto_send = bool(data.auto_send)
    if token:
        settings.token_encrypted = secrets.encrypt(token).encode("ascii")
        settings.token_saved_at = utcnow()
        settings.last_check_at = settings.last_check_ok = settings.last_check_message = None
    return settings


def _token(settings: KsefSettings) -> str:
    """The decrypted KSeF token (never logged); a token the key cannot read asks for a new one."""
    try:
        return secrets.decrypt(settings.token_encrypted.decode("ascii"))
    except DomainError:
        raise DomainError(_l('The saved KSeF token cannot be read: save the token again in the "KSeF" tab.')) from None


def base_url(settings: KsefSettings) -> str:
    """KSeF API URL: ``KSEF_BASE_URL`` when configured (the local fake), else the environment's."""
    return ksef_api.ksef_base_url(settings.environment, current_app.config.get("KSEF_BASE_URL") or None)


def _company_nip(company_id: int) -> str:
    """The NIP from "Dane firmy" (refused with a pointer to the settings when missing)."""
    company = db.session.get(Company, company_id)
    nip = (company.nip if company else "") or ""
    if not nip:
        raise DomainError(_l('Enter the company\'s NIP in "Company data" first: KSeF identifies the company by it.'))
    return nip


def make_client(company_id: int, *, timeout: Optional[float] = None, poll_timeout: Optional[float] = None
                ) -> ksef_api.KsefClient:
    """A KSeF client for the company's NIP and token (DomainError when either is missing)."""
    settings = get_settings(company_id)
    if settings is None or not settings.token_encrypted:
        raise DomainError(_l('Save the company\'s KSeF token in the "KSeF" settings tab first.'))
    nip = _company_nip(company_id)
    cfg = current_app.config
    read_timeout = timeout if timeout is not None else float(cfg.get("KSEF_TIMEOUT", 30))
    return ksef_api.KsefClient(
        base_url(settings), nip, _token(settings), timeout=read_timeout, connect_timeout=min(5.0, read_timeout),
        poll_interval=float(cfg.get("KSEF_POLL_INTERVAL", 0.5)),
        poll_timeout=poll_timeout if poll_timeout is not None else float(cfg.get("KSEF_POLL_TIMEOUT", 60)),
    )


def explain(error: Exception) -> str:
    """A Polish sentence for a KSeF failure (never containing a secret)."""
    if isinstance(error, DomainError):
        return str(error)
    if isinstance(error, ksef_api.KsefRateLimited):
        return gettext("KSeF limits the number of requests: try again in %(seconds)s s.",
                       seconds=error.retry_after_seconds)
    if isinstance(error, ksef_api.KsefAuthError):
        return gettext("KSeF did not accept the token: it is unknown, revoked or has no permission to send "
                       "invoices for this NIP. Generate a new token in the KSeF application and save it here.")
    if isinstance(error, ksef_api.KsefUnavailable):
        return gettext("KSeF cannot be reached right now (no connection, time-out or a server error). "
                       "Try again later.")
    if isinstance(error, ksef_api.KsefRejected):
        return rejection_text(error.code, error.description, error.details)
    if isinstance(error, ksef_api.KsefError):
        detail = " ".join(str(x) for x in [error.code, error.description] if x)
        return gettext("KSeF answered with an error: %(detail)s", detail=detail or gettext("no details"))
    return gettext("Unexpected error while talking to KSeF.")


def rejection_text(code: Optional[int], description: str, details: list[str] | None = None) -> str:
    """KSeF's reason in Polish: our text for the code, then KSeF's own code, description and details."""
    ours = REJECTION_CODES.get(code or 0)
    original = " ".join(filter(None, [f"[{code}]" if code else "", description, "; ".join(details or [])]))
    if ours:
        return f"{ours}. {gettext('KSeF')}: {original}"
    return f"{gettext('KSeF')}: {original}"


@dataclass
class CheckResult:
    """Outcome of "Sprawdź połączenie"."""

    ok: bool
    message: str


@unit_of_work
def check_connection(company_id: int) -> CheckResult:
    """Authenticate with KSeF (short time-out: this runs in a request) and remember the outcome."""
    settings = get_settings(company_id)
    timeout = float(current_app.config.get("KSEF_CHECK_TIMEOUT", 5))
    try:
        client = make_client(company_id, timeout=timeout, poll_timeout=timeout)
        client.authenticate()
    except (DomainError, ksef_api.KsefError) as err:
        result = CheckResult(False, explain(err))
    except Exception:  # noqa: BLE001 (a check must answer, never fail the page)
        log.exception("KSeF connection check failed unexpectedly for company %s", company_id)
        result = CheckResult(False, gettext("Unexpected error while talking to KSeF."))
    else:
        result = CheckResult(True, gettext("Connection to KSeF works: the token was accepted."))
    if settings is not None:
        settings.last_check_at = utcnow()
        settings.last_check_ok = result.ok
        settings.last_check_message = result.message[:500]
    return result


# ----------------------------------------------------------------------------- queue


def _invoice(company_id: int, invoice_id: int) -> Optional[Invoice]:
    """The company's invoice (the tenancy hook hides another company's)."""
    return db.session.execute(
        select(Invoice).where(Invoice.id == invoice_id, Invoice.company_id == company_id)).scalar()


def can_send(invoice: Invoice) -> bool:
    """True when "Send to KSeF" makes sense for the invoice (issued VAT invoice or correction)."""
    return (invoice.status == "issued" and invoice.kind != "proforma" and bool(invoice.xml)
            and invoice.ksef_status in ("none", "rejected"))


@unit_of_work
def enqueue(company_id: int, invoice_id: int) -> None:
    """Put an issued invoice in the KSeF queue (the scheduler sends it); refuses what cannot go."""
    invoice = _invoice(company_id, invoice_id)
    if invoice is None:
        raise DomainError(_l("Invoice not found."))
    if invoice.kind == "proforma":
        raise DomainError(_l("A proforma is not an invoice: it is not sent to KSeF."))
    if invoice.status == "draft":
        raise DomainError(_l("Issue the invoice first: a draft is not sent to KSeF."))
    if invoice.status == "cancelled":
        raise DomainError(_l("A cancelled invoice is not sent to KSeF."))
    if invoice.ksef_status == "accepted":
        raise DomainError(_l("KSeF has already accepted this invoice; only a correction can change it."))
    if invoice.ksef_status in ("queued", "sending"):
        raise DomainError(_l("This invoice is already waiting in the KSeF queue."))
    if not invoice.xml:
        raise DomainError(_l("The invoice has no FA(3) XML to send."))
    if not has_token(company_id):
        raise DomainError(_l('Save the company\'s KSeF token in the "KSeF" settings tab first.'))
    digest = invoice.xml_sha256 or hashlib.sha256(invoice.xml).hexdigest()
    invoice.ksef_status = "queued"
    invoice.ksef_error = None
    db.session.add(KsefOutbox(company_id=company_id, invoice_id=invoice.id, status="queued",
                              next_attempt_at=utcnow(), xml_sha256=digest))


def outbox_row(company_id: int, invoice_id: int) -> Optional[KsefOutbox]:
    """The newest queue row of an invoice (what the invoice page shows about the queue)."""
    return db.session.execute(
        select(KsefOutbox).where(KsefOutbox.company_id == company_id, KsefOutbox.invoice_id == invoice_id)
        .order_by(KsefOutbox.id.desc()).limit(1)).scalar()


def queue(company_id: int) -> list[tuple[KsefOutbox, Invoice]]:
    """"Kolejka KSeF": rows not accepted yet (waiting, being sent, rejected), newest first."""
    rows = db.session.execute(
        select(KsefOutbox, Invoice).join(Invoice, Invoice.id == KsefOutbox.invoice_id)
        .where(KsefOutbox.company_id == company_id, KsefOutbox.status != "done")
        .order_by(KsefOutbox.id.desc()).limit(500)).all()
    return [(r[0], r[1]) for r in rows]


def upo(company_id: int, invoice_id: int) -> Optional[tuple[str, bytes]]:
    """(file name, UPO XML) of an accepted invoice, or None."""
    invoice = _invoice(company_id, invoice_id)
    if invoice is None or not invoice.upo_xml:
        return None
    name = (invoice.number or str(invoice.id)).replace("/", "_")
    return f"UPO_{name}.xml", invoice.upo_xml


# ----------------------------------------------------------------------------- sender (scheduler)


def _b64_hash(hex_digest: str) -> str:
    """KSeF's invoiceHash (Base64 SHA-256) from our hex SHA-256."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _backoff(attempts: int, retry_after: int = 0) -> dt.timedelta:
    """Exponential back-off (KSEF_RETRY_BASE_SECONDS doubled per attempt, at most an hour), >= Retry-After."""
    base = float(current_app.config.get("KSEF_RETRY_BASE_SECONDS", 30))
    seconds = min(base * (2 ** max(attempts - 1, 0)), float(current_app.config.get("KSEF_RETRY_MAX_SECONDS", 3600)))
    return dt.timedelta(seconds=max(seconds, float(retry_after)))


def claim_due(now: Optional[dt.datetime] = None, limit: int = 20) -> list[tuple[int, int]]:
    """Claim due rows of every company with a lease; returns (row id, company id) pairs.

    Due: ``queued`` with ``next_attempt_at <= now``, or ``sending`` whose lease ran out (the sender
    died). ``FOR UPDATE SKIP LOCKED`` on PostgreSQL keeps two senders off the same row.
    """
    now = now or utcnow()
    lease = dt.timedelta(seconds=int(current_app.config.get("KSEF_LEASE_SECONDS", LEASE_SECONDS)))
    with all_tenants():
        try:
            stmt = (select(KsefOutbox)
                    .where(or_(
                        (KsefOutbox.status == "queued") & (KsefOutbox.next_attempt_at <= now),
                        (KsefOutbox.status == "sending") & (KsefOutbox.locked_until < now)))
                    .order_by(KsefOutbox.next_attempt_at, KsefOutbox.id).limit(limit)
                    # the one cross-company query of the sender: it only claims, the work runs per company
                    .execution_options(all_tenants=True))
            if db.engine.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = db.session.execute(stmt).scalars().all()
            claimed = []
            for row in rows:
                row.status = "sending"
                row.locked_until = now + lease
                row.attempts += 1
                claimed.append((row.id, row.company_id))
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return claimed


def send_due(now: Optional[dt.datetime] = None) -> int:
    """The scheduler job: claim due rows and send each with its own company's token; returns how many."""
    claimed = claim_due(now)
    clients: dict[int, ksef_api.KsefClient] = {}
    for row_id, company_id in claimed:
        with tenant_scope(company_id):
            try:
                _process(row_id, company_id, clients)
            except Exception:  # noqa: BLE001 (one bad row must not stop the others)
                db.session.rollback()
                log.exception("KSeF outbox row %s failed unexpectedly", row_id)
                _retry_later(row_id, company_id, gettext("Unexpected error while talking to KSeF."))
            finally:
                db.session.remove()
    return len(claimed)


def _load(row_id: int, company_id: int) -> tuple[KsefOutbox, Invoice]:
    """The claimed row and its invoice, read fresh."""
    row = db.session.get(KsefOutbox, row_id)
    assert row is not None and row.company_id == company_id
    invoice = db.session.get(Invoice, row.invoice_id)
    assert invoice is not None
    return row, invoice


def _process(row_id: int, company_id: int, clients: dict[int, ksef_api.KsefClient]) -> None:
    """Send (or reconcile) one claimed row inside its company's scope."""
    row, invoice = _load(row_id, company_id)
    if invoice.ksef_status == "accepted" and invoice.upo_xml:
        row.status, row.locked_until = "done", None
        db.session.commit()
        return
    invoice.ksef_status = "sending"
    db.session.commit()
    try:
        client = clients.get(company_id) or make_client(company_id)
        clients[company_id] = client
        if row.session_reference:
            if _reconcile(client, row_id, company_id):
                return
        _send(client, row_id, company_id)
    except ksef_api.KsefRejected as err:
        _reject(row_id, company_id, err)
    except ksef_api.KsefRateLimited as err:
        _retry_later(row_id, company_id, explain(err), err.retry_after_seconds)
    except (DomainError, ksef_api.KsefError) as err:
        _retry_later(row_id, company_id, explain(err))


def _send(client: ksef_api.KsefClient, row_id: int, company_id: int) -> None:
    """Open a session, record it, send the stored bytes exactly, wait for the status, finish."""
    session = client.open_online_session()
    row, invoice = _load(row_id, company_id)
    # the attempt is recorded before the invoice leaves: after a crash we reconcile in this session
    row.session_reference = session.reference_number
    row.invoice_reference = None
    invoice.ksef_session_reference = session.reference_number
    db.session.commit()
    reference = client.send_invoice(session, invoice.xml)
    row, invoice = _load(row_id, company_id)
    row.invoice_reference = reference
    invoice.ksef_reference = reference
    db.session.commit()
    status = client.wait_for_invoice(session.reference_number, reference)
    _accept(client, row_id, company_id, session.reference_number, status, close=True)


def _reconcile(client: ksef_api.KsefClient, row_id: int, company_id: int) -> bool:
    """A previous attempt opened a session: does KSeF already hold our invoice? True when settled."""
    row, invoice = _load(row_id, company_id)
    session_ref = row.session_reference or ""
    wanted = _b64_hash(row.xml_sha256)
    try:
        found = [s for s in client.session_invoices(session_ref) if s.invoice_hash == wanted]
    except ksef_api.KsefAuthError:
        raise
    except ksef_api.KsefError as err:
        if isinstance(err, (ksef_api.KsefUnavailable, ksef_api.KsefRateLimited)):
            raise
        found = []  # the session is unknown to KSeF (expired long ago): nothing was stored there
    accepted = next((s for s in found if s.accepted), None)
    pending = next((s for s in found if s.pending), None)
    if accepted is None and pending is not None:
        accepted = client.wait_for_invoice(session_ref, pending.reference_number)
    if accepted is not None:
        log.info("KSeF outbox row %s reconciled: invoice already in session %s", row_id, session_ref)
        _accept(client, row_id, company_id, session_ref, accepted, close=True)
        return True
    if found:  # only rejected copies there: a new send would be rejected the same way
        last = found[-1]
        raise ksef_api.KsefRejected(last.code, last.description, last.details, last.extensions)
    row.session_reference = None
    row.invoice_reference = None
    invoice.ksef_session_reference = None
    db.session.commit()
    return False


def _accept(client: ksef_api.KsefClient, row_id: int, company_id: int, session_ref: str,
            status: ksef_api.InvoiceStatus, close: bool) -> None:
    """Store the KSeF number at once, then close the session, fetch the UPO and refresh the PDF."""
    row, invoice = _load(row_id, company_id)
    if not invoice.ksef_number:
        invoice.ksef_number = status.ksef_number
        invoice.ksef_accepted_at = utcnow()
    invoice.ksef_reference = status.reference_number
    invoice.ksef_session_reference = session_ref
    invoice.ksef_status = "accepted"
    invoice.ksef_error = None
    row.invoice_reference = status.reference_number
    row.last_error = None
    db.session.commit()
    if close:
        try:
            client.close_session(session_ref)
        except (ksef_api.KsefUnavailable, ksef_api.KsefRateLimited):
            raise
        except ksef_api.KsefError as err:  # already closed by an earlier attempt
            log.info("KSeF session %s not closed again: %s", session_ref, err.code)
    pages = client.wait_for_session_upo(session_ref)
    row, invoice = _load(row_id, company_id)
    invoice.upo_xml = pages[0] if len(pages) == 1 else b"\n".join(pages)
    row.status, row.locked_until = "done", None
    db.session.commit()
    log.info("KSeF accepted invoice %s of company %s as %s", invoice.id, company_id, invoice.ksef_number)
    _store_pdf(company_id, invoice.id)


def _store_pdf(company_id: int, invoice_id: int) -> None:
    """Regenerate the invoice PDF with the KSeF number and the KOD I QR code."""
    try:
        invoices.store_pdf(company_id, invoice_id)
    except Exception:  # noqa: BLE001 (the acceptance is stored; the PDF can be made again)
        db.session.rollback()
        log.exception("PDF of invoice %s not regenerated after KSeF acceptance", invoice_id)


def _reject(row_id: int, company_id: int, err: ksef_api.KsefRejected) -> None:
    """KSeF refused the invoice: show its reason in Polish; the invoice can be fixed and sent again."""
    db.session.rollback()
    row, invoice = _load(row_id, company_id)
    reason = rejection_text(err.code, err.description, err.details)
    invoice.ksef_status = "rejected"
    invoice.ksef_error = reason
    row.status, row.locked_until, row.last_error = "failed", None, reason
    db.session.commit()
    log.info("KSeF rejected invoice %s of company %s: %s", invoice.id, company_id, err.code)


def _retry_later(row_id: int, company_id: int, message: str, retry_after: int = 0) -> None:
    """KSeF could not be used now: back to the queue with back-off; tell the owner once after N attempts."""
    db.session.rollback()
    row, invoice = _load(row_id, company_id)
    row.status = "queued"
    row.locked_until = None
    row.next_attempt_at = utcnow() + _backoff(row.attempts, retry_after)
    row.last_error = message
    if invoice.ksef_status != "accepted":
        invoice.ksef_status = "queued"
    db.session.commit()
    log.warning("KSeF outbox row %s (company %s) waits until %s after attempt %s", row_id, company_id,
                row.next_attempt_at, row.attempts)
    if row.attempts == int(current_app.config.get("KSEF_NOTIFY_AFTER_ATTEMPTS", 5)):
        _tell_owners(company_id, invoice, message)


def _tell_owners(company_id: int, invoice: Invoice, message: str) -> None:
    """E-mail the owners once that an invoice keeps failing to reach KSeF."""
    if not mail_configured():
        return
    subject = gettext("Invoice %(number)s is still waiting to be sent to KSeF", number=invoice.number or "")
    body = gettext("Klientela has tried to send invoice %(number)s to KSeF several times without success. "
                   "The last problem: %(message)s\nIt stays in the KSeF queue and will be retried; check the "
                   "KSeF settings and the queue in Klientela.", number=invoice.number or "", message=message)
    for person in employees.active_people(company_id):
        if person.is_owner and person.email:
            try:
                send_mail(person.email, subject, body)
            except OSError:
                log.exception("KSeF queue notice to the owner of company %s failed", company_id)


def status_view(company_id: int, invoice: Invoice) -> dict[str, Any]:
    """What the invoice page shows about KSeF: label, queue row, whether it can be sent, UPO."""
    row = outbox_row(company_id, invoice.id)
    return {
        "label": KSEF_STATUS_LABELS.get(invoice.ksef_status, invoice.ksef_status),
        "row": row,
        "can_send": can_send(invoice),
        "has_upo": bool(invoice.upo_xml),
    }
