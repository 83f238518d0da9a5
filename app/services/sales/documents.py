"""What offers and orders share: item lines, the header (client, language, currency, binder),
totals, the printed PDF filed in "Załączniki", lists and binder sections.

A sales document is an ``Offer`` or an ``Order``; the two modules ``offers`` and ``orders`` add
only what is their own (validity and reminders, e-mailing; orders from offers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models.binders import Attachment, Binder
from app.models.contacts import Contact
from app.models.sales import CURRENCIES, DOC_LANGUAGES, Offer, OfferItem, Order, OrderItem, Product
from app.services import DomainError, FieldChecks, inputs, trash
from app.services import validators as v
from app.services.contacts.contacts import pickable_contact
from app.services.sales import pricing, sales_pdf
from app.services.sales.sales_pdf import Document
from app.services.work import binders
from app.services.work.attachments import get_attachment, owner_attachments, read_attachment, store_attachment
from app.services.work.binders import BinderRow

MAX_ITEMS = 500

D = TypeVar("D", Offer, Order)


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


class HeaderData(Protocol):
    """The header fields every document form has."""

    contact_id: Any
    language: str
    currency: str
    binder_id: Any
    payment_terms: str | None
    notes: str | None


def _opt_int(value: Any) -> int | None:
    return inputs.parse_id(value, "items", _l("This record does not exist."))


def clean_items(items: list[ItemData], currency: str) -> list[dict[str, Any]]:
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
                product = db.session.execute(select(Product).where(Product.id == product_id)).scalar_one_or_none()
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
        assert qty is not None and price is not None and discount is not None  # required=True
        net = pricing.line_net(qty, price, discount)
        if net > pricing.MAX_MONEY:
            raise DomainError(_l("Item %(n)s: the amount is too large.", n=pos), "items")
        cleaned.append({"position": pos, "product_id": product.id if product else None, "name": name, "code": code,
                        "unit": unit, "quantity": qty, "unit_price": price, "discount": discount, "vat_rate": rate,
                        "net": net})
    return cleaned


def copy_items(doc: Document) -> list[dict[str, Any]]:
    """The saved lines of a document as cleaned lines (an order made from an offer copies them)."""
    return [
        {"position": it.position, "product_id": it.product_id, "name": it.name, "code": it.code, "unit": it.unit,
         "quantity": it.quantity, "unit_price": it.unit_price, "discount": it.discount, "vat_rate": it.vat_rate,
         "net": it.net}
        for it in doc.items
    ]


def pick_client(company_id: int, contact_id: Any) -> Contact:
    """The client of a document: a contact of a "Kontakty" base of this company (never a mailing base)."""
    if contact_id in (None, ""):
        raise DomainError(_l("Choose a client."), "contact_id")
    return pickable_contact(company_id, contact_id)


def preselected_client(company_id: int, contact_id: Any) -> Contact | None:
    """The client a "new document" page opens with (from a binder or a contact page), or None when not pickable."""
    try:
        return pick_client(company_id, contact_id)
    except DomainError:
        return None


def clean_document_header(company_id: int, data: HeaderData, checks: FieldChecks | None = None) -> dict[str, Any]:
    """Header fields offers and orders share: client, language, currency, binder, terms, notes.

    With ``checks`` every refusal is recorded there (the caller raises them all at once).
    """
    own = checks is None
    checks = checks if checks is not None else FieldChecks()
    contact = checks.run(pick_client, company_id, data.contact_id)
    if data.language not in DOC_LANGUAGES:
        checks.refuse(_l("Choose the language of the document."), "language")
    currency = (data.currency or "PLN").upper()
    if currency not in CURRENCIES:
        checks.refuse(_l("Choose a currency from the list."), "currency")
    header = {
        "contact_id": contact.id if contact is not None else None, "language": data.language, "currency": currency,
        "binder_id": checks.run(binders.check_binder, company_id, data.binder_id),
        "payment_terms": checks.run(v.clean_text, data.payment_terms, "payment_terms", _l("Payment terms"), 200),
        "notes": checks.run(v.clean_text, data.notes, "notes", _l("Notes"), 4000),
    }
    if own:
        checks.raise_if_any()
    return header


def apply_items(doc: Document, lines: list[dict[str, Any]]) -> None:
    """Replace a document's lines with the cleaned ``lines`` and recompute its totals."""
    item_cls = OfferItem if isinstance(doc, Offer) else OrderItem
    doc.items.clear()
    for line in lines:
        doc.items.append(item_cls(company_id=doc.company_id, **line))
    totals = pricing.compute_totals((line["net"], line["vat_rate"]) for line in lines)
    doc.total_net, doc.total_vat, doc.total_gross = totals.net, totals.vat, totals.gross


def print_to_attachments(doc: Document, template: str, kind: str, user_id: int | None) -> Attachment:
    """Bump the document's version, render its PDF and file it with the document (and its binder).

    Runs inside the caller's unit of work: the PDF is saved together with the document, or not at all.
    """
    doc.version = (doc.version or 0) + 1
    db.session.flush()
    pdf = sales_pdf.render_document_pdf(doc, template, kind)
    return store_attachment(doc.company_id, pdf, sales_pdf.pdf_filename(doc, doc.version),
                            binder_id=doc.binder_id, owner=doc, user_id=user_id)


def get_document(model: type[D], doc_id: int) -> D | None:
    """One live offer or order of the company in scope, or None."""
    return db.session.execute(select(model).where(model.id == doc_id)).scalar_one_or_none()


def require_document(model: type[D], doc_id: int) -> D:
    """One live offer or order of the company in scope, or DomainError (missing, deleted or another company's)."""
    doc = get_document(model, doc_id)
    if doc is None:
        raise DomainError(_l("This record does not exist."))
    return doc


def list_documents(model: type[D], statuses: tuple[str, ...], q: str = "", status: str = "",
                   limit: int = 200) -> list[D]:
    """Offers or orders of the company, newest first; ``q`` matches the number or the client's name."""
    stmt = select(model).join(Contact, Contact.id == model.contact_id)
    if status in statuses:
        stmt = stmt.where(model.status == status)
    q = (q or "").strip().lower()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(func.lower(model.number).like(like), func.lower(Contact.name).like(like)))
    stmt = stmt.order_by(model.issue_date.desc(), model.id.desc()).limit(limit)
    # the client of each row comes with the join, not one query per row
    return list(db.session.execute(stmt.options(contains_eager(model.contact))).scalars())


def documents_of_binder(model: type[D], binder_id: int) -> list[D]:
    """Offers or orders filed in a binder, and those of the binder's client not filed in any binder."""
    client = select(Binder.contact_id).where(Binder.id == binder_id).scalar_subquery()
    return list(db.session.execute(
        select(model).where(or_(
            model.binder_id == binder_id, and_(model.binder_id.is_(None), model.contact_id == client),
        )).order_by(model.id.desc())
    ).scalars())


def binder_entries(kind: str, docs: list[D], labels: Mapping[str, Any]) -> list[BinderRow]:
    """A binder's rows for offers or orders: number, status and gross total of each."""
    return [
        BinderRow(kind, d.id, d.number,
                  f"{labels[d.status]} · {pricing.format_money(d.total_gross)} {d.currency}", d.issue_date)
        for d in docs
    ]


def stored_pdf(company_id: int, attachment_id: int | None) -> tuple[str, bytes] | None:
    """(file name, bytes) of a live attachment of the company, or None."""
    if attachment_id is None:
        return None
    att = get_attachment(company_id, attachment_id)
    if att is None:
        return None
    return att.filename, read_attachment(att)


def delete_with_attachments(doc: Document, owner_type: str, user_id: int | None) -> str:
    """Move a document (cascading to its lines) and the attachments it owns to the trash in one operation."""
    return trash.soft_delete([doc, *owner_attachments(doc.company_id, owner_type, doc.id)], user_id)

