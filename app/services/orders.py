"""Orders ("Zlecenia"): from an accepted offer (lines copied) or from scratch; own number series; PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.models.binders import Attachment, Binder
from app.models.contacts import Contact
from app.models.sales import (
    CURRENCIES,
    DOC_LANGUAGES,
    ORDER_STATUSES,
    Offer,
    Order,
    OrderItem,
)
from app.services import DomainError, clock, numbering, pricing, sales_pdf, transaction, trash
from app.services import validators as v
from app.services.offers import (
    ItemData,
    _apply_items,
    check_binder,
    clean_items,
    pick_client,
)

STATUS_LABELS = {
    "new": _l("New"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
TRANSITIONS = {
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
    due_date: dt.date | None = None
    binder_id: Any = None
    payment_terms: str | None = None
    notes: str | None = None


def _clean_header(company_id: int, data: OrderData) -> dict:
    contact = pick_client(company_id, data.contact_id)
    if data.language not in DOC_LANGUAGES:
        raise DomainError(_l("Choose the language of the document."), "language")
    currency = (data.currency or "PLN").upper()
    if currency not in CURRENCIES:
        raise DomainError(_l("Choose a currency from the list."), "currency")
    return {
        "contact_id": contact.id, "language": data.language, "currency": currency, "due_date": data.due_date,
        "binder_id": check_binder(company_id, data.binder_id),
        "payment_terms": v.clean_text(data.payment_terms, "payment_terms", _l("Payment terms"), 200),
        "notes": v.clean_text(data.notes, "notes", _l("Notes"), 4000),
    }


def _new_order(company_id: int, user_id: int | None, today: dt.date, **header: Any) -> Order:
    seq, number = numbering.next_number(company_id, "order", today.year)
    order = Order(company_id=company_id, number=number, seq_year=today.year, seq_number=seq,
                  issue_date=today, status="new", owner_id=user_id, **header)
    db.session.add(order)
    return order


def _store_pdf(order: Order, user_id: int | None) -> None:
    """Render the order's PDF and file it (in its binder too); runs inside the caller's transaction."""
    from app.services.attachments import store_attachment

    order.version = (order.version or 0) + 1
    db.session.flush()
    pdf = sales_pdf.render_document_pdf(order, "order", "order")
    att = store_attachment(order.company_id, pdf, sales_pdf.pdf_filename(order, order.version),
                           binder_id=order.binder_id, owner=order, user_id=user_id)
    order.attachment_id = att.id


def create_order(company_id: int, user_id: int | None, data: OrderData, today: dt.date | None = None) -> Order:
    """A new order from scratch, with its number and PDF."""
    today = today or clock.local_today()
    header = _clean_header(company_id, data)
    lines = clean_items(company_id, data.items, header["currency"])
    with transaction():
        order = _new_order(company_id, user_id, today, **header)
        _apply_items(order, OrderItem, lines)
        _store_pdf(order, user_id)
    return order


def create_from_offer(offer: Offer, user_id: int | None, today: dt.date | None = None) -> Order:
    """An order from an accepted offer: client, binder, currency, terms and every line copied."""
    if offer.status != "accepted":
        raise DomainError(_l("Only an accepted offer can become an order."))
    today = today or clock.local_today()
    lines = [
        {"position": it.position, "product_id": it.product_id, "name": it.name, "code": it.code, "unit": it.unit,
             "quantity": it.quantity, "unit_price": it.unit_price, "discount": it.discount, "vat_rate": it.vat_rate, "net": it.net}
        for it in offer.items
    ]
    with transaction() as session:
        # lock the offer: two clicks (or two users) at once make one order, not two
        session.execute(select(Offer.id).where(Offer.company_id == offer.company_id, Offer.id == offer.id)
                        .with_for_update())
        existing = orders_of_offer(offer)
        if existing:
            raise DomainError(_l("Order %(number)s was already made from this offer.", number=existing[0].number))
        order = _new_order(
            offer.company_id, user_id, today, contact_id=offer.contact_id, offer_id=offer.id,
            language=offer.language, currency=offer.currency, binder_id=offer.binder_id,
            payment_terms=offer.payment_terms, notes=offer.notes,
        )
        _apply_items(order, OrderItem, lines)
        _store_pdf(order, user_id)
    return order


def update_order(order: Order, user_id: int | None, data: OrderData) -> Order:
    """Save changes and print a new PDF (the earlier PDF stays in the attachments)."""
    if order.status not in EDITABLE:
        raise DomainError(_l("A finished or cancelled order cannot be changed."))
    header = _clean_header(order.company_id, data)
    lines = clean_items(order.company_id, data.items, header["currency"])
    with transaction():
        for key, value in header.items():
            setattr(order, key, value)
        _apply_items(order, OrderItem, lines)
        _store_pdf(order, user_id)
    return order


def set_status(order: Order, status: str) -> Order:
    """Move an order to another status as TRANSITIONS allows."""
    if status not in TRANSITIONS.get(order.status, ()):
        raise DomainError(_l("The order cannot change from %(old)s to %(new)s.",
                             old=STATUS_LABELS.get(order.status, order.status),
                             new=STATUS_LABELS.get(status, status)))
    with transaction():
        order.status = status
    return order


def get_order(company_id: int, order_id: int) -> Order | None:
    """One live order of the company, or None."""
    return db.session.execute(
        select(Order).where(Order.company_id == company_id, Order.id == order_id)
    ).scalar_one_or_none()


def list_orders(company_id: int, q: str = "", status: str = "", limit: int = 200) -> list[Order]:
    """Orders of the company, newest first; ``q`` matches the number or the client's name."""
    stmt = select(Order).join(Contact, Contact.id == Order.contact_id).where(Order.company_id == company_id)
    if status in ORDER_STATUSES:
        stmt = stmt.where(Order.status == status)
    q = (q or "").strip().lower()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(func.lower(Order.number).like(like), func.lower(Contact.name).like(like)))
    stmt = stmt.order_by(Order.issue_date.desc(), Order.id.desc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


def orders_of_binder(company_id: int, binder_id: int) -> list[Order]:
    """Orders filed in a binder, and orders of the binder's client not filed in any binder."""
    client = select(Binder.contact_id).where(Binder.company_id == company_id, Binder.id == binder_id).scalar_subquery()
    return list(db.session.execute(
        select(Order).where(Order.company_id == company_id, or_(
            Order.binder_id == binder_id, and_(Order.binder_id.is_(None), Order.contact_id == client),
        )).order_by(Order.id.desc())
    ).scalars())


def binder_items(company_id: int, binder_id: int) -> list[Any]:
    """The "Zlecenia" section of a binder page: number, status and gross total of each order."""
    from app.services.binders import BinderItem

    return [
        BinderItem(o.number, f"/orders/{o.id}",
                   f"{STATUS_LABELS[o.status]} · {pricing.format_money(o.total_gross)} {o.currency}", o.issue_date)
        for o in orders_of_binder(company_id, binder_id)
    ]


def orders_of_offer(offer: Offer) -> list[Order]:
    """Orders made from an offer."""
    return list(db.session.execute(
        select(Order).where(Order.company_id == offer.company_id, Order.offer_id == offer.id)
    ).scalars())


def order_pdf(order: Order) -> tuple[str, bytes] | None:
    """(file name, bytes) of the order's latest PDF, or None."""
    from app.services.attachments import get_attachment, read_attachment

    if order.attachment_id is None:
        return None
    att = get_attachment(order.company_id, order.attachment_id)
    if att is None:
        return None
    return att.filename, read_attachment(att)


def delete_order(order: Order, user_id: int | None) -> str:
    """Move an order, its lines and PDFs to the trash in one operation."""
    atts = list(db.session.execute(
        select(Attachment).where(Attachment.company_id == order.company_id, Attachment.owner_type == "sales_order",
                                 Attachment.owner_id == order.id)
    ).scalars())
    return trash.soft_delete([order, *atts], user_id)

