"""The client's card: one page of each kind of thing done for a contact (tasks, offers, orders, invoices, ...).

Every section is read a page at a time (``PAGE_SIZE`` rows, one row more to tell whether there is
a next page; no counting), newest first, through the company-first index on the contact column
(``ix_task_company_contact``, ``ix_offer_company_contact``, ``ix_sales_order_company_contact``,
``ix_invoice_company_buyer``, ``ix_binder_company_contact``, ``ix_contact_note_company_contact``),
so the card stays quick for a client with thousands of rows. The company filter is the tenancy
hook's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload, load_only

from app.extensions import db
from app.models.binders import Attachment, Binder
from app.models.campaigns import Campaign, CampaignRecipient
from app.models.contacts import Contact, ContactNote
from app.models.invoicing import Invoice
from app.models.sales import Offer, Order
from app.models.tasks import Task

#: rows of one section per page ("Pokaż więcej" loads the next one)
PAGE_SIZE = 10
#: the highest page number a request may ask for (a bound on the OFFSET)
MAX_PAGE = 10_000


@dataclass
class SectionPage:
    """One page of one section of the card."""

    key: str
    rows: list[Any] = field(default_factory=list)
    page: int = 1
    more: bool = False


def _tasks(contact_id: int) -> Any:
    return select(Task).options(joinedload(Task.category)).where(Task.contact_id == contact_id).order_by(Task.id.desc())


def _offers(contact_id: int) -> Any:
    return select(Offer).where(Offer.contact_id == contact_id).order_by(Offer.id.desc())


def _orders(contact_id: int) -> Any:
    return select(Order).where(Order.contact_id == contact_id).order_by(Order.id.desc())


def _invoices(contact_id: int) -> Any:
    # only what a row shows: never the stored XML and UPO of every invoice
    columns = load_only(Invoice.company_id, Invoice.number, Invoice.issue_date, Invoice.total_gross,
                        Invoice.currency, Invoice.status)
    return select(Invoice).options(columns).where(Invoice.buyer_contact_id == contact_id).order_by(Invoice.id.desc())


def _binders(contact_id: int) -> Any:
    return select(Binder).where(Binder.contact_id == contact_id).order_by(Binder.id.desc())


def _files(contact_id: int) -> Any:
    """Files kept in the client's binders and files attached to the contact itself.

    Two index lookups joined by UNION ALL (an OR of the two would read every file of the company).
    """
    binder_ids = select(Binder.id).where(Binder.contact_id == contact_id)
    ids = union_all(
        select(Attachment.id).where(Attachment.binder_id.in_(binder_ids)),
        select(Attachment.id).where(Attachment.owner_type == "contact", Attachment.owner_id == contact_id),
    ).subquery()
    return (
        select(Attachment).options(joinedload(Attachment.binder))
        .where(Attachment.id.in_(select(ids.c.id)))
        .order_by(Attachment.id.desc())
    )


def _notes(contact_id: int) -> Any:
    return (
        select(ContactNote).options(joinedload(ContactNote.author))
        .where(ContactNote.contact_id == contact_id)
        .order_by(ContactNote.created_at.desc(), ContactNote.id.desc())
    )


#: section key -> the query of its rows, newest first
QUERIES: dict[str, Callable[[int], Any]] = {
    "tasks": _tasks, "offers": _offers, "orders": _orders, "invoices": _invoices,
    "binders": _binders, "files": _files, "notes": _notes,
}
#: sections of a contact of a "Kontakty" base, in the order of the card
CLIENT_SECTIONS = ("tasks", "offers", "orders", "invoices", "binders", "files", "notes")
#: a contact of a mailing base has no tasks, offers or invoices: its campaigns and notes
MAILING_SECTIONS = ("campaigns", "notes")


def _campaigns(contact_id: int) -> Any:
    """The contact's rows of the campaign outbox (one per campaign), with their campaign."""
    return (
        select(CampaignRecipient).options(joinedload(CampaignRecipient.campaign))
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .where(CampaignRecipient.contact_id == contact_id)
        .order_by(CampaignRecipient.id.desc())
    )


def campaign_history(company_id: int, contact_id: int, page: int = 1) -> SectionPage:
    """The e-mail campaigns of a mailing contact, newest first: subject, status, when it was sent."""
    stmt = _campaigns(contact_id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = list(db.session.scalars(stmt).unique().all())
    return SectionPage("campaigns", rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE)


def sections_of(contact: Contact) -> tuple[str, ...]:
    """The sections the card shows for this contact."""
    return MAILING_SECTIONS if contact.base.is_mailing else CLIENT_SECTIONS


def section_page(company_id: int, contact_id: int, key: str, page: int = 1) -> SectionPage | None:
    """One page of one section (None for an unknown section)."""
    page = min(max(page, 1), MAX_PAGE)
    if key == "campaigns":
        return campaign_history(company_id, contact_id, page)
    query = QUERIES.get(key)
    if query is None:
        return None
    stmt = query(contact_id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = list(db.session.scalars(stmt).unique().all())
    return SectionPage(key, rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE)


def first_pages(company_id: int, contact: Contact) -> dict[str, SectionPage]:
    """The first page of every section of the card, by section key."""
    pages = {key: section_page(company_id, contact.id, key) for key in sections_of(contact)}
    return {key: p for key, p in pages.items() if p is not None}
