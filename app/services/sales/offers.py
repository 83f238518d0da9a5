"""Offers: the builder's rules, numbering, PDF versions in "Załączniki", status, e-mailing, expiry.

Totals and rounding follow ``app.services.sales.pricing`` (line nets half up; VAT per rate on the sum
of that rate's nets). Every save renders a new PDF version stored as an attachment of the offer
and of its binder; earlier versions stay. What offers share with orders is in ``documents``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.models.mixins import utcnow
from app.models.sales import OFFER_STATUSES, OFFER_TEMPLATES, Offer, OfferVersion
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import DomainError, FieldChecks, clock, inputs, unit_of_work
from app.services.sales import delivery, numbering, sales_pdf
from app.services.sales.documents import (
    ItemData,
    apply_items,
    binder_entries,
    clean_document_header,
    clean_items,
    delete_with_attachments,
    documents_of_binder,
    get_document,
    list_documents,
    print_to_attachments,
    require_document,
    stored_pdf,
)
from app.services.work import reminders
from app.services.work.binders import BinderRow

PDF_MIME = "application/pdf"

STATUS_LABELS = {
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "expired": _l("Expired"),
}
TEMPLATE_LABELS = {"full": _l("Full"), "compact": _l("Compact")}
LANGUAGE_LABELS = {"pl": _l("Polish"), "en": _l("English")}

#: manual status changes allowed from each status ("expired" is set by the scheduler only)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("sent", "accepted", "rejected"),
    "sent": ("accepted", "rejected"),
    "expired": ("accepted", "rejected"),
    "accepted": (),
    "rejected": (),
}
EDITABLE = ("draft", "sent")

REMINDER_HOUR = dt.time(8, 0)
WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass
class OfferData:
    """The offer form."""

    contact_id: Any
    items: list[ItemData] = field(default_factory=list)
    template: str = "full"
    language: str = "pl"
    currency: str = "PLN"
    valid_until: dt.date | str | None = None  # a date, or as typed (checked with the other fields)
    reminder_on: dt.date | str | None = None
    binder_id: Any = None
    payment_terms: str | None = None
    notes: str | None = None


@dataclass
class SendData:
    """The "Wyślij e-mailem" form: the company mailbox to send from, recipient, subject, message."""

    to: Any
    subject: Any
    body: Any
    mailbox_id: Any = None


def _clean(company_id: int, data: OfferData, today: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the lines, every refusal of both at once (FieldErrors)."""
    checks = FieldChecks()
    header = clean_document_header(company_id, data, checks)
    if data.template not in OFFER_TEMPLATES:
        checks.refuse(_l("Choose an offer format."), "template")
    valid_until = checks.run(inputs.parse_date, data.valid_until, "valid_until")
    reminder_on = checks.run(inputs.parse_date, data.reminder_on, "reminder_on")
    if valid_until is not None and valid_until < today:
        checks.refuse(_l("The validity date cannot be in the past."), "valid_until")
    if reminder_on is not None and reminder_on < today:
        checks.refuse(_l("The reminder date cannot be in the past."), "reminder_on")
    lines = checks.run(clean_items, data.items, header["currency"])
    checks.raise_if_any()
    return {**header, "template": data.template, "valid_until": valid_until, "reminder_on": reminder_on}, lines


@unit_of_work
def create_offer(company_id: int, user_id: int | None, data: OfferData, today: dt.date | None = None) -> Offer:
    """Save a new offer with the next number of the series and its first PDF version."""
    today = today or clock.local_today()
    header, lines = _clean(company_id, data, today)
    seq, number = numbering.next_number(company_id, "offer", today.year)
    offer = Offer(company_id=company_id, number=number, seq_year=today.year, seq_number=seq,
                  issue_date=today, status="draft", owner_id=user_id, **header)
    db.session.add(offer)
    apply_items(offer, lines)
    db.session.flush()
    _sync_reminder(offer)
    _new_version(offer, user_id)
    return offer


@unit_of_work
def update_offer(company_id: int, user_id: int | None, offer_id: int, data: OfferData,
                 today: dt.date | None = None) -> Offer:
    """Save changes as a new version with a new PDF; the number stays, earlier PDFs stay."""
    offer = require_document(Offer, offer_id)
    if offer.status not in EDITABLE:
        raise DomainError(_l("An accepted, rejected or expired offer cannot be changed."))
    today = today or clock.local_today()
    header, lines = _clean(company_id, data, today)
    for key, value in header.items():
        setattr(offer, key, value)
    apply_items(offer, lines)
    db.session.flush()
    _sync_reminder(offer)
    _new_version(offer, user_id)
    return offer


def _new_version(offer: Offer, user_id: int | None) -> OfferVersion:
    """Print a new PDF version of the offer and record it."""
    att = print_to_attachments(offer, offer.template, "offer", user_id)
    version = OfferVersion(company_id=offer.company_id, offer_id=offer.id, version=offer.version,
                           filename=sales_pdf.pdf_filename(offer, offer.version), total_gross=offer.total_gross,
                           created_at=utcnow(), created_by_id=user_id, attachment_id=att.id)
    db.session.add(version)
    return version


def _reminder_utc(day: dt.date) -> dt.datetime:
    """08:00 Warsaw time of ``day`` as naive UTC (or in a minute, when that moment is already past)."""
    local = dt.datetime.combine(day, REMINDER_HOUR, tzinfo=WARSAW)
    when = local.astimezone(dt.UTC).replace(tzinfo=None)
    return max(when, utcnow() + dt.timedelta(minutes=1))


def _sync_reminder(offer: Offer) -> None:
    """Keep the offer's pending reminder (app.services.work.reminders) in line with ``reminder_on``."""
    when = _reminder_utc(offer.reminder_on) if offer.reminder_on else None
    reminders.set_reminder(offer.company_id, "offer", offer.id, when)


def reminder_message(company_id: int, offer_id: int) -> reminders.ReminderMessage | None:
    """What an offer's reminder says, to its author; None once the offer is decided or deleted."""
    offer = get_offer(company_id, offer_id)
    if offer is None or offer.status in ("accepted", "rejected") or offer.owner_id is None:
        return None
    lines = [gettext("Offer %(number)s for %(client)s", number=offer.number, client=offer.contact.name),
             gettext("Status: %(status)s", status=STATUS_LABELS[offer.status])]
    if offer.valid_until:
        lines.append(gettext("Valid until: %(date)s", date=offer.valid_until.strftime("%d.%m.%Y")))
    return reminders.ReminderMessage([offer.owner_id], gettext("Reminder: offer %(number)s", number=offer.number),
                                     "\n".join(lines), f"/offers/{offer.id}")


def get_offer(company_id: int, offer_id: int) -> Offer | None:
    """One live offer of the company, or None."""
    return get_document(Offer, offer_id)


def list_offers(company_id: int, q: str = "", status: str = "", limit: int = 200) -> list[Offer]:
    """Offers of the company, newest first; ``q`` matches the number or the client's name."""
    return list_documents(Offer, OFFER_STATUSES, q, status, limit)


def offers_of_binder(company_id: int, binder_id: int) -> list[Offer]:
    """Offers filed in a binder, and offers of the binder's client not filed in any binder."""
    return documents_of_binder(Offer, binder_id)


def binder_items(company_id: int, user: CrmUser, binder_id: int) -> list[BinderRow]:
    """The offers of a binder (everyone in the company sees them): number, status and gross total of each."""
    return binder_entries("offers", offers_of_binder(company_id, binder_id), STATUS_LABELS)


def _version_pdf(offer: Offer, version_no: int) -> tuple[str, bytes] | None:
    ver = next((x for x in offer.versions if x.version == version_no), None)
    stored = stored_pdf(offer.company_id, ver.attachment_id) if ver is not None else None
    return (ver.filename, stored[1]) if (ver is not None and stored) else None


def version_pdf(company_id: int, offer_id: int, version_no: int) -> tuple[str, bytes] | None:
    """(file name, PDF bytes) of one version of an offer, or None."""
    offer = get_offer(company_id, offer_id)
    return _version_pdf(offer, version_no) if offer is not None else None


@unit_of_work
def set_status(company_id: int, offer_id: int, status: str) -> Offer:
    """Change the status by hand (sent, accepted, rejected), as TRANSITIONS allows."""
    offer = require_document(Offer, offer_id)
    if status not in TRANSITIONS.get(offer.status, ()):
        raise DomainError(_l("The offer cannot change from %(old)s to %(new)s.",
                             old=STATUS_LABELS.get(offer.status, offer.status),
                             new=STATUS_LABELS.get(status, status)))
    offer.status = status
    return offer


@unit_of_work
def delete_offer(company_id: int, user_id: int | None, offer_id: int) -> str:
    """Move an offer, its lines, versions and PDF attachments to the trash in one operation."""
    return delete_with_attachments(require_document(Offer, offer_id), "offer", user_id)


def open_offer_counts(company_id: int) -> dict[str, int]:
    """How many offers of the company are still open, by status (draft, sent)."""
    rows = db.session.execute(
        select(Offer.status, func.count(Offer.id)).where(Offer.status.in_(EDITABLE)).group_by(Offer.status)
    ).all()
    return {status: count for status, count in rows}


@unit_of_work
def expire_offers(today: dt.date | None = None) -> int:
    """Scheduler job: every company's draft or sent offers past their validity date become "expired"."""
    today = today or clock.local_today()
    # a platform job: one statement over every company's offers, hence the opt-out
    with all_tenants():
        result = db.session.execute(
            update(Offer)
            .where(Offer.status.in_(("draft", "sent")), Offer.valid_until.is_not(None), Offer.valid_until < today)
            .values(status="expired")
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)


@unit_of_work
def send_offer(company_id: int, offer_id: int, data: SendData, user_id: int | None = None) -> str:
    """E-mail the latest PDF to the client from a verified company mailbox; record it; draft becomes "sent".

    Returns the sender address used.
    """
    offer = require_document(Offer, offer_id)
    if not offer.versions:
        raise DomainError(_l("The offer has no PDF yet; save it first."))
    latest = offer.versions[0]
    pdf = _version_pdf(offer, latest.version)
    if pdf is None:
        raise DomainError(_l("The PDF of this offer cannot be read."))
    filename, content = pdf
    mail = delivery.DocumentMail(data.mailbox_id, data.to, data.subject, data.body)
    sent = delivery.deliver(company_id, user_id, "offer", offer.id, mail, [(filename, content, PDF_MIME)])
    offer.sent_at = sent.sent_at
    offer.sent_to = sent.recipient
    offer.sent_from = sent.sender
    offer.sent_version = latest.version
    if offer.status == "draft":
        offer.status = "sent"
    return sent.sender
