"""Binders ("Segregatory"): a folder per client, and the registry of what a binder page shows.

Other domains show their documents in a binder by adding one ``BinderSection`` (or calling
``register_binder_section``) whose provider is a textual reference ``"module:function"`` to
``function(company_id: int, binder_id: int) -> list[BinderItem]``. A section without a provider
shows its empty state.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models.binders import Attachment, Binder
from app.models.contacts import Contact
from app.services import DomainError, inputs, transaction
from app.services import validators as v


@dataclass(frozen=True)
class BinderItem:
    """One document shown in a binder section."""

    label: str
    url: str | None = None
    meta: str | None = None
    when: dt.datetime | dt.date | None = None


@dataclass
class BinderSection:
    """A kind of document in a binder: its title, order, provider and "new ..." action."""

    key: str
    label: Any
    order: int
    provider: str | None = None
    empty: Any = ""
    icon: str = "fa-folder"
    #: endpoint of the form that creates a document in this binder (gets ``binder_id=``)
    new_endpoint: str | None = None
    new_label: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def items(self, company_id: int, binder_id: int) -> list[BinderItem]:
        """What the provider returns for one binder (empty without a provider)."""
        if not self.provider:
            return []
        return list(_resolve(self.provider)(company_id, binder_id))


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


BINDER_SECTIONS: list[BinderSection] = [
    BinderSection(
        "offers", _l("Offers"), 10, provider="app.services.sales.offers:binder_items",
        empty=_l("No offers in this binder yet."), icon="fa-file-signature",
        new_endpoint="OffersView.add", new_label=_l("New offer"),
    ),
    BinderSection(
        "orders", _l("Orders"), 20, provider="app.services.sales.orders:binder_items",
        empty=_l("No orders in this binder yet."), icon="fa-clipboard-list",
        new_endpoint="OrdersView.add", new_label=_l("New order"),
    ),
    BinderSection("invoices", _l("Invoices"), 30, empty=_l("No invoices in this binder yet."), icon="fa-file-invoice-dollar"),
    BinderSection(
        "tasks", _l("Tasks"), 40, provider="app.services.work.tasks:binder_items",
        empty=_l("No tasks in this binder yet."), icon="fa-list-check",
        new_endpoint="TasksView.add", new_label=_l("New task"),
    ),
    BinderSection(
        "files", _l("Attachments"), 90, provider="app.services.work.binders:file_items",
        empty=_l("No files in this binder yet."), icon="fa-paperclip",
    ),
]


def register_binder_section(section: BinderSection) -> None:
    """Add a section, or replace the one with the same key (e.g. give "offers" its provider)."""
    BINDER_SECTIONS[:] = [s for s in BINDER_SECTIONS if s.key != section.key] + [section]
    BINDER_SECTIONS.sort(key=lambda s: s.order)


def sections() -> list[BinderSection]:
    """Binder sections in display order."""
    return sorted(BINDER_SECTIONS, key=lambda s: s.order)


def file_items(company_id: int, binder_id: int) -> list[BinderItem]:
    """The "Załączniki" section: files of the binder."""
    from app.services.work.attachments import binder_attachments

    return [BinderItem(a.filename, None, a.mime, a.created_at) for a in binder_attachments(company_id, binder_id)]


@dataclass
class BinderData:
    """Fields of the binder form."""

    name: str
    contact_id: Any = None
    description: str | None = None


def get_binder(company_id: int, binder_id: int) -> Binder | None:
    """A live binder of this company, or None."""
    return db.session.execute(
        select(Binder).where(Binder.id == binder_id, Binder.company_id == company_id)
    ).scalar_one_or_none()


def list_binders(company_id: int, q: str | None = None, contact_id: int | None = None) -> list[tuple[Binder, int]]:
    """Binders of the company with their file counts, by name; filtered by text or client."""
    files = (
        select(func.count(Attachment.id))
        .where(Attachment.binder_id == Binder.id, Attachment.company_id == company_id, Attachment.deleted_at.is_(None))
        .correlate(Binder)
        .scalar_subquery()
    )
    stmt = select(Binder, files).where(Binder.company_id == company_id)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.outerjoin(Contact, Contact.id == Binder.contact_id).where(
            or_(func.lower(Binder.name).like(like), func.lower(Contact.name).like(like))
        )
    if contact_id:
        stmt = stmt.where(Binder.contact_id == contact_id)
    stmt = stmt.order_by(func.lower(Binder.name), Binder.id)
    return [(b, n or 0) for b, n in db.session.execute(stmt).all()]


def binder_choices(company_id: int) -> list[Binder]:
    """Binders for a dropdown, by name."""
    return [b for b, _n in list_binders(company_id)]


def check_binder(company_id: int, binder_id: Any) -> int | None:
    """A binder id of this company, or None; DomainError for a foreign or missing one."""
    bid = inputs.parse_id(binder_id, "binder_id", _l("This binder does not exist."))
    if bid is None:
        return None
    if get_binder(company_id, bid) is None:
        raise DomainError(_l("This binder does not exist."), "binder_id")
    return bid


def _clean(company_id: int, data: BinderData) -> dict[str, Any]:
    from app.services.contacts.contacts import pickable_contact

    name = v.clean_text(data.name, "name", _l("Name"), 200, required=True)
    contact_id = inputs.parse_id(data.contact_id, "contact_id", _l("This contact does not exist."))
    if contact_id is not None:
        contact_id = pickable_contact(company_id, contact_id).id
    return {
        "name": name,
        "contact_id": contact_id,
        "description": v.clean_text(data.description, "description", _l("Description"), 5000),
    }


def create_binder(company_id: int, data: BinderData, user_id: int | None = None) -> Binder:
    """Create a binder for a client (a contact of a standard base)."""
    clean = _clean(company_id, data)
    with transaction() as session:
        binder = Binder(company_id=company_id, created_by_id=user_id, **clean)
        session.add(binder)
    return binder


def update_binder(company_id: int, binder_id: int, data: BinderData) -> Binder:
    """Rename a binder or change its client and description."""
    binder = get_binder(company_id, binder_id)
    if binder is None:
        raise DomainError(_l("This binder does not exist."))
    clean = _clean(company_id, data)
    with transaction():
        for key, value in clean.items():
            setattr(binder, key, value)
    return binder


def delete_binder(company_id: int, binder_id: int, user_id: int | None) -> str:
    """Move a binder and its files to the trash (one operation, restorable together)."""
    from app.services import trash

    binder = get_binder(company_id, binder_id)
    if binder is None:
        raise DomainError(_l("This binder does not exist."))
    return trash.soft_delete(binder, user_id)
