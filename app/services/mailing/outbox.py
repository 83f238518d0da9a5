"""The durable campaign outbox, drained by the scheduler process (never by a web request).

1. :func:`start_due` builds the recipient list of every campaign whose time has come: one
   ``campaign_recipient`` row per address (status ``queued``, a stable ``Message-ID``), written in
   the same transaction that turns the campaign to ``sending``.
2. :func:`run` claims due rows per mailbox with a lease (``sending``, ``locked_until``,
   ``attempts + 1``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), within the mailbox's rate a minute
   and daily cap, sends them over one SMTP session and marks each row ``sent`` in its own commit
   right after the server accepted it. A 4xx reply or a network failure puts the row back with
   back-off; a 5xx reply marks it ``failed`` with the server's reason.
3. A sender killed mid-campaign leaves its rows ``sending``; when their lease runs out they are
   claimed again. A row is marked ``sent`` only after the server's 250, so nobody is skipped; the
   only repeat possible is a message the server accepted in the instant before the commit, and it
   carries the same Message-ID (SMTP itself cannot tell the two apart).

Every row is worked on inside ``tenant_scope`` of its company; only the listing of work across
companies runs in ``all_tenants()``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from typing import Any, Optional

from flask import current_app
from sqlalchemy import func, insert, or_, select, update

from app.extensions import db
from app.models.campaigns import Campaign, CampaignRecipient, MailSuppression
from app.models.contacts import Contact
from app.models.mailing import Mailbox
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, clock, unit_of_work
from app.services.mailing import campaigns, editor, sender, transport

log = logging.getLogger(__name__)


def _cfg(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


# ----------------------------------------------------------------------------- building the list


def start_due(now: Optional[dt.datetime] = None) -> int:
    """Build the recipient list of every scheduled campaign whose time has come; how many started."""
    now = now or utcnow()
    with all_tenants():
        # the one cross-company read of this step: it only finds the work; building runs per company
        due = db.session.execute(
            select(Campaign.id, Campaign.company_id)
            .where(Campaign.status == "scheduled", Campaign.scheduled_at <= now)
            .order_by(Campaign.scheduled_at, Campaign.id)
            .execution_options(all_tenants=True)).all()
        db.session.commit()
    started = 0
    for campaign_id, company_id in due:
        with tenant_scope(company_id):
            try:
                started += int(build_list(company_id, campaign_id, now))
            except Exception:  # noqa: BLE001 (one broken campaign must not stop the others)
                log.exception("recipient list of campaign %s not built", campaign_id)
            finally:
                db.session.remove()
    return started


@unit_of_work
def build_list(company_id: int, campaign_id: int, now: Optional[dt.datetime] = None) -> bool:
    """Write the campaign's recipient rows and start it (all or nothing); False when it is not due any more."""
    now = now or utcnow()
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    campaign = db.session.scalars(stmt).first()
    if campaign is None or campaign.status != "scheduled":
        return False
    mailbox = db.session.get(Mailbox, campaign.mailbox_id) if campaign.mailbox_id else None
    chosen, found = campaigns.choose(company_id, [b.id for b in campaign.bases], [t.id for t in campaign.tags])
    domain_of = mailbox.email if mailbox else "localhost"
    rows: list[dict[str, Any]] = []
    for person in chosen:
        rows.append({
            "company_id": company_id, "campaign_id": campaign.id, "contact_id": person.contact_id,
            "base_id": person.base_id, "email": person.email, "first_name": person.first_name[:64] or None,
            "last_name": person.last_name[:64] or None, "company_name": person.company[:200] or None,
            "status": "queued", "attempts": 0, "next_attempt_at": now,
            "message_id": sender.new_message_id(domain_of), "created_at": now, "updated_at": now,
        })
        if len(rows) >= campaigns.INSERT_CHUNK:
            db.session.execute(insert(CampaignRecipient), rows)
            rows = []
    if rows:
        db.session.execute(insert(CampaignRecipient), rows)
    campaign.status, campaign.started_at = "sending", now
    campaign.excluded_json = json.dumps(found.excluded)
    if not chosen:
        campaign.status, campaign.finished_at = "done", now
    log.info("campaign %s of company %s: %s recipients", campaign.id, company_id, len(chosen))
    return True


# ----------------------------------------------------------------------------- limits and claiming


def _day_start_utc() -> dt.datetime:
    """Midnight of today's local (Warsaw) date, as naive UTC."""
    return clock.local_to_utc(dt.datetime.combine(clock.local_today(), dt.time()))


def allowance(mailbox: Mailbox, now: dt.datetime) -> int | None:
    """How many more messages the mailbox may send now (None: no limit); 0 waits for the next minute or day."""
    of_mailbox = (CampaignRecipient.campaign_id.in_(select(Campaign.id).where(Campaign.mailbox_id == mailbox.id)))
    left: list[int] = []
    if mailbox.rate_per_minute > 0:
        recent = db.session.scalar(select(func.count()).select_from(CampaignRecipient).where(
            of_mailbox, or_(CampaignRecipient.sent_at >= now - dt.timedelta(minutes=1),
                            CampaignRecipient.status == "sending"))) or 0
        left.append(mailbox.rate_per_minute - recent)
    if mailbox.daily_cap > 0:
        today = db.session.scalar(select(func.count()).select_from(CampaignRecipient).where(
            of_mailbox, CampaignRecipient.sent_at >= _day_start_utc())) or 0
        left.append(mailbox.daily_cap - today)
    return max(min(left), 0) if left else None


def claim(company_id: int, campaign_ids: list[int], limit: int, now: Optional[dt.datetime] = None) -> list[int]:
    """Claim up to ``limit`` due rows of these campaigns with a lease; their ids, in sending order.

    Due: ``queued`` with ``next_attempt_at <= now``, or ``sending`` whose lease ran out (its sender
    died). ``FOR UPDATE SKIP LOCKED`` on PostgreSQL keeps two senders off the same row.
    """
    now = now or utcnow()
    lease = dt.timedelta(seconds=_cfg("CAMPAIGN_LEASE_SECONDS", 120))
    if limit <= 0 or not campaign_ids:
        return []
    try:
        stmt = (select(CampaignRecipient.id)
                .where(CampaignRecipient.campaign_id.in_(campaign_ids), or_(
                    (CampaignRecipient.status == "queued") & (CampaignRecipient.next_attempt_at <= now),
                    (CampaignRecipient.status == "sending") & (CampaignRecipient.locked_until < now)))
                .order_by(CampaignRecipient.next_attempt_at, CampaignRecipient.id).limit(limit))
        if db.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(stmt))
        if ids:
            db.session.execute(
                update(CampaignRecipient).where(CampaignRecipient.id.in_(ids))
                .values(status="sending", locked_until=now + lease, attempts=CampaignRecipient.attempts + 1,
                        updated_at=now))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ids


# ----------------------------------------------------------------------------- sending


@dataclass
class _Batch:
    """What one mailbox's batch shares: the mailbox, its campaigns and their prepared parts."""

    company_id: int
    mailbox: Mailbox
    prepared: dict[int, editor.RenderedMail]
    campaigns: dict[int, Campaign]

    def template(self, campaign: Campaign) -> editor.RenderedMail:
        """The campaign's parts, prepared once per batch."""
        if campaign.id not in self.prepared:
            self.prepared[campaign.id] = sender.prepare(campaign)
        return self.prepared[campaign.id]


def _backoff(attempts: int) -> dt.timedelta:
    """CAMPAIGN_RETRY_BASE_SECONDS doubled per attempt, at most CAMPAIGN_RETRY_MAX_SECONDS."""
    base = _cfg("CAMPAIGN_RETRY_BASE_SECONDS", 60)
    return dt.timedelta(seconds=min(base * (2 ** max(attempts - 1, 0)), _cfg("CAMPAIGN_RETRY_MAX_SECONDS", 3600)))


def _retry_or_fail(row: CampaignRecipient, why: str, temporary: bool) -> None:
    """A temporary failure goes back to the queue with back-off (until the last attempt); else failed."""
    row.last_error = why[:500]
    row.locked_until = None
    if temporary and row.attempts < int(_cfg("CAMPAIGN_MAX_ATTEMPTS", 5)):
        row.status = "queued"
        row.next_attempt_at = utcnow() + _backoff(row.attempts)
    else:
        row.status = "failed"
    db.session.commit()


def _suppressed_reason(row: CampaignRecipient) -> str | None:
    """Why the address must not get the message any more (unsubscribed or bounced since the list was built)."""
    reasons = set(db.session.scalars(select(MailSuppression.reason).where(MailSuppression.email == row.email)))
    if "bounced" in reasons:
        return "bounced"
    if "unsubscribed" in reasons:
        return "unsubscribed"
    if row.contact_id is not None:
        withdrawn = db.session.scalar(select(Contact.consent_withdrawn_at).where(Contact.id == row.contact_id))
        if withdrawn is not None:
            return "unsubscribed"
    return None


def _send_one(smtp: smtplib.SMTP, batch: _Batch, row_id: int) -> bool:
    """Send one claimed row; True when the server accepted it. A broken connection is raised."""
    row = db.session.get(CampaignRecipient, row_id)
    if row is None or row.status != "sending":
        return False
    campaign = batch.campaigns.get(row.campaign_id) or db.session.get(Campaign, row.campaign_id)
    assert campaign is not None
    batch.campaigns[campaign.id] = campaign
    if campaign.status != "sending":  # paused or cancelled meanwhile: back to the queue, untouched
        row.status, row.locked_until = "queued", None
        row.attempts = max(row.attempts - 1, 0)
        db.session.commit()
        return False
    blocked = _suppressed_reason(row)
    if blocked:
        row.status, row.locked_until = blocked, None
        db.session.commit()
        return False
    link = (campaign.unsubscribe_url or "").replace("{token}", sender.unsubscribe_token(batch.company_id, row.id))
    person = editor.Personal(row.first_name or "", row.last_name or "", row.company_name or "")
    msg = sender.build_message(batch.mailbox, campaign, row.email, person, row.message_id, link,
                               batch.template(campaign))
    try:
        smtp.send_message(msg)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as err:
        _retry_or_fail(row, sender.reason(err), transport.is_temporary(err))
        return False
    except (smtplib.SMTPException, OSError) as err:
        _retry_or_fail(row, sender.reason(err), True)
        raise
    row.status, row.sent_at, row.locked_until, row.last_error = "sent", utcnow(), None, None
    db.session.commit()
    return True


def _release(ids: list[int], why: str) -> None:
    """Claimed rows that were not tried (the connection failed): back to the queue with back-off."""
    for row_id in ids:
        row = db.session.get(CampaignRecipient, row_id)
        if row is not None and row.status == "sending":
            _retry_or_fail(row, why, True)


def drain_mailbox(company_id: int, mailbox_id: int, campaign_ids: list[int]) -> int:
    """Send one batch of a mailbox's campaigns within its limits; how many rows it claimed."""
    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.is_active:
        return 0
    limit = int(_cfg("CAMPAIGN_BATCH_SIZE", 50))
    left = allowance(mailbox, utcnow())
    ids = claim(company_id, campaign_ids, min(limit, left) if left is not None else limit)
    if not ids:
        return 0
    batch = _Batch(company_id, mailbox, {}, {})
    accepted = 0
    done: list[int] = []
    try:
        with transport.smtp_session(mailbox) as smtp:
            for row_id in ids:
                done.append(row_id)
                accepted += int(_send_one(smtp, batch, row_id))
    except (smtplib.SMTPException, OSError, DomainError) as err:
        db.session.rollback()
        log.warning("campaign sending from mailbox %s interrupted: %s", mailbox_id, err)
        _release([i for i in ids if i not in set(done)], sender.reason(err))
    log.debug("mailbox %s: %s of %s messages accepted", mailbox_id, accepted, len(ids))
    return len(ids)


def _finish(company_id: int, campaign_ids: list[int]) -> None:
    """Mark campaigns with nothing left to send as done."""
    for campaign_id in campaign_ids:
        left = db.session.scalar(select(func.count()).select_from(CampaignRecipient).where(
            CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status.in_(("queued", "sending"))))
        if left == 0:
            db.session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending")
                               .values(status="done", finished_at=utcnow()))
    db.session.commit()


def _work() -> dict[tuple[int, int], list[int]]:
    """(company, mailbox) -> ids of its campaigns being sent, across companies."""
    with all_tenants():
        rows = db.session.execute(
            select(Campaign.company_id, Campaign.mailbox_id, Campaign.id)
            .where(Campaign.status == "sending", Campaign.mailbox_id.isnot(None))
            # the one cross-company read of the sender: it only finds the work; sending runs per company
            .execution_options(all_tenants=True)).all()
        db.session.commit()
    work: dict[tuple[int, int], list[int]] = {}
    for company_id, mailbox_id, campaign_id in rows:
        work.setdefault((company_id, mailbox_id), []).append(campaign_id)
    return work


def run(budget_seconds: float | None = None) -> int:
    """The scheduler's job: start due campaigns, then send batches until nothing is due or the time is up.

    Returns how many rows were handled (sent, refused, or put back for later).
    """
    budget = budget_seconds if budget_seconds is not None else _cfg("CAMPAIGN_SEND_BUDGET_SECONDS", 50)
    deadline = time.monotonic() + budget
    start_due()
    total = 0
    while time.monotonic() < deadline:
        sent_now = 0
        for (company_id, mailbox_id), campaign_ids in _work().items():
            with tenant_scope(company_id):
                try:
                    sent_now += drain_mailbox(company_id, mailbox_id, campaign_ids)
                    _finish(company_id, campaign_ids)
                except Exception:  # noqa: BLE001 (one company's trouble must not stop the others)
                    db.session.rollback()
                    log.exception("campaign sending of company %s failed", company_id)
                finally:
                    db.session.remove()
        total += sent_now
        if sent_now == 0:
            break
    return total
