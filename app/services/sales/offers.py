"""Offers: the builder's rules, numbering, PDF versions in "Załączniki", status, e-mailing, expiry.

Totals and rounding follow ``app.services.sales.pricing`` (line nets half up; VAT per rate on the sum
of that rate's nets). Every save renders a new PDF version stored as an attachment of the offer
and of its binder; earlier versions stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from app.extensions import db
from app.models.binders import Binder
from app.models.contacts import Contact
from app.models.mixins import utcnow
from app.models.sales import (
    CURRENCIES,
    DOC_LANGUAGES,
    OFFER_STATUSES,
    OFFER_TEMPLATES,
    Offer,
    OfferItem,
    OfferVersion,
    Product,
)
from app.models.users import CrmUser
from app.services import DomainError, clock, inputs, transaction, trash
from app.services import validators as v
from app.services.sales import numbering, pricing, sales_pdf
from app.services.work import binders

MAX_ITEMS = 500
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
TRANSITIONS = {
    "draft": ("sent", "accepted", "rejected"),
    "sent": ("accepted", "rejected"),
    "expired": ("accepted", "rejected"),
    "accepted": (),
    "rejected": (),
}
EDITABLE = ("draft", "sent")


@dataclass
class ItemData:
    """One line as the form sends it (raw strings)."""

    name: Any = ""
    quantity: Any = "1"
    unit_price: Any = "0"
    discount: Any = "0"
    vat_rate: Any = "23"
    unit: Any = "szt."
    code: Any = None
    product_id: Any = None


@dataclass
class OfferData:
    """The offer form."""

    contact_id: Any
    items: list[ItemData] = field(default_factory=list)
    template: str = "full"
    language: str = "pl"
    currency: str = "PLN"
    valid_until: dt.date | None = None
    reminder_on: dt.date | None = None
    binder_id: Any = None
    payment_terms: str | None = None
    notes: str | None = None


def clean_items(company_id: int, items: list[ItemData], currency: str) -> list[dict]:
    """Validate the lines and compute each line's net; DomainError names the line."""
    lines = [it for it in items if any(str(getattr(it, k) or "").strip() for k in ("name", "product_id"))]
    if not lines:
        raise DomainError(_l("Add at least one item."), "items")
    if len(lines) > MAX_ITEMS:
        raise DomainError(_l("At most %(n)s items in one document.", n=MAX_ITEMS), "items")
    cleaned = []
    for pos, it in enumerate(lines, start=1):
        try:
            product_id = _opt_int(it.product_id)
            product = None
            if product_id is not None:
                product = db.session.execute(
                    select(Product).where(Product.company_id == company_id, Product.id == product_id)
                ).scalar_one_or_none()
                if product is None:
                    raise DomainError(_l("This product is not in your price list."), "items")
                if product.currency != currency:
                    raise DomainError(
                        _l("%(name)s is priced in %(cur)s; the document is in %(doc)s.",
                           name=product.name, cur=product.currency, doc=currency), "items")
            name = v.clean_text(it.name or (product.name if product else ""), "items", _l("Name"), 200, required=True)
            unit = v.clean_text(it.unit or (product.unit if product else "szt."), "items", _l("Unit"), 12, required=True)
            qty = pricing.parse_decimal(it.quantity, "items", _l("Quantity"), 3,
                                        minimum=Decimal("0.001"), maximum=pricing.MAX_QTY)
            price = pricing.parse_decimal(it.unit_price, "items", _l("Unit net price"), 2)
            discount = pricing.parse_decimal(it.discount or "0", "items", _l("Discount"), 2, maximum=Decimal(100))
            rate = pricing.clean_vat_rate(it.vat_rate, "items")
            code = v.clean_text(it.code if it.code is not None else (product.code if product else None),
                                "items", _l("Code"), 40)
        except DomainError as err:
            raise DomainError(_l("Item %(n)s: %(error)s", n=pos, error=str(err)), "items") from None
        net = pricing.line_net(qty, price, discount)
        if net > pricing.MAX_MONEY:
            raise DomainError(_l("Item %(n)s: the amount is too large.", n=pos), "items")
        cleaned.append({"position": pos, "product_id": product.id if product else None, "name": name, "code": code,
                            "unit": unit, "quantity": qty, "unit_price": price, "discount": discount, "vat_rate": rate, "net": net})
    return cleaned


def _opt_int(value: Any) -> int | None:
    return inputs.parse_id(value, "items", _l("This record does not exist."))


def pick_client(company_id: int, contact_id: Any) -> Contact:
    """The client of a document: a contact of a "Kontakty" base of this company (never a mailing base)."""
    from app.services.contacts.contacts import pickable_contact

    if contact_id in (None, ""):
        raise DomainError(_l("Choose a client."), "contact_id")
    return pickable_contact(company_id, contact_id)


def clean_document_header(company_id: int, data: Any) -> dict:
    """Header fields offers and orders share: client, language, currency, binder, terms, notes."""
    contact = pick_client(company_id, data.contact_id)
    if data.language not in DOC_LANGUAGES:
        raise DomainError(_l("Choose the language of the document."), "language")
    currency = (data.currency or "PLN").upper()
    if currency not in CURRENCIES:
        raise DomainError(_l("Choose a currency from the list."), "currency")
    return {
        "contact_id": contact.id, "language": data.language, "currency": currency,
        "binder_id": binders.check_binder(company_id, data.binder_id),
        "payment_terms": v.clean_text(data.payment_terms, "payment_terms", _l("Payment terms"), 200),
        "notes": v.clean_text(data.notes, "notes", _l("Notes"), 4000),
    }


def _clean_header(company_id: int, data: OfferData, today: dt.date) -> dict:
    header = clean_document_header(company_id, data)
    if data.template not in OFFER_TEMPLATES:
        raise DomainError(_l("Choose an offer format."), "template")
    if data.valid_until is not None and data.valid_until < today:
        raise DomainError(_l("The validity date cannot be in the past."), "valid_until")
    if data.reminder_on is not None and data.reminder_on < today:
        raise DomainError(_l("The reminder date cannot be in the past."), "reminder_on")
    return {**header, "template": data.template, "valid_until": data.valid_until, "reminder_on": data.reminder_on}


def apply_items(doc: Any, item_cls: type, lines: list[dict]) -> None:
    """Replace a document's lines with the cleaned ``lines`` and recompute its totals."""
    doc.items.clear()
    for line in lines:
        doc.items.append(item_cls(company_id=doc.company_id, **line))
    totals = pricing.compute_totals((line["net"], line["vat_rate"]) for line in lines)
    doc.total_net, doc.total_vat, doc.total_gross = totals.net, totals.vat, totals.gross


def create_offer(company_id: int, user_id: int | None, data: OfferData, today: dt.date | None = None) -> Offer:
    """Save a new offer with the next number of the series and its first PDF version."""
    today = today or clock.local_today()
    header = _clean_header(company_id, data, today)
    lines = clean_items(company_id, data.items, header["currency"])
    with transaction() as session:
        seq, number = numbering.next_number(company_id, "offer", today.year)
        offer = Offer(company_id=company_id, number=number, seq_year=today.year, seq_number=seq,
                      issue_date=today, status="draft", owner_id=user_id, **header)
        session.add(offer)
        apply_items(offer, OfferItem, lines)
        session.flush()
        _sync_reminder(offer)
        _new_version(offer, user_id)
    return offer


def update_offer(offer: Offer, user_id: int | None, data: OfferData, today: dt.date | None = None) -> Offer:
    """Save changes as a new version with a new PDF; the number stays, earlier PDFs stay."""
    if offer.status not in EDITABLE:
        raise DomainError(_l("An accepted, rejected or expired offer cannot be changed."))
    today = today or clock.local_today()
    header = _clean_header(offer.company_id, data, today)
    lines = clean_items(offer.company_id, data.items, header["currency"])
    with transaction() as session:
        for key, value in header.items():
            setattr(offer, key, value)
        apply_items(offer, OfferItem, lines)
        session.flush()
        _sync_reminder(offer)
        _new_version(offer, user_id)
    return offer


def print_to_attachments(doc: Any, template: str, kind: str, user_id: int | None) -> Any:
    """Bump the document's version, render its PDF and file it with the document (and its binder).

    Runs inside the caller's transaction; ``store_attachment`` commits it together with the document.
    """
    from app.services.work.attachments import store_attachment

    doc.version = (doc.version or 0) + 1
    db.session.flush()
    pdf = sales_pdf.render_document_pdf(doc, template, kind)
    return store_attachment(doc.company_id, pdf, sales_pdf.pdf_filename(doc, doc.version),
                            binder_id=doc.binder_id, owner=doc, user_id=user_id)


def _new_version(offer: Offer, user_id: int | None) -> OfferVersion:
    """Print a new PDF version of the offer and record it."""
    att = print_to_attachments(offer, offer.template, "offer", user_id)
    version = OfferVersion(company_id=offer.company_id, offer_id=offer.id, version=offer.version,
                           filename=sales_pdf.pdf_filename(offer, offer.version), total_gross=offer.total_gross,
                           created_at=utcnow(), created_by_id=user_id, attachment_id=att.id)
    db.session.add(version)
    return version


REMINDER_HOUR = dt.time(8, 0)


def _reminder_utc(day: dt.date) -> dt.datetime:
    """08:00 Warsaw time of ``day`` as naive UTC (or in a minute, when that moment is already past)."""
    from zoneinfo import ZoneInfo

    local = dt.datetime.combine(day, REMINDER_HOUR, tzinfo=ZoneInfo("Europe/Warsaw"))
    when = local.astimezone(dt.UTC).replace(tzinfo=None)
    return max(when, utcnow() + dt.timedelta(minutes=1))


def _sync_reminder(offer: Offer) -> None:
    """Keep the offer's pending reminder (app.services.work.reminders) in line with ``reminder_on``."""
    from app.services.work import reminders

    when = _reminder_utc(offer.reminder_on) if offer.reminder_on else None
    reminders.set_reminder(offer.company_id, "offer", offer.id, when)


def reminder_message(company_id: int, offer_id: int) -> Any:
    """What an offer's reminder says, to its author; None once the offer is decided or deleted."""
    from flask_babel import gettext

    from app.services.work import reminders

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
    return db.session.execute(
        select(Offer).where(Offer.company_id == company_id, Offer.id == offer_id)
    ).scalar_one_or_none()


def list_documents(model: Any, statuses: tuple, company_id: int, q: str = "", status: str = "",
                   limit: int = 200) -> list[Any]:
    """Offers or orders of the company, newest first; ``q`` matches the number or the client's name."""
    stmt = select(model).join(Contact, Contact.id == model.contact_id).where(model.company_id == company_id)
    if status in statuses:
        stmt = stmt.where(model.status == status)
    q = (q or "").strip().lower()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(func.lower(model.number).like(like), func.lower(Contact.name).like(like)))
    stmt = stmt.order_by(model.issue_date.desc(), model.id.desc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


def list_offers(company_id: int, q: str = "", status: str = "", limit: int = 200) -> list[Offer]:
    """Offers of the company, newest first; ``q`` matches the number or the client's name."""
    return list_documents(Offer, OFFER_STATUSES, company_id, q, status, limit)


def documents_of_binder(model: Any, company_id: int, binder_id: int) -> list[Any]:
    """Offers or orders filed in a binder, and those of the binder's client not filed in any binder."""
    client = select(Binder.contact_id).where(Binder.company_id == company_id, Binder.id == binder_id).scalar_subquery()
    return list(db.session.execute(
        select(model).where(model.company_id == company_id, or_(
            model.binder_id == binder_id, and_(model.binder_id.is_(None), model.contact_id == client),
        )).order_by(model.id.desc())
    ).scalars())


def binder_entries(kind: str, docs: list[Any], labels: dict) -> list[binders.BinderRow]:
    """A binder's rows for offers or orders: number, status and gross total of each."""
    return [
        binders.BinderRow(kind, d.id, d.number,
                          f"{labels[d.status]} · {pricing.format_money(d.total_gross)} {d.currency}", d.issue_date)
        for d in docs
    ]


def offers_of_binder(company_id: int, binder_id: int) -> list[Offer]:
    """Offers filed in a binder, and offers of the binder's client not filed in any binder."""
    return documents_of_binder(Offer, company_id, binder_id)


def binder_items(company_id: int, user: CrmUser, binder_id: int) -> list[binders.BinderRow]:
    """The offers of a binder (everyone in the company sees them): number, status and gross total of each."""
    return binder_entries("offers", offers_of_binder(company_id, binder_id), STATUS_LABELS)


def stored_pdf(company_id: int, attachment_id: int | None) -> tuple[str, bytes] | None:
    """(file name, bytes) of a live attachment of the company, or None."""
    from app.services.work.attachments import get_attachment, read_attachment

    if attachment_id is None:
        return None
    att = get_attachment(company_id, attachment_id)
    if att is None:
        return None
    return att.filename, read_attachment(att)


def delete_with_attachments(doc: Any, owner_type: str, user_id: int | None) -> str:
    """Move a document (cascading to its lines) and the attachments it owns to the trash in one operation."""
    from app.services.work.attachments import owner_attachments

    return trash.soft_delete([doc, *owner_attachments(doc.company_id, owner_type, doc.id)], user_id)


def version_pdf(offer: Offer, version_no: int) -> tuple[str, bytes] | None:
    """(file name, PDF bytes) of one version of an offer, or None."""
    ver = next((x for x in offer.versions if x.version == version_no), None)
    found = stored_pdf(offer.company_id, ver.attachment_id) if ver is not None else None
    return (ver.filename, found[1]) if found else None


def set_status(offer: Offer, status: str) -> Offer:
    """Change the status by hand (sent, accepted, rejected), as TRANSITIONS allows."""
    if status not in TRANSITIONS.get(offer.status, ()):
        raise DomainError(_l("The offer cannot change from %(old)s to %(new)s.",
                             old=STATUS_LABELS.get(offer.status, offer.status),
                             new=STATUS_LABELS.get(status, status)))
    with transaction():
        offer.status = status
    return offer


def delete_offer(offer: Offer, user_id: int | None) -> str:
    """Move an offer, its lines, versions and PDF attachments to the trash in one operation."""
    return delete_with_attachments(offer, "offer", user_id)


def open_offer_counts(company_id: int) -> dict[str, int]:
    """How many offers of the company are still open, by status (draft, sent)."""
    rows = db.session.execute(
        select(Offer.status, func.count(Offer.id))
        .where(Offer.company_id == company_id, Offer.status.in_(EDITABLE))
        .group_by(Offer.status)
    ).all()
    return dict(rows)


def expire_offers(today: dt.date | None = None) -> int:
    """Scheduler job: every company's draft or sent offers past their validity date become "expired"."""
    from app.security.tenancy import all_tenants

    today = today or clock.local_today()
    with all_tenants(), transaction() as session:
        result = session.execute(
            update(Offer)
            .where(Offer.status.in_(("draft", "sent")), Offer.valid_until.is_not(None), Offer.valid_until < today)
            .values(status="expired")
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


@dataclass
class SendData:
    """The "Wyślij e-mailem" form."""

    to: Any
    subject: Any
    body: Any


def send_offer(offer: Offer, user: Any, data: SendData) -> str:
    """E-mail the latest PDF to the client; record who sent what to whom; draft becomes "sent".

    Sends from a verified company mailbox when the mailing module provides one, otherwise
    through the platform's SMTP server. Returns the sender address used.
    """
    to = v.clean_email(data.to, "to", required=True)
    subject = v.clean_text(data.subject, "subject", _l("Subject"), 200, required=True)
    body = v.clean_text(data.body, "body", _l("Message"), 10000, required=True)
    if not offer.versions:
        raise DomainError(_l("The offer has no PDF yet; save it first."))
    latest = offer.versions[0]
    found = version_pdf(offer, latest.version)
    if found is None:
        raise DomainError(_l("The PDF of this offer cannot be read."))
    filename, pdf = found
    sender = _deliver(offer.company_id, to, subject, body, [(filename, pdf, PDF_MIME)])
    with transaction():
        offer.sent_at = utcnow()
        offer.sent_to = to
        offer.sent_from = sender
        offer.sent_version = latest.version
        if offer.status == "draft":
            offer.status = "sent"
    return sender


def _deliver(company_id: int, to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]]) -> str:
    """Send through a verified company mailbox if the mailing module has one, else the platform SMTP."""
    try:
        from app.services import mailing  # type: ignore[attr-defined]

        send_from_company = getattr(mailing, "send_from_company_mailbox", None)
    except ImportError:
        send_from_company = None
    if send_from_company is not None:
        sender = send_from_company(company_id, to, subject, body, attachments=attachments)
        if sender:
            return sender
    from flask import current_app

    from app.integrations.mail import mail_configured, send_mail

    if not mail_configured():
        raise DomainError(_l("E-mail sending is not configured. Add a company mailbox in Settings > Mailing."))
    try:
        send_mail(to, subject, body, attachments=attachments)
    except OSError:
        raise DomainError(_l("The e-mail could not be sent. Try again later.")) from None
    return current_app.config.get("MAIL_DEFAULT_SENDER", "")
