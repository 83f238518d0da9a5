"""Shared set-up for the task, binder and reminder tests: bases and contacts of one company."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import ClientBase, Contact
from app.security.tenancy import tenant_scope


def make_contacts(app: Any, company_id: int, prefix: str = "") -> dict[str, int]:
    """A "Kontakty" base with a contact and a mailing base with a contact; returns their ids."""
    with app.app_context():
        with tenant_scope(company_id):
            std = ClientBase(name=f"{prefix}Kontakty", kind="contacts")
            mail = ClientBase(name=f"{prefix}Mailing", kind="mailing")
            db.session.add_all([std, mail])
            db.session.flush()
            good = Contact(base_id=std.id, kind="company", name=f"{prefix}Budimex Sp. z o.o.", name_sort=f"{prefix}budimex")
            bad = Contact(base_id=mail.id, kind="person", name=f"{prefix}Jan Mailingowy", name_sort=f"{prefix}jan mailingowy")
            db.session.add_all([good, bad])
            db.session.commit()
            ids = {"base": std.id, "mailing_base": mail.id, "contact": good.id, "mailing_contact": bad.id}
        db.session.remove()
    return ids
