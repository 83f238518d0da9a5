"""Campaigns ("Emailing"): drafts, who gets them and who is left out (and why), scheduling, pause, report.

Sending itself runs in the scheduler process (``app/services/mailing/outbox.py``); this module
only writes the campaign and reads its rows. Recipient rule: contacts of the chosen mailing bases
(narrowed to contacts with any of the chosen tags) with an e-mail address and a recorded consent,
not unsubscribed (address or contact) and not hard-bounced, one message per address.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import smtplib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from app.extensions import db
from app.models.campaigns import Campaign, CampaignImage, CampaignRecipient, MailSuppression
from app.models.contacts import ClientBase, Contact, Tag, contact_tag
from app.models.mailing import Mailbox
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import DomainError, FieldChecks, clock, unit_of_work
from app.services.mailing import editor, sender, transport
from app.services.platform import plans

#: why a contact of the chosen bases gets no message, in the order they are checked
EXCLUSION_REASONS: dict[str, Any] = {
    "no_email": _l("no e-mail address"),
    "no_consent": _l("no recorded consent"),
    "unsubscribed": _l("unsubscribed"),
    "bounced": _l("address bounced (hard bounce)"),
    "duplicate": _l("the same address appears again"),
}
CAMPAIGN_STATUS_LABELS: dict[str, Any] = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "sending": _l("Sending"),
    "paused": _l("Paused"),
    "done": _l("Sent"),
    "cancelled": _l("Cancelled"),
}
RECIPIENT_STATUS_LABELS: dict[str, Any] = {
    "queued": _l("Waiting"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Not delivered"),
    "bounced": _l("Bounced"),
    "unsubscribed": _l("Unsubscribed"),
}
SUBJECT_MAX = 200
BODY_MAX = 200_000
#: rows inserted per statement when the list is built
INSERT_CHUNK = 2000


@dataclass
class CampaignData:
    """What the "Nowa kampania" form sends."""

    subject: str | None
    body_html: str | None
    base_ids: list[int] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    mailbox_id: int | None = None


@dataclass
class Audience:
    """Who will get the campaign: the count and, per reason, how many contacts are left out."""

    count: int
    excluded: dict[str, int]

    @property
    def excluded_total(self) -> int:
        """All contacts left out."""
        return sum(self.excluded.values())

    def reasons(self) -> list[tuple[str, Any, int]]:
        """(key, Polish label, count) of every reason that left somebody out."""
        return [(k, EXCLUSION_REASONS[k], self.excluded[k]) for k in EXCLUSION_REASONS if self.excluded.get(k)]


@dataclass(frozen=True)
class Chosen:
    """One recipient picked by the rule."""

    contact_id: int
    base_id: int
    email: str
    first_name: str
    last_name: str
    company: str


# ----------------------------------------------------------------------------- reading


def list_campaigns(company_id: int, limit: int = 200) -> list[Campaign]:
    """The company's campaigns, newest first."""
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get_campaign(company_id: int, campaign_id: int) -> Optional[Campaign]:
    """One campaign of the company (None when missing, deleted or another company's)."""
    return db.session.scalars(select(Campaign).where(Campaign.id == campaign_id)).first()


def _require(company_id: int, campaign_id: int) -> Campaign:
    campaign = get_campaign(company_id, campaign_id)
    if campaign is None:
        raise DomainError(_l("This campaign does not exist."))
    return campaign


def mailing_bases(company_id: int) -> list[ClientBase]:
    """The company's mailing bases (the only bases a campaign goes to)."""
    return list(db.session.scalars(select(ClientBase).where(ClientBase.kind == "mailing").order_by(ClientBase.name)))


def active_mailboxes(company_id: int) -> list[Mailbox]:
    """The company's verified mailboxes (the only ones that send)."""
    return list(db.session.scalars(select(Mailbox).where(Mailbox.state == "active").order_by(Mailbox.email)))


def tags(company_id: int) -> list[Tag]:
    """The company's tags."""
    return list(db.session.scalars(select(Tag).order_by(Tag.name)))


# ----------------------------------------------------------------------------- the recipient rule


def _audience_rows(base_ids: list[int], tag_ids: list[int]) -> Iterator[Any]:
    """Contacts of the mailing bases (with any of the tags) in id order, with their employer's name; streamed.

    One plain scan of the company's contacts of those bases, streamed; the employers' names are read
    first by their ids (a join or IN-subquery of the contact table to itself made PostgreSQL pick a
    plan that took minutes for a 300,000-contact base).
    """
    mailing = list(db.session.scalars(select(ClientBase.id).where(ClientBase.id.in_(base_ids),
                                                                 ClientBase.kind == "mailing")))
    if not mailing:
        return
    stmt = (
        select(Contact.id, Contact.base_id, Contact.kind, Contact.name, Contact.first_name, Contact.last_name,
               Contact.email, Contact.consent_given_at, Contact.consent_withdrawn_at, Contact.employer_id)
        .where(Contact.base_id.in_(mailing))
        .order_by(Contact.id)
    )
    if tag_ids:
        stmt = stmt.where(exists().where(contact_tag.c.contact_id == Contact.id, contact_tag.c.tag_id.in_(tag_ids)))
    employer_ids = sorted(db.session.scalars(select(Contact.employer_id).distinct().where(
        Contact.base_id.in_(mailing), Contact.employer_id.isnot(None))))
    names: dict[int, str] = {}
    for i in range(0, len(employer_ids), 5000):
        chunk = employer_ids[i:i + 5000]
        names.update({cid: name for cid, name in db.session.execute(
            select(Contact.id, Contact.name).where(Contact.id.in_(chunk)))})
    for row in db.session.execute(stmt.execution_options(yield_per=5000)):
        yield (*row[:9], names.get(row[9]) if row[9] is not None else None)


def suppressed(company_id: int) -> dict[str, str]:
    """Address -> reason of every suppressed address of the company (a bounce wins over an unsubscribe)."""
    found: dict[str, str] = {}
    for email, reason in db.session.execute(select(MailSuppression.email, MailSuppression.reason)):
        if found.get(email) != "bounced":
            found[email] = reason
    return found


def choose(company_id: int, base_ids: list[int], tag_ids: list[int]) -> tuple[list[Chosen], Audience]:
    """Apply the recipient rule: who gets the campaign and how many are left out, per reason."""
    blocked = suppressed(company_id)
    seen: set[str] = set()
    chosen: list[Chosen] = []
    excluded: Counter[str] = Counter()
    for cid, base_id, kind, name, first, last, email, consent_at, withdrawn_at, employer in _audience_rows(
            base_ids, tag_ids):
        address = (email or "").strip().lower()
        if not address or "@" not in address:
            excluded["no_email"] += 1
        elif consent_at is None:
            excluded["no_consent"] += 1
        elif withdrawn_at is not None or blocked.get(address) == "unsubscribed":
            excluded["unsubscribed"] += 1
        elif blocked.get(address) == "bounced":
            excluded["bounced"] += 1
        elif address in seen:
            excluded["duplicate"] += 1
        else:
            seen.add(address)
            company = name if kind == "company" else (employer or "")
            chosen.append(Chosen(cid, base_id, address, first or "", last or "", company or ""))
    return chosen, Audience(len(chosen), dict(excluded))


def audience(company_id: int, base_ids: list[int], tag_ids: list[int]) -> Audience:
    """How many contacts will get a campaign to these bases and tags, and how many are left out."""
    return choose(company_id, base_ids, tag_ids)[1]


def campaign_audience(company_id: int, campaign: Campaign) -> Audience:
    """The audience of a saved campaign: the rule now (draft, scheduled) or what the built list holds."""
    if campaign.status in ("draft", "scheduled"):
        return audience(company_id, [b.id for b in campaign.bases], [t.id for t in campaign.tags])
    total = db.session.scalar(select(func.count()).select_from(CampaignRecipient)
                              .where(CampaignRecipient.campaign_id == campaign.id)) or 0
    return Audience(total, json.loads(campaign.excluded_json or "{}"))


# ----------------------------------------------------------------------------- writing


def _check(company_id: int, data: CampaignData) -> tuple[str, str, list[ClientBase], list[Tag], Mailbox | None]:
    """Every field of the form at once; FieldErrors lists each wrong one."""
    checks = FieldChecks()
    subject = (data.subject or "").strip()
    if not subject:
        checks.refuse(_l("Enter the subject."), "subject")
    elif len(subject) > SUBJECT_MAX or any(ord(ch) < 32 for ch in subject):
        checks.refuse(_l("The subject may have up to 200 characters, in one line."), "subject")
    raw = data.body_html or ""
    body = editor.sanitize(raw) if len(raw) <= BODY_MAX else ""
    if len(raw) > BODY_MAX:
        checks.refuse(_l("The message is too long."), "body_html")
    elif not editor.has_content(body):
        checks.refuse(_l("Write the message."), "body_html")
    bases = [b for b in mailing_bases(company_id) if b.id in set(data.base_ids)]
    if not data.base_ids:
        checks.refuse(_l("Choose at least one mailing base."), "base_ids")
    elif len(bases) != len(set(data.base_ids)):
        checks.refuse(_l("Choose mailing bases from the list."), "base_ids")
    chosen_tags = [t for t in tags(company_id) if t.id in set(data.tag_ids)]
    if len(chosen_tags) != len(set(data.tag_ids)):
        checks.refuse(_l("Choose tags from the list."), "tag_ids")
    mailbox = None
    if data.mailbox_id is not None:
        mailbox = next((m for m in active_mailboxes(company_id) if m.id == data.mailbox_id), None)
        if mailbox is None:
            checks.refuse(_l("Choose an active mailbox (verified in Settings, tab Mailing)."), "mailbox_id")
    checks.raise_if_any()
    return subject, body, bases, chosen_tags, mailbox


@unit_of_work
def save_campaign(company_id: int, user: CrmUser, campaign_id: int | None, data: CampaignData) -> Campaign:
    """Create a draft or change a draft (or a scheduled campaign, which goes back to draft)."""
    subject, body, bases, chosen_tags, mailbox = _check(company_id, data)
    if campaign_id is None:
        campaign = Campaign(company_id=company_id, created_by_id=user.id, status="draft")
        db.session.add(campaign)
    else:
        campaign = _require(company_id, campaign_id)
        if campaign.status not in ("draft", "scheduled"):
            raise DomainError(_l("A campaign that has started sending cannot be changed."))
        campaign.status, campaign.scheduled_at = "draft", None
    campaign.subject, campaign.body_html = subject, body
    campaign.bases, campaign.tags = bases, chosen_tags
    campaign.mailbox_id = mailbox.id if mailbox else None
    return campaign


def emails_this_month(company_id: int) -> int:
    """Campaign messages of the company this calendar month (Warsaw time): what the plan's monthly limit counts.

    Every recipient row written this month counts, whatever became of it, plus the audiences of
    the campaigns scheduled but not started yet (their rows are written when sending starts).
    """
    first = clock.local_today().replace(day=1)
    since = clock.local_to_utc(dt.datetime.combine(first, dt.time.min))
    written = db.session.scalar(select(func.count(CampaignRecipient.id)).where(
        CampaignRecipient.company_id == company_id, CampaignRecipient.created_at >= since)) or 0
    waiting = sum(campaign_audience(company_id, campaign).count for campaign in db.session.scalars(select(Campaign).where(
        Campaign.company_id == company_id, Campaign.status == "scheduled", Campaign.deleted_at.is_(None))))
    return int(written) + waiting


plans.register_counter("emails_month", emails_this_month)


def _check_monthly_limit(company_id: int, count: int) -> None:
    """The plan's limit of e-mails a month: refuse a campaign whose audience would pass it (names the plan that lifts it)."""
    plans.check_limit(company_id, "emails_month", adding=count, current=emails_this_month(company_id))


@unit_of_work
def schedule(company_id: int, campaign_id: int, when: dt.datetime | None, unsubscribe_url: str) -> Campaign:
    """Send now (``when`` None) or at a local (Warsaw) time; the scheduler builds the list and sends.

    ``unsubscribe_url`` is the public unsubscribe page with a ``{token}`` slot.
    """
    campaign = _require(company_id, campaign_id)
    if campaign.status not in ("draft", "scheduled"):
        raise DomainError(_l("This campaign has already been sent or is being sent."))
    mailbox = db.session.get(Mailbox, campaign.mailbox_id) if campaign.mailbox_id else None
    if mailbox is None or not mailbox.is_active:
        raise DomainError(_l("Choose an active mailbox (verified in Settings, tab Mailing)."), "mailbox_id")
    now = utcnow()
    at = clock.local_to_utc(when) if when is not None else now
    if when is not None and at < now - dt.timedelta(minutes=1):
        raise DomainError(_l("The sending time has passed: choose a later one."), "send_at")
    found = audience(company_id, [b.id for b in campaign.bases], [t.id for t in campaign.tags])
    if found.count == 0:
        raise DomainError(_l("Nobody would get this campaign: no contact of the chosen bases meets the rules."))
    _check_monthly_limit(company_id, found.count)
    campaign.status, campaign.scheduled_at = "scheduled", at
    campaign.unsubscribe_url = unsubscribe_url
    return campaign


@unit_of_work
def pause(company_id: int, campaign_id: int) -> Campaign:
    """Stop handing messages of the campaign to the sender (messages already on their way still go)."""
    campaign = _require(company_id, campaign_id)
    if campaign.status not in ("sending", "scheduled"):
        raise DomainError(_l("Only a campaign that is being sent can be paused."))
    campaign.status = "paused"
    return campaign


@unit_of_work
def resume(company_id: int, campaign_id: int) -> Campaign:
    """Go on sending a paused campaign (or start it, when it was paused before its list was built)."""
    campaign = _require(company_id, campaign_id)
    if campaign.status != "paused":
        raise DomainError(_l("Only a paused campaign can be resumed."))
    campaign.status = "sending" if campaign.started_at else "scheduled"
    return campaign


@unit_of_work
def cancel(company_id: int, campaign_id: int) -> Campaign:
    """Cancel a scheduled or paused campaign: waiting messages are not sent."""
    campaign = _require(company_id, campaign_id)
    if campaign.status not in ("scheduled", "paused"):
        raise DomainError(_l("Only a scheduled or paused campaign can be cancelled."))
    campaign.status = "cancelled"
    campaign.finished_at = utcnow()
    return campaign


@unit_of_work
def delete_draft(company_id: int, user: CrmUser, campaign_id: int) -> None:
    """Move a draft to the trash (a sent campaign stays: its report and the recipients' history)."""
    from app.services import trash  # trash imports the models of every domain

    campaign = _require(company_id, campaign_id)
    if campaign.status != "draft":
        raise DomainError(_l("Only a draft can be deleted."))
    trash.soft_delete(campaign, user.id)


def send_test(company_id: int, campaign_id: int, to: str) -> str:
    """"Wyślij test do mnie": one message with sample personal fields to the signed-in user, now."""
    campaign = _require(company_id, campaign_id)
    mailbox = db.session.get(Mailbox, campaign.mailbox_id) if campaign.mailbox_id else None
    if mailbox is None or not mailbox.is_active:
        raise DomainError(_l("Choose an active mailbox (verified in Settings, tab Mailing)."), "mailbox_id")
    person = editor.Personal(gettext("Jan"), gettext("Kowalski"), gettext("Sample Company"))
    msg = sender.build_message(mailbox, campaign, to, person, message_id=None, unsubscribe_link=None)
    try:
        with transport.smtp_session(mailbox) as smtp:
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as err:
        raise DomainError(_l("The test message could not be sent: %(reason)s", reason=sender.reason(err))) from None
    return to


# ----------------------------------------------------------------------------- progress and report


def counts(company_id: int, campaign_id: int) -> dict[str, int]:
    """Recipient rows of the campaign per status."""
    rows = db.session.execute(
        select(CampaignRecipient.status, func.count()).where(CampaignRecipient.campaign_id == campaign_id)
        .group_by(CampaignRecipient.status))
    found = {status: 0 for status in RECIPIENT_STATUS_LABELS}
    found.update({status: n for status, n in rows})
    return found


def progress(company_id: int, campaign_id: int) -> dict[str, Any] | None:
    """What the progress bar polls: status, done and total, per status counts."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign is None:
        return None
    per = counts(company_id, campaign_id)
    total = sum(per.values())
    done = total - per["queued"] - per["sending"]
    return {
        "status": campaign.status, "status_label": str(CAMPAIGN_STATUS_LABELS[campaign.status]),
        "total": total, "done": done, "percent": round(100 * done / total) if total else 0,
        "counts": per,
    }


@dataclass
class ReportRow:
    """One line of the report (a base, a tag, or the whole campaign)."""

    label: str
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    unsubscribed: int = 0

    def add(self, status: str, sent_at: Any, n: int) -> None:
        """Count ``n`` rows of one status (bounced and unsubscribed after delivery also count as sent)."""
        if status in ("sent", "bounced", "unsubscribed") and sent_at is not None:
            self.sent += n
        if status == "failed":
            self.failed += n
        elif status == "bounced":
            self.bounced += n
        elif status == "unsubscribed":
            self.unsubscribed += n


@dataclass
class Report:
    """The campaign's report: the totals, per base and per chosen tag."""

    total: ReportRow
    bases: list[ReportRow]
    tags: list[ReportRow]


def report(company_id: int, campaign: Campaign) -> Report:
    """Sent, not delivered, bounced and unsubscribed: in total, per base and per chosen tag."""
    delivered = CampaignRecipient.sent_at.isnot(None)
    total = ReportRow(gettext("All recipients"))
    per_base: dict[int, ReportRow] = {b.id: ReportRow(b.name) for b in campaign.bases}
    stmt = (select(CampaignRecipient.base_id, CampaignRecipient.status, delivered, func.count())
            .where(CampaignRecipient.campaign_id == campaign.id)
            .group_by(CampaignRecipient.base_id, CampaignRecipient.status, delivered))
    for base_id, status, was_sent, n in db.session.execute(stmt):
        sent_at = True if was_sent else None
        total.add(status, sent_at, n)
        if base_id in per_base:
            per_base[base_id].add(status, sent_at, n)
    per_tag: list[ReportRow] = []
    for tag in campaign.tags:
        row = ReportRow(tag.name)
        tag_stmt = (select(CampaignRecipient.status, delivered, func.count())
                .where(CampaignRecipient.campaign_id == campaign.id,
                       exists().where(contact_tag.c.contact_id == CampaignRecipient.contact_id,
                                      contact_tag.c.tag_id == tag.id))
                .group_by(CampaignRecipient.status, delivered))
        for status, was_sent, n in db.session.execute(tag_stmt):
            row.add(status, True if was_sent else None, n)
        per_tag.append(row)
    return Report(total, list(per_base.values()), per_tag)


def recipients(company_id: int, campaign_id: int, status: str | None = None, limit: int = 200
               ) -> list[CampaignRecipient]:
    """Recipient rows of a campaign (optionally of one status), problems first."""
    stmt = select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id)
    if status in RECIPIENT_STATUS_LABELS:
        stmt = stmt.where(CampaignRecipient.status == status)
    return list(db.session.scalars(stmt.order_by(CampaignRecipient.id).limit(limit)))


def contact_history(company_id: int, contact_id: int, offset: int, limit: int) -> list[Any]:
    """Campaign rows of one contact, newest first (the client card's "E-mail campaigns")."""
    stmt = (select(CampaignRecipient).join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
            .where(CampaignRecipient.contact_id == contact_id)
            .order_by(CampaignRecipient.id.desc()).offset(offset).limit(limit))
    return list(db.session.scalars(stmt))



def parse_send_at(value: str | None) -> dt.datetime | None:
    """The typed sending time (local Warsaw time, "2026-12-01T09:30" or "01.12.2026 09:30"); None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise DomainError(_l("Enter the date and time of sending, e.g. 01.12.2026 09:30."), "send_at")


#: image types the editor accepts, by their first bytes
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
                    b"GIF89a": "image/gif"}
IMAGE_MAX_BYTES = 2 * 1024 * 1024


@unit_of_work
def upload_image(company_id: int, data: bytes | None) -> CampaignImage:
    """Keep an image uploaded in the editor; mail clients load it by its random token."""
    if not data:
        raise DomainError(_l("Choose an image file."), "file")
    if len(data) > IMAGE_MAX_BYTES:
        raise DomainError(_l("The image may have up to 2 MB."), "file")
    mime = next((m for sig, m in IMAGE_SIGNATURES.items() if data.startswith(sig)), None)
    if mime is None:
        raise DomainError(_l("Only PNG, JPEG and GIF images can be put in a campaign."), "file")
    image = CampaignImage(company_id=company_id, token=secrets.token_urlsafe(24), mime=mime, data=data)
    db.session.add(image)
    return image


def public_image(token: str) -> CampaignImage | None:
    """An uploaded campaign image by its token, for any mail client (no login, any company)."""
    if not token or len(token) > 40:
        return None
    with all_tenants():
        # the image's random token is its only key: mail clients of every company's recipients load it
        return db.session.scalars(select(CampaignImage).where(CampaignImage.token == token)
                                  .execution_options(all_tenants=True)).first()
