"""Verifying a mailbox (the yellow triangle): SMTP login, a test message to itself, found over IMAP.

``verify`` marks the mailbox "verifying" and runs ``run_verification`` outside the request
(``app/services/background.py``). Each step is saved as it starts, so the page can poll the
progress. On success the mailbox becomes active with the time of verification; a failure stores a
stable error code (``transport``) and leaves the mailbox inactive.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from imapclient import IMAPClient

from app.extensions import db
from app.models.mailing import Mailbox
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.security.tenancy import tenant_scope
from app.services import DomainError, background, unit_of_work
from app.services.mailing import transport
from app.services.mailing.mailboxes import require_mailbox

log = logging.getLogger(__name__)

JOB_KIND = "mailbox-verify"
#: the steps in order, as the progress list shows them
STEPS = ("smtp", "send", "imap", "search", "done")
STEP_LABELS: dict[str, Any] = {
    "smtp": _l("Connect and log in to the SMTP server"),
    "send": _l("Send a test message to the mailbox's own address"),
    "imap": _l("Log in to the IMAP server"),
    "search": _l("Find the test message in the mailbox"),
    "done": _l("The mailbox is active"),
}
#: seconds between two looks into the mailbox for the test message
POLL_SECONDS = 0.5


def _deadline_passed(box: Mailbox, now: dt.datetime) -> bool:
    """True when a "verifying" mailbox has been at it far longer than any verification takes (a crash)."""
    started = box.verify_started_at
    if started is None:
        return True
    budget = float(current_app.config.get("CRM_MAILBOX_VERIFY_TIMEOUT", 120)) + 4 * transport.mail_timeout() + 30
    return (now - started).total_seconds() > budget


def is_running(box: Mailbox, now: dt.datetime | None = None) -> bool:
    """True while a verification of the mailbox runs."""
    return box.state == "verifying" and not _deadline_passed(box, now or utcnow())


@unit_of_work
def start_verification(company_id: int, user: CrmUser, mailbox_id: int) -> Mailbox:
    """Mark the mailbox "verifying" with a new token (DomainError when it is already running)."""
    box = require_mailbox(company_id, mailbox_id)
    if is_running(box):
        raise DomainError(_l("The verification of this mailbox is already running."))
    box.state, box.verify_step, box.last_error = "verifying", "smtp", None
    box.verify_token = secrets.token_hex(16)
    box.verify_started_at = utcnow()
    return box


def verify(company_id: int, user: CrmUser, mailbox_id: int) -> Mailbox:
    """The yellow triangle: start the verification and run it outside the request."""
    box = start_verification(company_id, user, mailbox_id)

    def work(job_id: int) -> None:
        run_verification(company_id, job_id)

    background.start(JOB_KIND, work, box.id)
    return box


@unit_of_work
def _save(mailbox_id: int, token: str, **values: Any) -> bool:
    """Save progress of the verification with ``token``; False when the mailbox changed meanwhile."""
    box = db.session.get(Mailbox, mailbox_id)
    if box is None or box.verify_token != token or box.state != "verifying":
        return False
    for name, value in values.items():
        setattr(box, name, value)
    return True


def verification_subject(token: str) -> str:
    """The subject of the test message (the token makes it findable over IMAP)."""
    return f"Klientela: wiadomość testowa {token}"


def _send_test(box: Mailbox, token: str) -> str | None:
    """Steps "smtp" and "send"; an error code or None."""
    msg = transport.new_message(
        box, box.email, verification_subject(token),
        "Ta wiadomość sprawdza skrzynkę w Klienteli: można ją usunąć.\n"
        "This message checks the mailbox for Klientela; you may delete it.\n",
    )
    msg["X-Klientela-Verification"] = token
    try:
        with transport.smtp_session(box) as smtp:
            _save(box.id, token, verify_step="send")
            smtp.send_message(msg)
    except Exception as exc:  # every failure ends the verification with its code
        code = transport.smtp_error_code(exc)
        log.info("mailbox %s: SMTP step failed: %s (%s)", box.id, code, type(exc).__name__)
        return code
    return None


def _found(client: IMAPClient, token: str, timeout: float) -> bool:
    """Look into INBOX for the test message until ``timeout`` seconds have passed."""
    client.select_folder("INBOX", readonly=True)
    deadline = time.monotonic() + timeout
    while True:
        if client.search(["SUBJECT", token]):
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(POLL_SECONDS, left))
        client.noop()


def _find_test(box: Mailbox, token: str, timeout: float) -> str | None:
    """Steps "imap" and "search"; an error code or None."""
    _save(box.id, token, verify_step="imap")
    try:
        with transport.imap_session(box) as client:
            _save(box.id, token, verify_step="search")
            if not _found(client, token, timeout):
                return transport.NOT_FOUND
    except Exception as exc:  # every failure ends the verification with its code
        code = transport.imap_error_code(exc)
        log.info("mailbox %s: IMAP step failed: %s (%s)", box.id, code, type(exc).__name__)
        return code
    return None


def run_verification(company_id: int, mailbox_id: int) -> str | None:
    """Run a started verification to its end; the error code, or None when the mailbox is now active."""
    with tenant_scope(company_id):
        box = db.session.get(Mailbox, mailbox_id)
        if box is None or box.state != "verifying" or not box.verify_token:
            return None
        token = box.verify_token
        db.session.close()  # the mailbox stays readable; no transaction is held while the servers talk
        timeout = float(current_app.config.get("CRM_MAILBOX_VERIFY_TIMEOUT", 120))
        code = _send_test(box, token) or _find_test(box, token, timeout)
        if code is None:
            _save(mailbox_id, token, state="active", verify_step="done", verified_at=utcnow(), last_error=None)
            log.info("mailbox %s verified", mailbox_id)
        else:
            _save(mailbox_id, token, state="failed", last_error=code)
        return code


def progress(box: Mailbox) -> dict[str, Any]:
    """The verification's steps with their status (done, current, failed, waiting) for the page."""
    current = box.verify_step if box.verify_step in STEPS else None
    reached = STEPS.index(current) if current else -1
    steps = []
    for i, key in enumerate(STEPS):
        if box.state == "active" and box.verify_step == "done":
            status = "done"
        elif i < reached:
            status = "done"
        elif i == reached and box.state == "failed":
            status = "failed"
        elif i == reached and box.state == "verifying":
            status = "current"
        else:
            status = "waiting"
        steps.append({"key": key, "label": str(STEP_LABELS[key]), "status": status})
    return {"steps": steps, "running": is_running(box), "finished": box.state in ("active", "failed")}
