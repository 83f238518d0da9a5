"""Helpers for contact tests: create bases, contacts and tags through the services."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.security.tenancy import tenant_scope
from app.services.contacts import bases, contacts, tags
from app.services.contacts.search import normalize

CONSENT = {"consent_given_at": "2026-01-15", "consent_source": "Formularz zapisu na stronie",
               "consent_text": "Zgadzam się na otrzymywanie informacji handlowych e-mailem."}


def make_base(app: Any, company_id: int, name: str = "Klienci", kind: str = "contacts") -> int:
    """A client base; returns its id."""
    with app.app_context(), tenant_scope(company_id):
        base_id = bases.create_base(company_id, name, kind).id
        db.session.remove()
    return base_id


def make_contact(app: Any, company_id: int, base_id: int, **fields: Any) -> int:
    """A contact (company unless kind='person'); returns its id."""
    with app.app_context(), tenant_scope(company_id):
        data = contacts.ContactData(**fields)
        contact_id = contacts.create_contact(company_id, base_id, data).id
        db.session.remove()
    return contact_id


def make_tag(app: Any, company_id: int, name: str = "VIP", color: str = "#ff0000") -> int:
    """A tag; returns its id."""
    with app.app_context(), tenant_scope(company_id):
        tag_id = tags.create_tag(company_id, name, color).id
        db.session.remove()
    return tag_id


def bulk_contacts(app: Any, company_id: int, base_id: int, n: int, prefix: str = "Firma") -> None:
    """n company contacts inserted fast (names "<prefix> 0001"...), normalised like the service does."""
    from app.models.contacts import Contact

    with app.app_context(), tenant_scope(company_id):
        db.session.add_all([
            Contact(company_id=company_id, base_id=base_id, kind="company", name=f"{prefix} {i:04d}",
                    name_sort=normalize(f"{prefix} {i:04d}"))
            for i in range(n)
        ])
        db.session.commit()
        db.session.remove()


def assert_polish_page(html: str, url: str) -> None:
    """No English on one of our pages (FAB's hidden confirm modal is checked by test_polish_pages)."""
    from tests.helpers import markup_without
    from tests.integration.test_polish_pages import assert_polish

    assert "None" not in markup_without(html, ("script", "style")).replace('value="None"', ""), url
    assert_polish(html, url, drop=("#modal-confirm",))
