"""Invoices ("Faktury"): drafts, issuing (number + FA(3) XML + PDF in one transaction), cancelling, PDFs.

A draft has no number. ``issue`` takes the next number of the document's series, builds and
validates the FA(3) XML (stored as the exact bytes users download and KSeF receives), prints the
PDF into "Załączniki" (and the invoice's binder) and, when the company sends automatically,
queues the invoice for KSeF. Issued invoices are never deleted: cancelling (before KSeF) keeps
the number; an invoice accepted by KSeF is frozen and only a correction changes it. Totals come
from ``app.services.invoicing.totals`` (the offers' rounding rule).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import qrcode
import qrcode.image.svg
from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select

from app.extensions import db
from app.integrations import ksef as ksef_api
from app.integrations.pdf import render_pdf
from app.integrations.storage import get_storage
from app.models.company import Company
from app.models.invoicing import PAYMENT_METHODS, Invoice, InvoiceItem, KsefSettings
from app.models.mailing import DocumentEmail
from app.models.mixins import utcnow
from app.models.sales import Offer, Order
from app.services import DomainError, FieldChecks, clock, inputs, unit_of_work
from app.services import validators as v
from app.services.contacts.contacts import pickable_contact
from app.services.invoicing import documents as docs
from app.services.invoicing import (
    fa3,
    ksef,  # ksef imports this module too: both import the module, not names
)
from app.services.invoicing import series as series_svc
from app.services.invoicing import totals as tot
from app.services.mailing import documents as mailing_documents
from app.services.mailing.documents import DocumentMail
from app.services.sales import pricing
from app.services.work import binders
from app.services.work.attachments import owner_attachments, read_attachment, store_attachment

CURRENCIES = ("PLN", "EUR", "USD")
MAX_ITEMS = 500
OWNER_TYPE = "invoice"

PAYMENT_LABELS = {
    "transfer": _l("Bank transfer"), "cash": _l("Cash"), "card": _l("Card"), "blik": _l("BLIK"),
    "other": _l("Other"),
}
RATE_CHOICES: tuple[tuple[str, Any], ...] = (
    ("23", "23%"), ("8", "8%"), ("5", "5%"), ("0 KR", _l("0% (domestic)")), ("0 WDT", _l("0% (intra-EU supply)")),
    ("0 EX", _l("0% (export)")), ("zw", _l("zw (exempt)")), ("np", _l("np (outside Poland)")),
    ("np II", _l("np (art. 100 services)")), ("oo", _l("oo (reverse charge)")),
)
KIND_TITLES = {"vat": _l("VAT invoice"), "correction": _l("Correction invoice"), "proforma": _l("Proforma")}
STATUS_LABELS = {"draft": _l("Draft"), "issued": _l("Issued"), "cancelled": _l("Cancelled")}
KSEF_LABELS = {"none": _l("Not sent"), "queued": _l("In the KSeF queue"), "sending": _l("Sending to KSeF"),
               "accepted": _l("Accepted by KSeF"), "rejected": _l("Rejected by KSeF")}
ACCENT = "#7b3fa0"


@dataclass
class LineData:
    """One invoice line as the form sends it (raw strings)."""

    name: Any = ""
    unit: Any = "szt."
    quantity: Any = "1"
    unit_price: Any = "0"
    discount: Any = "0"
    rate: Any = "23"
    annex15: Any = False


@dataclass
class InvoiceData:
    """The invoice form."""

    contact_id: Any = None
    issue_date: dt.date | str | None = None  # a date, or as typed (checked with the other fields)
    sale_date: dt.date | str | None = None  # a date, or as typed (checked with the other fields)
    place_of_issue: Any = None
    items: list[LineData] = field(default_factory=list)
    currency: Any = "PLN"
    exchange_rate: Any = None
    exchange_table: Any = None
    exchange_date: dt.date | str | None = None  # a date, or as typed (checked with the other fields)
    payment_method: Any = "transfer"
    due_date: dt.date | str | None = None  # a date, or as typed (checked with the other fields)
    exemption_basis: Any = None
    notes: Any = None
    binder_id: Any = None
    series_id: Any = None
    #: corrections only
    reason: Any = None


# ---------------------------------------------------------------------------------------------- look-ups


def get_invoice(company_id: int, invoice_id: int) -> Invoice | None:
    """One invoice of the company, or None (another company's id gives None)."""
    return db.session.execute(
        select(Invoice).where(Invoice.company_id == company_id, Invoice.id == invoice_id)
    ).scalar_one_or_none()


def _require(company_id: int, invoice_id: int, lock: bool = False) -> Invoice:
    stmt = select(Invoice).where(Invoice.company_id == company_id, Invoice.id == invoice_id)
    if lock:
        stmt = stmt.with_for_update()
    invoice = db.session.execute(stmt).scalar_one_or_none()
    if invoice is None:
        raise DomainError(_l("This invoice does not exist."))
    return invoice


def _company(company_id: int) -> Company:
    company = db.session.get(Company, company_id)
    if company is None:
        raise DomainError(_l("This company does not exist."))
    return company


def require_seller(company_id: int) -> Company:
    """The company as the seller; refused with a pointer to the settings when its NIP is missing."""
    company = _company(company_id)
    if not (company.nip or "").strip():
        raise DomainError(_l('Enter your company\'s NIP in Settings > "Company data" before issuing invoices.'))
    return company


def ksef_environment(company_id: int) -> str:
    """The company's KSeF environment (test until the owner chooses another)."""
    settings = db.session.execute(
        select(KsefSettings).where(KsefSettings.company_id == company_id)
    ).scalar_one_or_none()
    return settings.environment if settings is not None else "test"


def editable(invoice: Invoice) -> bool:
    """Whether the invoice's content may still change (a draft, or issued and neither in KSeF nor on its way)."""
    if invoice.status == "cancelled" or invoice.frozen:
        return False
    return invoice.ksef_status not in ("queued", "sending")


def cancellable(invoice: Invoice) -> bool:
    """Whether "Anuluj" is offered: issued, and not accepted by or on its way to KSeF."""
    return invoice.status == "issued" and invoice.ksef_status in ("none", "rejected")


def _refuse_change(invoice: Invoice) -> None:
    if invoice.frozen:
        raise DomainError(_l("This invoice was accepted by KSeF and cannot be changed: issue a correction."))
    if invoice.ksef_status in ("queued", "sending"):
        raise DomainError(_l("This invoice is being sent to KSeF and cannot be changed now."))
    if invoice.status == "cancelled":
        raise DomainError(_l("A cancelled invoice cannot be changed."))


# ---------------------------------------------------------------------------------------------- cleaning


def clean_lines(items: list[LineData]) -> list[dict[str, Any]]:
    """Validate the lines and compute each line's net; a DomainError names the line."""
    lines = [it for it in items if str(it.name or "").strip() or str(it.unit_price or "").strip() not in ("", "0")]
    if not lines:
        raise DomainError(_l("Add at least one item."), "items")
    if len(lines) > MAX_ITEMS:
        raise DomainError(_l("At most %(n)s items in one document.", n=MAX_ITEMS), "items")
    cleaned = []
    for pos, it in enumerate(lines, start=1):
        try:
            name = v.clean_text(it.name, "items", _l("Name"), 256, required=True)
            unit = v.clean_text(it.unit or "szt.", "items", _l("Unit"), 12, required=True)
            qty = pricing.parse_decimal(it.quantity, "items", _l("Quantity"), 3,
                                        minimum=Decimal("0.001"), maximum=pricing.MAX_QTY)
            price = pricing.parse_decimal(it.unit_price, "items", _l("Unit net price"), 2)
            discount = pricing.parse_decimal(it.discount or "0", "items", _l("Discount"), 2, maximum=Decimal(100))
            rate = docs.normalize_rate(str(it.rate or ""))
            if rate not in docs.RATE_CODES:
                raise DomainError(_l("Choose a VAT rate from the list."), "items")
        except DomainError as err:
            raise DomainError(_l("Item %(n)s: %(error)s", n=pos, error=str(err)), "items") from None
        assert qty is not None and price is not None and discount is not None  # parse_decimal of a given value
        net = pricing.line_net(qty, price, discount)
        if net > pricing.MAX_MONEY:
            raise DomainError(_l("Item %(n)s: the amount is too large.", n=pos), "items")
        annex = it.annex15 in (True, "1", "on", "true", "y")
        cleaned.append({"position": pos, "name": name, "unit": unit, "quantity": qty, "unit_net": price,
                        "discount": discount, "rate_code": rate, "annex15": annex, "net": net})
    return cleaned


def _clean_header(company_id: int, data: InvoiceData, kind: str, correction: bool,
                  checks: FieldChecks) -> dict[str, Any]:
    """The header fields; every refusal goes into ``checks`` (the caller raises them all at once)."""
    today = clock.local_today()
    issue_date = checks.run(inputs.parse_date, data.issue_date, "issue_date") or today
    sale_date = checks.run(inputs.parse_date, data.sale_date, "sale_date")
    due_date = checks.run(inputs.parse_date, data.due_date, "due_date")
    header: dict[str, Any] = {"issue_date": issue_date, "sale_date": sale_date or issue_date}
    if not correction:
        if data.contact_id in (None, ""):
            checks.refuse(_l("Choose the buyer."), "contact_id")
        else:
            contact = checks.run(pickable_contact, company_id, data.contact_id)
            if contact is not None:
                header.update(_buyer_fields(contact))
        currency = str(data.currency or "PLN").upper()
        if currency not in CURRENCIES:
            checks.refuse(_l("Choose a currency from the list."), "currency")
        header["currency"] = currency
        if currency != "PLN":
            exchange_date = checks.run(inputs.parse_date, data.exchange_date, "exchange_date")
            rate = checks.run(pricing.parse_decimal, data.exchange_rate, "exchange_rate", _l("NBP exchange rate"), 4,
                              minimum=Decimal("0.0001"), maximum=Decimal("100000"))
            table = checks.run(v.clean_text, data.exchange_table, "exchange_table", _l("NBP table"), 40, required=True)
            if exchange_date is None:
                checks.refuse(_l("Enter the date of the NBP table."), "exchange_date")
            elif exchange_date > issue_date:
                checks.refuse(_l("The NBP rate must be from before the issue date."), "exchange_date")
            header.update(exchange_rate=rate, exchange_table=table, exchange_date=exchange_date)
        else:
            header.update(exchange_rate=None, exchange_table=None, exchange_date=None)
    else:
        header["correction_reason"] = checks.run(v.clean_text, data.reason, "reason", _l("Reason for the correction"),
                                                 256, required=True)
    method = data.payment_method or "transfer"
    if method not in PAYMENT_METHODS:
        checks.refuse(_l("Choose a payment method."), "payment_method")
    if due_date is not None and due_date < issue_date:
        checks.refuse(_l("The due date cannot be before the issue date."), "due_date")
    if sale_date is not None and abs((sale_date - issue_date).days) > 366:
        checks.refuse(_l("The sale date must be within a year of the issue date."), "sale_date")
    header.update(
        place_of_issue=checks.run(v.clean_text, data.place_of_issue, "place_of_issue", _l("Place of issue"), 100),
        payment_method=method, due_date=due_date,
        exemption_basis=checks.run(v.clean_text, data.exemption_basis, "exemption_basis",
                                   _l("Legal basis of the exemption"), 256),
        notes=checks.run(v.clean_text, data.notes, "notes", _l("Notes"), 2000),
        binder_id=checks.run(binders.check_binder, company_id, data.binder_id),
    )
    if data.series_id not in (None, ""):
        sid = checks.run(inputs.parse_id, data.series_id, "series_id", _l("This series does not exist."))
        chosen = series_svc.get_series(company_id, sid) if sid is not None else None
        if chosen is None or chosen.kind != kind or not chosen.active:
            checks.refuse(_l("This series does not exist."), "series_id")
        else:
            header["series_id"] = chosen.id
    return header


def _clean(company_id: int, data: InvoiceData, kind: str, correction: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the lines, every refusal of both at once (FieldErrors)."""
    checks = FieldChecks()
    header = _clean_header(company_id, data, kind, correction, checks)
    lines = checks.run(clean_lines, data.items)
    checks.raise_if_any()
    return header, lines


def _buyer_fields(contact: Any) -> dict[str, Any]:
    return {
        "buyer_contact_id": contact.id, "buyer_name": contact.name, "buyer_nip": contact.nip or None,
        "buyer_street": contact.street, "buyer_postal_code": contact.postal_code, "buyer_city": contact.city,
        "buyer_country": "PL",
    }


def _seller_fields(company: Company) -> dict[str, Any]:
    return {
        "seller_name": company.name, "seller_nip": company.nip or "", "seller_street": company.street,
        "seller_postal_code": company.postal_code, "seller_city": company.city,
        "bank_account": (company.iban or "").replace(" ", "") or None,
    }


# ---------------------------------------------------------------------------------------------- documents


def _line(item: InvoiceItem) -> docs.Line:
    return docs.Line(name=item.name, quantity=item.quantity, unit_price=item.unit_net, rate=item.rate_code,
                     unit=item.unit, discount=item.discount, annex15=item.annex15)


def _party(name: str, street: str | None, postal: str | None, city: str | None, nip: str | None,
           country: str = "PL") -> docs.Party:
    line2 = " ".join(x for x in (postal, city) if x)
    return docs.Party(name=name, address_line1=street or line2 or "-", address_line2=line2 if street else "",
                      country=country or "PL", nip=nip or None)


def after_items(invoice: Invoice) -> list[InvoiceItem]:
    """The invoice's lines (for a correction: the lines after the correction)."""
    return [it for it in invoice.items if not it.before]


def before_items(invoice: Invoice) -> list[InvoiceItem]:
    """A correction's lines before the correction (empty for other documents)."""
    return [it for it in invoice.items if it.before]


def to_document(invoice: Invoice) -> docs.Invoice:
    """The invoice as a plain document value (totals, FA(3) XML and PDF are computed from it)."""
    correction = None
    if invoice.kind == "correction":
        orig = invoice.corrected
        correction = docs.CorrectionOf(
            number=(orig.number or "") if orig is not None else "", issue_date=orig.issue_date if orig else invoice.issue_date,
            reason=invoice.correction_reason or "", before_lines=tuple(_line(i) for i in before_items(invoice)),
            ksef_number=orig.ksef_number if orig is not None else None,
        )
    return docs.Invoice(
        number=invoice.number or "", issue_date=invoice.issue_date,
        seller=_party(invoice.seller_name, invoice.seller_street, invoice.seller_postal_code, invoice.seller_city,
                      invoice.seller_nip),
        buyer=_party(invoice.buyer_name, invoice.buyer_street, invoice.buyer_postal_code, invoice.buyer_city,
                     invoice.buyer_nip, invoice.buyer_country),
        lines=tuple(_line(i) for i in after_items(invoice)),
        sale_date=invoice.sale_date, place_of_issue=invoice.place_of_issue or "", currency=invoice.currency,
        exchange_rate=invoice.exchange_rate, exchange_rate_date=invoice.exchange_date,
        exchange_rate_table=invoice.exchange_table or "",
        payment=docs.Payment(method=invoice.payment_method, due_date=invoice.due_date,
                             bank_account=invoice.bank_account or ""),
        exemption_basis=invoice.exemption_basis or "", correction=correction,
        proforma=invoice.kind == "proforma", notes=tuple(x for x in [invoice.notes or ""] if x),
    )


def document_totals(invoice: Invoice) -> tot.InvoiceTotals:
    """What the document states: its totals, or for a correction the difference."""
    return tot.document_totals(to_document(invoice))


def _recompute(invoice: Invoice) -> None:
    doc = to_document(invoice)
    if not doc.lines and not before_items(invoice):
        return
    totals = tot.document_totals(doc)
    invoice.total_net, invoice.total_vat, invoice.total_gross = totals.net, totals.vat, totals.gross
    invoice.total_vat_pln = totals.vat_pln if totals.vat_pln is not None else totals.vat
    invoice.split_payment = tot.split_payment_required(doc)


def _set_lines(invoice: Invoice, lines: list[dict[str, Any]]) -> None:
    """Replace the invoice's (after) lines, keeping a correction's lines before."""
    for item in after_items(invoice):
        invoice.items.remove(item)
    offset = len(before_items(invoice))
    for line in lines:
        invoice.items.append(InvoiceItem(company_id=invoice.company_id, before=False,
                                         **{**line, "position": line["position"] + offset}))


# ---------------------------------------------------------------------------------------------- drafts


def _default_binder(company_id: int, contact_id: int | None) -> int | None:
    if contact_id is None:
        return None
    found = binders.list_binders(company_id, contact_id=contact_id)
    return found[0][0].id if found else None


@unit_of_work
def create_draft(company_id: int, user: Any, data: InvoiceData, kind: str = "vat",
                 order_id: int | None = None, offer_id: int | None = None) -> Invoice:
    """Save a new draft (no number yet) of a VAT invoice or a proforma."""
    if kind not in ("vat", "proforma"):
        raise DomainError(_l("Choose the kind of document."))
    company = require_seller(company_id)
    header, lines = _clean(company_id, data, kind, correction=False)
    if header.get("binder_id") is None:
        header["binder_id"] = _default_binder(company_id, header["buyer_contact_id"])
    if not header.get("place_of_issue"):
        header["place_of_issue"] = company.city
    invoice = Invoice(company_id=company_id, kind=kind, status="draft", created_by_id=getattr(user, "id", None),
                      order_id=order_id, offer_id=offer_id, **_seller_fields(company), **header)
    db.session.add(invoice)
    _set_lines(invoice, lines)
    _recompute(invoice)
    db.session.flush()
    return invoice


@unit_of_work
def update_invoice(company_id: int, user: Any, invoice_id: int, data: InvoiceData) -> Invoice:
    """Save changes of a draft; an issued invoice not in KSeF keeps its number and gets new XML and PDF."""
    invoice = _require(company_id, invoice_id, lock=True)
    _refuse_change(invoice)
    correction = invoice.kind == "correction"
    header, lines = _clean(company_id, data, invoice.kind, correction)
    if invoice.status != "draft":
        header.pop("series_id", None)  # an issued document stays in its series
    for key, value in header.items():
        setattr(invoice, key, value)
    _set_lines(invoice, lines)
    _recompute(invoice)
    db.session.flush()
    if invoice.status == "issued":
        _build_xml(invoice)
        store_pdf(company_id, invoice.id)
    return invoice


@unit_of_work
def delete_draft(company_id: int, user: Any, invoice_id: int) -> None:
    """Remove a draft for good (it has no number); issued invoices are never deleted."""
    invoice = _require(company_id, invoice_id, lock=True)
    if invoice.status != "draft":
        raise DomainError(_l("An issued invoice is never deleted: cancel it or issue a correction."))
    db.session.delete(invoice)


def _order_lines(items: list[Any]) -> list[LineData]:
    return [LineData(name=it.name, unit=it.unit, quantity=it.quantity, unit_price=it.unit_price,
                     discount=it.discount, rate=docs.normalize_rate(it.vat_rate)) for it in items]


def _source_data(source: Any) -> InvoiceData:
    today = clock.local_today()
    due = getattr(source, "due_date", None)
    if due is None or due < today:
        due = today + dt.timedelta(days=14)
    return InvoiceData(contact_id=source.contact_id, issue_date=today, sale_date=today,
                       items=_order_lines(list(source.items)), currency=source.currency,
                       binder_id=source.binder_id, due_date=due)


@unit_of_work
def draft_from_order(company_id: int, user: Any, order_id: int) -> Invoice:
    """A draft invoice from an order: buyer, binder, currency and every line copied."""
    order = db.session.execute(select(Order).where(Order.company_id == company_id, Order.id == order_id)) \
        .scalar_one_or_none()
    if order is None:
        raise DomainError(_l("This order does not exist."))
    if order.currency not in CURRENCIES:
        raise DomainError(_l("Invoices are issued in PLN, EUR or USD."))
    return create_draft(company_id, user, _source_data(order), order_id=order.id, offer_id=order.offer_id)


@unit_of_work
def draft_from_offer(company_id: int, user: Any, offer_id: int) -> Invoice:
    """A draft invoice from an accepted offer: buyer, binder, currency and every line copied."""
    offer = db.session.execute(select(Offer).where(Offer.company_id == company_id, Offer.id == offer_id)) \
        .scalar_one_or_none()
    if offer is None:
        raise DomainError(_l("This offer does not exist."))
    if offer.status != "accepted":
        raise DomainError(_l("Only an accepted offer can become an invoice."))
    if offer.currency not in CURRENCIES:
        raise DomainError(_l("Invoices are issued in PLN, EUR or USD."))
    return create_draft(company_id, user, _source_data(offer), offer_id=offer.id)


def form_data_of(invoice: Invoice) -> InvoiceData:
    """A saved invoice as form data (the edit form)."""
    return InvoiceData(
        contact_id=invoice.buyer_contact_id, issue_date=invoice.issue_date, sale_date=invoice.sale_date,
        place_of_issue=invoice.place_of_issue,
        items=[LineData(name=i.name, unit=i.unit, quantity=pricing.format_quantity(i.quantity),
                        unit_price=str(i.unit_net).replace(".", ","), discount=pricing.format_quantity(i.discount),
                        rate=i.rate_code, annex15=i.annex15) for i in after_items(invoice)],
        currency=invoice.currency,
        exchange_rate=str(invoice.exchange_rate).replace(".", ",") if invoice.exchange_rate is not None else "",
        exchange_table=invoice.exchange_table, exchange_date=invoice.exchange_date,
        payment_method=invoice.payment_method, due_date=invoice.due_date, exemption_basis=invoice.exemption_basis,
        notes=invoice.notes, binder_id=invoice.binder_id, series_id=invoice.series_id,
        reason=invoice.correction_reason,
    )


# ---------------------------------------------------------------------------------------------- issuing


def _build_xml(invoice: Invoice) -> None:
    """Build, validate and store the FA(3) bytes and their SHA-256 (nothing for a proforma)."""
    if invoice.kind == "proforma":
        invoice.xml, invoice.xml_sha256 = None, None
        return
    data = fa3.build_fa3(to_document(invoice), utcnow())
    errors = fa3.validate(data)
    if errors:
        raise DomainError(_l("The invoice does not match the KSeF FA(3) structure: %(errors)s",
                             errors="; ".join(errors[:5])))
    invoice.xml = data
    invoice.xml_sha256 = hashlib.sha256(data).hexdigest()


def _auto_send(company_id: int) -> bool:
    settings = db.session.execute(
        select(KsefSettings).where(KsefSettings.company_id == company_id)
    ).scalar_one_or_none()
    return bool(settings is not None and settings.auto_send)


@unit_of_work
def issue(company_id: int, user: Any, invoice_id: int) -> Invoice:
    """"Wystaw": number from the series, FA(3) XML (validated), PDF in the attachments; KSeF queue if automatic.

    All in one transaction: a refusal (e.g. schema problem) gives the number back.
    """
    invoice = _require(company_id, invoice_id, lock=True)
    if invoice.status != "draft":
        raise DomainError(_l("This invoice was already issued."))
    company = require_seller(company_id)
    for key, value in _seller_fields(company).items():
        setattr(invoice, key, value)
    if invoice.kind == "correction":
        original = invoice.corrected
        if original is None or original.status != "issued":
            raise DomainError(_l("The corrected invoice is not issued."))
    if not after_items(invoice) and invoice.kind != "correction":
        raise DomainError(_l("Add at least one item."))
    _recompute(invoice)
    if invoice.kind != "proforma":
        fa3.check_document(to_document(invoice))
    series = series_svc.get_series(company_id, invoice.series_id) if invoice.series_id else None
    if series is None or series.kind != invoice.kind:
        series = series_svc.default_series(company_id, invoice.kind)
    seq, period, number = series_svc.next_number(company_id, series, invoice.issue_date)
    invoice.series_id, invoice.seq_number, invoice.seq_period, invoice.number = series.id, seq, period, number
    invoice.status = "issued"
    invoice.issued_at = utcnow()
    _build_xml(invoice)
    db.session.flush()
    store_pdf(company_id, invoice.id)
    if invoice.kind != "proforma" and _auto_send(company_id):
        _enqueue(company_id, invoice.id)
    return invoice


def _enqueue(company_id: int, invoice_id: int) -> None:
    """Queue an issued invoice for KSeF (the sending module owns the outbox)."""
    ksef.enqueue(company_id, invoice_id)


@unit_of_work
def cancel(company_id: int, user: Any, invoice_id: int) -> Invoice:
    """Cancel an issued invoice not in KSeF: it keeps its number in the series, marked cancelled."""
    invoice = _require(company_id, invoice_id, lock=True)
    if invoice.status == "draft":
        raise DomainError(_l("A draft has no number: delete it instead."))
    _refuse_change(invoice)
    if invoice.payments:
        raise DomainError(_l("This invoice has payments recorded: it cannot be cancelled."))
    invoice.status = "cancelled"
    invoice.cancelled_at = utcnow()
    return invoice


# ---------------------------------------------------------------------------------------------- PDF


def _iban(value: str | None) -> str:
    text = (value or "").replace(" ", "")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as an inline SVG data URI, made locally."""
    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def kod_i(invoice: Invoice) -> str | None:
    """The KOD I verification link of an invoice with a KSeF number, or None."""
    if not invoice.ksef_number or not invoice.xml:
        return None
    return ksef_api.kod_i_url(ksef_environment(invoice.company_id), invoice.seller_nip, invoice.issue_date,
                              invoice.xml)


def _date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def render_html(invoice: Invoice) -> str:
    """The HTML of an invoice as the PDF engine gets it (Polish)."""
    company = db.session.get(Company, invoice.company_id)
    doc = to_document(invoice)
    both = tot.correction_totals(doc) if doc.correction is not None else None
    totals = both.difference if both else tot.invoice_totals(doc)
    link = kod_i(invoice)
    logo = None
    if company is not None and company.logo:
        logo = f"data:{company.logo_mime or 'image/png'};base64,{base64.b64encode(company.logo).decode()}"
    # the scheduler prints too (after KSeF accepts): templates' context processors need a request
    outside = contextlib.nullcontext() if has_request_context() else current_app.test_request_context()
    with outside, force_locale("pl"):
        return render_template(
            "pdf/invoice.html", inv=invoice, doc=doc, doc_lang="pl", totals=totals, both=both,
            before=before_items(invoice), after=after_items(invoice),
            words=tot.amount_in_words(totals.gross, invoice.currency), logo=logo, accent=ACCENT,
            money=pricing.format_money, qty=pricing.format_quantity, rate_label=lambda r: docs.RATE_LABELS.get(r, r),
            iban=_iban, date=_date, payment_labels=PAYMENT_LABELS, kind_titles=KIND_TITLES,
            kod_i=link, qr=qr_svg(link) if link else None,
        )


def pdf_filename(invoice: Invoice) -> str:
    """A safe file name: "FV_3_11_2026.pdf" (a draft: "szkic_12.pdf")."""
    if not invoice.number:
        return f"szkic_{invoice.id}.pdf"
    return invoice.number.replace("/", "_").replace(" ", "_") + ".pdf"


@unit_of_work
def store_pdf(company_id: int, invoice_id: int) -> None:
    """(Re)print the invoice's PDF and store it in its attachments and binder, replacing the previous PDF."""
    invoice = _require(company_id, invoice_id)
    pdf = render_pdf(render_html(invoice))
    old_keys = []
    for att in owner_attachments(company_id, OWNER_TYPE, invoice.id):
        old_keys.append(att.storage_key)
        db.session.delete(att)
    db.session.flush()
    store_attachment(company_id, pdf, pdf_filename(invoice), binder_id=invoice.binder_id,
                     owner=(OWNER_TYPE, invoice.id), user_id=None)
    if old_keys:
        def _drop_files(_session: Any) -> None:
            storage = get_storage()
            for key in old_keys:
                try:
                    storage.delete(key)
                except Exception:  # noqa: BLE001 - a file left behind is harmless; the row is gone
                    pass
        event.listen(db.session(), "after_commit", _drop_files, once=True)


def invoice_pdf(company_id: int, invoice_id: int) -> tuple[str, bytes] | None:
    """(file name, bytes) of an invoice's stored PDF, or None."""
    invoice = get_invoice(company_id, invoice_id)
    if invoice is None:
        return None
    found = owner_attachments(company_id, OWNER_TYPE, invoice.id)
    if not found:
        return None
    return found[0].filename, read_attachment(found[0])


def preview_pdf(company_id: int, invoice_id: int) -> tuple[str, bytes] | None:
    """A draft's PDF printed on the fly (not stored), or the stored PDF of an issued invoice."""
    invoice = get_invoice(company_id, invoice_id)
    if invoice is None:
        return None
    if invoice.status == "draft":
        return pdf_filename(invoice), render_pdf(render_html(invoice))
    return invoice_pdf(company_id, invoice_id)


@unit_of_work
def send_invoice(company_id: int, user_id: int | None, invoice_id: int, mail: DocumentMail) -> DocumentEmail:
    """E-mail an issued invoice's PDF from a verified company mailbox chosen by the user; recorded on the invoice."""
    invoice = _require(company_id, invoice_id)
    if invoice.status == "draft":
        raise DomainError(_l("Issue the invoice first: a draft is not sent to the buyer."))
    pdf = invoice_pdf(company_id, invoice.id)
    if pdf is None:
        raise DomainError(_l("The PDF of this invoice cannot be read."))
    filename, content = pdf
    return mailing_documents.send_document(company_id, user_id, "invoice", invoice.id, mail,
                                           [(filename, content, "application/pdf")])
