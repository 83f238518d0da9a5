"""Tags: coloured labels for contacts (settings tab "Tagi"), tagging one by one and in bulk."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select

from app.extensions import db
from app.models.contacts import Contact, Tag, contact_tag
from app.services import dictionaries, inputs, unit_of_work
from app.services.contacts import contacts as contacts_svc
from app.services.dictionaries import Dictionary

DEFAULT_COLOR = "#607d8b"
TAGS = Dictionary(
    model=Tag,
    default_color=DEFAULT_COLOR,
    exists=_l("A tag with this name already exists."),
    missing=_l("This tag does not exist."),
)


def list_tags(company_id: int) -> list[Tag]:
    """The company's live tags by name."""
    return dictionaries.entries(TAGS, company_id)


def get_tag(company_id: int, tag_id: Any) -> Tag | None:
    """A live tag of this company, or None (foreign and broken ids give None)."""
    return dictionaries.get_entry(TAGS, company_id, tag_id)


def require_tag(company_id: int, tag_id: Any) -> Tag:
    """A live tag of this company, or DomainError."""
    return dictionaries.require_entry(TAGS, company_id, tag_id, "tag_id")


def create_tag(company_id: int, name: str, color: str = DEFAULT_COLOR) -> Tag:
    """Add a tag ("Dodaj nowy tag")."""
    return dictionaries.create_entry(TAGS, company_id, name, color)


def update_tag(company_id: int, tag_id: Any, name: str, color: str) -> Tag:
    """Rename a tag or change its colour."""
    return dictionaries.update_entry(TAGS, company_id, tag_id, name, color)


def delete_tag(company_id: int, tag_id: Any, user_id: int | None) -> str:
    """Move a tag to the trash (contacts keep their data; the tag disappears from them)."""
    return dictionaries.delete_entry(TAGS, company_id, tag_id, user_id)


@unit_of_work
def set_contact_tags(company_id: int, contact_id: Any, tag_ids: list[Any]) -> Contact:
    """Give one contact exactly these tags (all must be this company's)."""
    contact = contacts_svc.require_contact(company_id, contact_id)
    tags = [require_tag(company_id, t) for t in inputs.parse_ids(tag_ids, "tag_id", _l("This tag does not exist."))]
    contact.tags = tags
    return contact


@unit_of_work
def tag_contacts(company_id: int, contact_ids: list[Any], tag_id: Any, add: bool = True) -> int:
    """Add (or remove) one tag on many selected contacts in one transaction; return how many changed."""
    tag = require_tag(company_id, tag_id)
    contacts = contacts_svc.require_contacts(company_id, contact_ids)
    ids = [c.id for c in contacts]
    session = db.session
    have = set(
        session.execute(
            select(contact_tag.c.contact_id).where(contact_tag.c.tag_id == tag.id, contact_tag.c.contact_id.in_(ids))
        ).scalars()
    )
    if add:
        new = [{"contact_id": i, "tag_id": tag.id} for i in ids if i not in have]
        if new:
            session.execute(insert(contact_tag), new)
        return len(new)
    if have:
        session.execute(delete(contact_tag).where(contact_tag.c.tag_id == tag.id, contact_tag.c.contact_id.in_(have)))
    return len(have)
