"""Bounces: the scheduler reads each active mailbox's IMAP inbox for delivery status notifications.

A DSN (RFC 3464) names the failed address (``flufl.bounce`` finds it in the many formats servers
use) and, in its ``message/delivery-status`` part, the ``Status`` and ``Diagnostic-Code`` (read
with the stdlib ``email`` package, ``policy.default``). A hard bounce (``5.x.x``) marks the address
of the company (no later campaign goes there) and the campaign's recipient row (found by the
original Message-ID, else by the address in the company's latest campaign). A soft bounce (``4.x.x``)
changes nothing. Every handled report is flagged "Seen" so it is read once.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.campaigns import CampaignRecipient, MailSuppression
from app.models.mailing import Mailbox
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants, tenant_scope
from app.services import unit_of_work
from app.services.mailing import transport

log = logging.getLogger(__name__)

#: messages read per mailbox and run
MAX_MESSAGES = 500


@dataclass(frozen=True)
class Bounce:
    """One failed recipient of a delivery report."""

    email: str
    status: str
    diagnostic: str
    original_message_id: str | None

    @property
    def hard(self) -> bool:
        """True for a permanent failure (status 5.x.x)."""
        return self.status.startswith("5")


def _header(block: Any, name: str) -> str:
    value = block.get(name)
    return str(value).strip() if value is not None else ""


def _original_message_id(msg: EmailMessage) -> str | None:
    """The Message-ID of the message that bounced (from the returned message or its headers)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner_msg, Message) and inner_msg.get("Message-ID"):
                return str(inner_msg["Message-ID"]).strip()
        if ctype == "text/rfc822-headers":
            headers = email.message_from_string(part.get_content(), policy=policy.default)
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return None


def _status_blocks(msg: EmailMessage) -> list[Any]:
    """The per-recipient blocks of the message/delivery-status part (RFC 3464)."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            return list(blocks[1:]) if isinstance(blocks, list) else []
    return []


def parse(raw: bytes) -> list[Bounce]:
    """The failed recipients of a delivery report (empty for any other message)."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    from flufl.bounce import all_failures  # imported here: its detectors load at import time

    temporary, permanent = all_failures(msg)
    original = _original_message_id(msg)
    by_address: dict[str, Bounce] = {}
    for block in _status_blocks(msg):
        recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        if address:
            by_address[address] = Bounce(address, _header(block, "Status"), _header(block, "Diagnostic-Code"),
                                         original)
    for raw_address, status in [(a, "5.0.0") for a in permanent] + [(a, "4.0.0") for a in temporary]:
        address = raw_address.decode("utf-8", "replace").strip().lower()
        if address and address not in by_address:
            by_address[address] = Bounce(address, status, "", original)
    return list(by_address.values())


@unit_of_work
def record(company_id: int, bounce: Bounce) -> bool:
    """Mark a hard bounce: the company's address and the campaign's row; False for a soft one."""
    if not bounce.hard:
        return False
    row = None
    if bounce.original_message_id:
        row = db.session.scalars(select(CampaignRecipient).where(
            CampaignRecipient.message_id == bounce.original_message_id)).first()
    if row is None:
        row = db.session.scalars(select(CampaignRecipient).where(CampaignRecipient.email == bounce.email)
                                 .order_by(CampaignRecipient.id.desc())).first()
    detail = " ".join(filter(None, [bounce.status, bounce.diagnostic]))[:500]
    if row is not None and row.email == bounce.email:
        row.status = "bounced"
        row.last_error = detail
    exists = db.session.scalar(select(MailSuppression.id).where(
        MailSuppression.email == bounce.email, MailSuppression.reason == "bounced"))
    if exists is None:
        db.session.add(MailSuppression(company_id=company_id, email=bounce.email, reason="bounced",
                                       campaign_id=row.campaign_id if row is not None else None,
                                       detail=detail, created_at=utcnow()))
    return True


def check_mailbox(company_id: int, mailbox: Mailbox) -> int:
    """Read the mailbox's unread messages, record the hard bounces; how many were recorded."""
    recorded = 0
    with transport.imap_session(mailbox) as imap:
        imap.select_folder("INBOX")
        uids = imap.search(["UNSEEN"])[:MAX_MESSAGES]
        if not uids:
            return 0
        handled = []
        for uid, data in imap.fetch(uids, ["BODY.PEEK[]"]).items():
            raw = data.get(b"BODY[]") or b""
            bounces = parse(raw)
            if not bounces:
                continue  # not a delivery report: left unread for the people who read the mailbox
            for bounce in bounces:
                recorded += int(record(company_id, bounce))
            handled.append(uid)
        if handled:
            imap.add_flags(handled, [b"\\Seen"])
    return recorded


def check_all() -> int:
    """The scheduler's job: every active mailbox of every company; how many hard bounces were recorded."""
    with all_tenants():
        # the one cross-company read of this job: it only lists mailboxes; each is read in its company's scope
        mailboxes = db.session.execute(select(Mailbox.id, Mailbox.company_id).where(Mailbox.state == "active")
                                       .execution_options(all_tenants=True)).all()
        db.session.commit()
    total = 0
    for mailbox_id, company_id in mailboxes:
        with tenant_scope(company_id):
            try:
                mailbox = db.session.get(Mailbox, mailbox_id)
                if mailbox is not None:
                    total += check_mailbox(company_id, mailbox)
            except Exception:  # noqa: BLE001 (one mailbox's trouble must not stop the others)
                db.session.rollback()
                log.warning("bounces of mailbox %s not read", mailbox_id, exc_info=True)
            finally:
                db.session.remove()
    return total
