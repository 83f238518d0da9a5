"""Orders ("Zlecenia"): from an accepted offer (lines copied) or from scratch; own number series; PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.mailing import DocumentEmail
from app.models.sales import ORDER_STATUSES, Offer, Order
from app.models.users import CrmUser
from app.services import DomainError, FieldChecks, clock, inputs, unit_of_work
from app.services.sales import delivery, numbering
from app.services.sales.documents import (
    ItemData,
    apply_items,
    binder_entries,
    clean_document_header,
    clean_items,
    copy_items,
    delete_with_attachments,
    documents_of_binder,
    get_document,
    list_documents,
    print_to_attachments,
    require_document,
    stored_pdf,
)
from app.services.work.binders import BinderRow

STATUS_LABELS = {
    "new": _l("New"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_progress", "done", "cancelled"),
    "in_progress": ("done", "cancelled", "new"),
    "done": ("in_progress",),
    "cancelled": ("new",),
}
EDITABLE = ("new", "in_progress")


@dataclass
class OrderData:
    """The order form."""

    contact_id: Any
    items: list[ItemData] = field(default_factory=list)
    language: str = "pl"
    currency: str = "PLN"
    due_date: dt.date | str | None = None  # a date, or as typed (checked with the other fields)
    binder_id: Any = None
    payment_terms: str | None = None
    notes: str | None = None


def _clean(company_id: int, data: OrderData) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the lines, every refusal of both at once (FieldErrors)."""
    checks = FieldChecks()
    header = clean_document_header(company_id, data, checks)
    due_date = checks.run(inputs.parse_date, data.due_date, "due_date")
    lines = checks.run(clean_items, data.items, header["currency"])
    checks.raise_if_any()
    return {**header, "due_date": due_date}, lines


def _new_order(company_id: int, user_id: int | None, today: dt.date, **header: Any) -> Order:
    seq, number = numbering.next_number(company_id, "order", today.year)
    order = Order(company_id=company_id, number=number, seq_year=today.year, seq_number=seq,
                  issue_date=today, status="new", owner_id=user_id, **header)
    db.session.add(order)
    return order


def _store_pdf(order: Order, user_id: int | None) -> None:
    """Render the order's PDF and file it (in its binder too); runs inside the caller's unit of work."""
    order.attachment_id = print_to_attachments(order, "order", "order", user_id).id


@unit_of_work
def create_order(company_id: int, user_id: int | None, data: OrderData, today: dt.date | None = None) -> Order:
    """A new order from scratch, with its number and PDF."""
    today = today or clock.local_today()
    header, lines = _clean(company_id, data)
    order = _new_order(company_id, user_id, today, **header)
    apply_items(order, lines)
    _store_pdf(order, user_id)
    return order


def can_order(offer: Offer, existing: list[Order]) -> bool:
    """Whether an offer can become an order: accepted, and no order made from it yet."""
    return offer.status == "accepted" and not existing


@unit_of_work
def create_from_offer(company_id: int, user_id: int | None, offer_id: int, today: dt.date | None = None) -> Order:
    """An order from an accepted offer: client, binder, currency, terms and every line copied."""
    # lock the offer: two clicks (or two users) at once make one order, not two
    db.session.execute(select(Offer.id).where(Offer.id == offer_id).with_for_update())
    offer = require_document(Offer, offer_id)
    if offer.status != "accepted":
        raise DomainError(_l("Only an accepted offer can become an order."))
    existing = orders_of_offer(company_id, offer.id)
    if existing:
        raise DomainError(_l("Order %(number)s was already made from this offer.", number=existing[0].number))
    today = today or clock.local_today()
    order = _new_order(
        company_id, user_id, today, contact_id=offer.contact_id, offer_id=offer.id,
        language=offer.language, currency=offer.currency, binder_id=offer.binder_id,
        payment_terms=offer.payment_terms, notes=offer.notes,
    )
    apply_items(order, copy_items(offer))
    _store_pdf(order, user_id)
    return order


@unit_of_work
def update_order(company_id: int, user_id: int | None, order_id: int, data: OrderData) -> Order:
    """Save changes and print a new PDF (the earlier PDF stays in the attachments)."""
    order = require_document(Order, order_id)
    if order.status not in EDITABLE:
        raise DomainError(_l("A finished or cancelled order cannot be changed."))
    header, lines = _clean(company_id, data)
    for key, value in header.items():
        setattr(order, key, value)
    apply_items(order, lines)
    _store_pdf(order, user_id)
    return order


@unit_of_work
def set_status(company_id: int, order_id: int, status: str) -> Order:
    """Move an order to another status as TRANSITIONS allows."""
    order = require_document(Order, order_id)
    if status not in TRANSITIONS.get(order.status, ()):
        raise DomainError(_l("The order cannot change from %(old)s to %(new)s.",
                             old=STATUS_LABELS.get(order.status, order.status),
                             new=STATUS_LABELS.get(status, status)))
    order.status = status
    return order


def get_order(company_id: int, order_id: int) -> Order | None:
    """One live order of the company, or None."""
    return get_document(Order, order_id)


def list_orders(company_id: int, q: str = "", status: str = "", limit: int = 200) -> list[Order]:
    """Orders of the company, newest first; ``q`` matches the number or the client's name."""
    return list_documents(Order, ORDER_STATUSES, q, status, limit)


def orders_of_binder(company_id: int, binder_id: int) -> list[Order]:
    """Orders filed in a binder, and orders of the binder's client not filed in any binder."""
    return documents_of_binder(Order, binder_id)


def binder_items(company_id: int, user: CrmUser, binder_id: int) -> list[BinderRow]:
    """The orders of a binder (everyone in the company sees them): number, status and gross total of each."""
    return binder_entries("orders", orders_of_binder(company_id, binder_id), STATUS_LABELS)


def orders_of_offer(company_id: int, offer_id: int) -> list[Order]:
    """Orders made from an offer."""
    return list(db.session.execute(select(Order).where(Order.offer_id == offer_id)).scalars())


def order_pdf(company_id: int, order_id: int) -> tuple[str, bytes] | None:
    """(file name, bytes) of the order's latest PDF, or None."""
    order = get_order(company_id, order_id)
    return stored_pdf(company_id, order.attachment_id) if order is not None else None


@unit_of_work
def send_order(company_id: int, user_id: int | None, order_id: int, mail: delivery.DocumentMail) -> DocumentEmail:
    """E-mail the order's latest PDF from a verified company mailbox chosen by the user; recorded on the order."""
    order = require_document(Order, order_id)
    pdf = order_pdf(company_id, order.id)
    if pdf is None:
        raise DomainError(_l("The order has no PDF yet; save it first."))
    filename, content = pdf
    return delivery.deliver(company_id, user_id, "order", order.id, mail, [(filename, content, "application/pdf")])


@unit_of_work
def delete_order(company_id: int, user_id: int | None, order_id: int) -> str:
    """Move an order, its lines and PDFs to the trash in one operation."""
    return delete_with_attachments(require_document(Order, order_id), "sales_order", user_id)
