"""What an as-you-type picker shows of a contact or binder: ``{id, label, detail}`` (see js/picker.js)."""

from __future__ import annotations

from typing import Any

from app.models.binders import Binder
from app.models.contacts import Contact
from app.services import DomainError, inputs
from app.services.contacts import contacts as contacts_svc
from app.services.work import binders as binders_svc


def contact_item(contact: Contact) -> dict[str, Any]:
    """One contact of a picker: its name, and the NIP, city and e-mail that tell namesakes apart."""
    parts = [f"NIP {contact.nip}" if contact.nip else None, contact.city, contact.email]
    return {"id": contact.id, "label": contact.name, "detail": " · ".join(p for p in parts if p)}


def binder_item(binder: Binder) -> dict[str, Any]:
    """One binder of a picker: its name and its client."""
    return {"id": binder.id, "label": binder.name, "detail": binder.contact.name if binder.contact else ""}


def contact_label(company_id: int, value: Any) -> str:
    """The name a contact picker shows for a chosen id (empty for nothing or a contact it may not offer)."""
    ident = inputs.to_id(value)
    if ident is None:
        return ""
    try:
        return contacts_svc.pickable_contact(company_id, ident).name
    except DomainError:
        return ""


def binder_label(company_id: int, value: Any) -> str:
    """The name a binder picker shows for a chosen id (empty for nothing or another company's)."""
    ident = inputs.to_id(value)
    binder = binders_svc.get_binder(company_id, ident) if ident is not None else None
    return binder.name if binder is not None else ""


def employer_label(company_id: int, base_id: int, value: Any) -> str:
    """The name the "works for" picker shows: a company contact of the same base, else empty."""
    ident = inputs.to_id(value)
    employer = contacts_svc.get_contact(company_id, ident) if ident is not None else None
    if employer is None or employer.base_id != base_id or employer.kind != "company":
        return ""
    return employer.name
