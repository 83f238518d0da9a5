"""Tags: coloured labels for contacts (settings tab "Tagi"), tagging one by one and in bulk."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.contacts import Contact, Tag, contact_tag
from app.services import DomainError, inputs, transaction, trash
from app.services import contacts as contacts_svc
from app.services import validators as v

_COLOR = re.compile(r"^#[0-9a-f]{6}$")
DEFAULT_COLOR = "#607d8b"


def list_tags(company_id: int) -> list[Tag]:
    """The company's live tags by name."""
    return list(
        db.session.execute(select(Tag).where(Tag.company_id == company_id).order_by(Tag.name)).scalars()
    )


def get_tag(company_id: int, tag_id: Any) -> Tag | None:
    """A live tag of this company, or None (foreign and broken ids give None)."""
    ident = inputs.to_id(tag_id)
    if ident is None:
        return None
    return db.session.execute(
        select(Tag).where(Tag.id == ident, Tag.company_id == company_id)
    ).scalar_one_or_none()


def require_tag(company_id: int, tag_id: Any) -> Tag:
    """A live tag of this company, or DomainError."""
    tag = get_tag(company_id, tag_id)
    if tag is None:
        raise DomainError(_l("This tag does not exist."), "tag_id")
    return tag


def _clean(company_id: int, name: str, color: str, exclude_id: int | None = None) -> tuple[str, str]:
    clean = v.clean_text(name, "name", _l("Name"), 60, required=True)
    col = (color or DEFAULT_COLOR).strip().lower()
    if not _COLOR.match(col):
        raise DomainError(_l("Choose a colour like #ff8800."), "color")
    stmt = select(Tag.id).where(Tag.company_id == company_id, Tag.name == clean)
    if exclude_id is not None:
        stmt = stmt.where(Tag.id != exclude_id)
    if db.session.execute(stmt).first():
        raise DomainError(_l("A tag with this name already exists."), "name")
    return clean, col


def create_tag(company_id: int, name: str, color: str = DEFAULT_COLOR) -> Tag:
    """Add a tag."""
    clean, col = _clean(company_id, name, color)
    try:
        with transaction() as session:
            tag = Tag(company_id=company_id, name=clean, color=col)
            session.add(tag)
    except IntegrityError:
        raise DomainError(_l("A tag with this name already exists."), "name") from None
    return tag


def update_tag(company_id: int, tag_id: Any, name: str, color: str) -> Tag:
    """Rename a tag or change its colour."""
    tag = require_tag(company_id, tag_id)
    clean, col = _clean(company_id, name, color, exclude_id=tag.id)
    try:
        with transaction():
            tag.name, tag.color = clean, col
    except IntegrityError:
        raise DomainError(_l("A tag with this name already exists."), "name") from None
    return tag


def delete_tag(company_id: int, tag_id: Any, user_id: int | None) -> str:
    """Move a tag to the trash (contacts keep their data; the tag disappears from them)."""
    return trash.soft_delete(require_tag(company_id, tag_id), user_id)


def set_contact_tags(company_id: int, contact_id: Any, tag_ids: list[Any]) -> Contact:
    """Give one contact exactly these tags (all must be this company's)."""
    contact = contacts_svc.require_contact(company_id, contact_id)
    tags = [require_tag(company_id, t) for t in inputs.parse_ids(tag_ids, "tag_id", _l("This tag does not exist."))]
    with transaction():
        contact.tags = tags
    return contact


def tag_contacts(company_id: int, contact_ids: list[Any], tag_id: Any, add: bool = True) -> int:
    """Add (or remove) one tag on many selected contacts in one transaction; return how many changed."""
    tag = require_tag(company_id, tag_id)
    contacts = contacts_svc.require_contacts(company_id, contact_ids)
    ids = [c.id for c in contacts]
    with transaction() as session:
        have = set(
            session.execute(
                select(contact_tag.c.contact_id).where(
                    contact_tag.c.tag_id == tag.id, contact_tag.c.contact_id.in_(ids)
                )
            ).scalars()
        )
        if add:
            new = [{"contact_id": i, "tag_id": tag.id} for i in ids if i not in have]
            if new:
                session.execute(insert(contact_tag), new)
            return len(new)
        if have:
            session.execute(
                delete(contact_tag).where(contact_tag.c.tag_id == tag.id, contact_tag.c.contact_id.in_(have))
            )
        return len(have)
