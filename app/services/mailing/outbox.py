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
from dataclasses import dataclass, field
from typing import Any, Optional

from flask import current_app
from sqlalchemy import func, insert, or_, select, update

from app.extensions import db
from app.models.campaigns import Campaign, CampaignRecipient, MailSuppression
from app.models.company import Company
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


@dataclass(frozen=True)
class _Row:
    """What sending one claimed row needs (read once per batch, so a commit per message reloads nothing)."""

    id: int
    campaign_id: int
    contact_id: int | None
    email: str
    person: editor.Personal
    message_id: str
    attempts: int


@dataclass
class _Batch:
    """What one mailbox's batch shares: the mailbox and its campaigns (detached), their prepared parts."""

    company_id: int
    mailbox: Mailbox
    campaigns: dict[int, Campaign]
    prepared: dict[int, editor.RenderedMail] = field(default_factory=dict)

    def template(self, campaign: Campaign) -> editor.RenderedMail:
        """The campaign's parts, prepared once per batch."""
        if campaign.id not in self.prepared:
            self.prepared[campaign.id] = sender.prepare(campaign)
        return self.prepared[campaign.id]


def _backoff(attempts: int) -> dt.timedelta:
    """CAMPAIGN_RETRY_BASE_SECONDS doubled per attempt, at most CAMPAIGN_RETRY_MAX_SECONDS."""
    base = _cfg("CAMPAIGN_RETRY_BASE_SECONDS", 60)
    return dt.timedelta(seconds=min(base * (2 ** max(attempts - 1, 0)), _cfg("CAMPAIGN_RETRY_MAX_SECONDS", 3600)))


def _set(row_id: int, **values: Any) -> None:
    """Write one claimed row's outcome and commit it at once (only while the row is still ours)."""
    db.session.execute(update(CampaignRecipient)
                       .where(CampaignRecipient.id == row_id, CampaignRecipient.status == "sending")
                       .values(updated_at=utcnow(), **values))
    db.session.commit()


def _retry_or_fail(row: _Row, why: str, temporary: bool) -> None:
    """A temporary failure goes back to the queue with back-off (until the last attempt); else failed."""
    if temporary and row.attempts < int(_cfg("CAMPAIGN_MAX_ATTEMPTS", 5)):
        _set(row.id, status="queued", locked_until=None, last_error=why[:500],
             next_attempt_at=utcnow() + _backoff(row.attempts))
    else:
        _set(row.id, status="failed", locked_until=None, last_error=why[:500])


def _blocked(rows: list[_Row]) -> dict[int, str]:
    """Row id -> why its address must not get the message any more (unsubscribed or bounced meanwhile)."""
    emails = {r.email for r in rows}
    reasons: dict[str, str] = {}
    for email, reason in db.session.execute(select(MailSuppression.email, MailSuppression.reason)
                                            .where(MailSuppression.email.in_(emails))):
        if reasons.get(email) != "bounced":
            reasons[email] = reason
    contact_ids = {r.contact_id for r in rows if r.contact_id is not None}
    withdrawn = set(db.session.scalars(select(Contact.id).where(
        Contact.id.in_(contact_ids), Contact.consent_withdrawn_at.isnot(None)))) if contact_ids else set()
    found = {}
    for r in rows:
        why = reasons.get(r.email) or ("unsubscribed" if r.contact_id in withdrawn else None)
        if why:
            found[r.id] = why
    return found


def _load_rows(ids: list[int]) -> list[_Row]:
    """The claimed rows still held by this sender, in sending order."""
    found = db.session.execute(
        select(CampaignRecipient.id, CampaignRecipient.campaign_id, CampaignRecipient.contact_id,
               CampaignRecipient.email, CampaignRecipient.first_name, CampaignRecipient.last_name,
               CampaignRecipient.company_name, CampaignRecipient.message_id, CampaignRecipient.attempts)
        .where(CampaignRecipient.id.in_(ids), CampaignRecipient.status == "sending")).all()
    by_id = {r[0]: _Row(r[0], r[1], r[2], r[3], editor.Personal(r[4] or "", r[5] or "", r[6] or ""), r[7], r[8])
             for r in found}
    return [by_id[i] for i in ids if i in by_id]


def _send_one(smtp: smtplib.SMTP, batch: _Batch, row: _Row) -> bool:
    """Send one claimed row and mark it sent right after the server's 250; a broken connection is raised."""
    campaign = batch.campaigns[row.campaign_id]
    link = (campaign.unsubscribe_url or "").replace("{token}", sender.unsubscribe_token(batch.company_id, row.id))
    msg = sender.build_message(batch.mailbox, campaign, row.email, row.person, row.message_id, link,
                               batch.template(campaign))
    try:
        smtp.send_message(msg)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as err:
        _retry_or_fail(row, sender.reason(err), transport.is_temporary(err))
        return False
    except (smtplib.SMTPException, OSError) as err:
        db.session.rollback()
        _retry_or_fail(row, sender.reason(err), True)
        raise
    _set(row.id, status="sent", sent_at=utcnow(), locked_until=None, last_error=None)
    return True


def _release(ids: list[int], why: str) -> None:
    """Claimed rows that were not tried (the connection failed): back to the queue with back-off."""
    for row in _load_rows(ids):
        _retry_or_fail(row, why, True)


def _prepare_batch(company_id: int, mailbox: Mailbox, rows: list[_Row]) -> tuple[_Batch, list[_Row]]:
    """The batch's campaigns (detached: commits do not reload them); rows of paused ones go back, blocked ones end."""
    campaigns_by_id = {c.id: c for c in db.session.scalars(
        select(Campaign).where(Campaign.id.in_({r.campaign_id for r in rows})))}
    blocked = _blocked(rows)
    db.session.refresh(mailbox)  # the claim's commit expired it
    for obj in [mailbox, *campaigns_by_id.values()]:
        db.session.expunge(obj)
    batch = _Batch(company_id, mailbox, campaigns_by_id)
    ready = []
    for row in rows:
        campaign = campaigns_by_id.get(row.campaign_id)
        if campaign is None or campaign.status != "sending":  # paused or cancelled meanwhile: back, untouched
            _set(row.id, status="queued", locked_until=None, attempts=max(row.attempts - 1, 0))
        elif row.id in blocked:
            _set(row.id, status=blocked[row.id], locked_until=None)
        else:
            ready.append(row)
    return batch, ready


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
    batch, rows = _prepare_batch(company_id, mailbox, _load_rows(ids))
    accepted = 0
    tried: set[int] = set()
    try:
        if rows:
            with transport.smtp_session(batch.mailbox) as smtp:
                for row in rows:
                    tried.add(row.id)
                    accepted += int(_send_one(smtp, batch, row))
    except (smtplib.SMTPException, OSError, DomainError) as err:
        db.session.rollback()
        log.warning("campaign sending from mailbox %s interrupted: %s", mailbox_id, err)
        _release([r.id for r in rows if r.id not in tried], sender.reason(err))
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
            .join(Company, Company.id == Campaign.company_id)
            .where(Campaign.status == "sending", Campaign.mailbox_id.isnot(None),
                   # a company whose licence ran out sends nothing until it pays (the rows wait, nothing is lost)
                   Company.active.is_(True), Company.licence_valid_until >= dt.date.today())
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
