"""The notes timeline of a contact: who wrote what, and when."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.contacts import ContactNote
from app.models.users import CrmUser
from app.services import DomainError, trash, unit_of_work
from app.services.contacts import contacts

#: the longest note accepted
MAX_LENGTH = 5000


@unit_of_work
def add_note(company_id: int, user: CrmUser, contact_id: int, text: str | None) -> ContactNote:
    """Add a note to a live contact of the company, signed by ``user``."""
    body = (text or "").strip()
    if not body:
        raise DomainError(_l("Write the note first."), "text")
    if len(body) > MAX_LENGTH:
        raise DomainError(_l("A note can have at most %(n)s characters.", n=MAX_LENGTH), "text")
    contact = contacts.get_contact(company_id, contact_id)
    if contact is None:
        raise DomainError(_l("This contact no longer exists."))
    note = ContactNote(company_id=company_id, contact_id=contact.id, author_id=user.id, text=body)
    db.session.add(note)
    db.session.flush()
    return note


def get_note(company_id: int, contact_id: int, note_id: int) -> ContactNote | None:
    """A live note of the contact, or None."""
    return db.session.scalar(select(ContactNote).where(ContactNote.id == note_id, ContactNote.contact_id == contact_id))


@unit_of_work
def delete_note(company_id: int, note_id: int, user_id: int | None) -> str:
    """Move a note to the trash; return the deletion id."""
    note = db.session.get(ContactNote, note_id)  # the identity map skips the tenancy hook: checked here
    if note is None or note.company_id != company_id or note.is_deleted:
        raise DomainError(_l("This note no longer exists."))
    return trash.soft_delete(note, user_id)
