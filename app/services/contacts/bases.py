"""Client bases ("Bazy klientów"): a company's "Kontakty" and "Baza mailingowa" lists of contacts.

The company and the soft-delete filter of every query come from the global tenancy hook.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.contacts import BASE_KINDS, ClientBase
from app.services import DomainError, inputs, trash, unit_of_work
from app.services import validators as v
from app.services.contacts.search import count_contacts

BASE_KIND_LABELS = {"contacts": _l("Contacts"), "mailing": _l("Mailing base")}
NAME_MAX = 120
_EXISTS = _l("A client base with this name already exists.")


def get_base(company_id: int, base_id: int) -> ClientBase | None:
    """A live base of this company by id, or None (another company's id gives None).

    ``Session.get`` answers from the identity map when the request already loaded the base (no
    second SELECT); the identity map skips the tenancy hook, hence the explicit checks.
    """
    base = db.session.get(ClientBase, base_id)
    if base is None or base.company_id != company_id or base.deleted_at is not None:
        return None
    return base


def require_base(company_id: int, base_id: Any) -> ClientBase:
    """A live base of this company, or DomainError (missing, foreign or broken id)."""
    ident = inputs.to_id(base_id)
    base = get_base(company_id, ident) if ident is not None else None
    if base is None:
        raise DomainError(_l("This client base does not exist."), "base_id")
    return base


def company_bases(company_id: int) -> list[ClientBase]:
    """The company's live bases ordered by name (for lists and "which base" dropdowns)."""
    return list(db.session.execute(select(ClientBase).order_by(ClientBase.name)).scalars())


def list_bases(company_id: int) -> list[tuple[ClientBase, int, bool]]:
    """The company's bases ordered by name, each with its capped count of live contacts."""
    return [(b, *count_contacts(company_id, b.id)) for b in company_bases(company_id)]


def _clean_name(name: str, exclude_id: int | None = None) -> str:
    """The trimmed name, refused when empty, too long or taken by another live base."""
    clean = v.clean_text(name, "name", _l("Name"), NAME_MAX, required=True) or ""
    stmt = select(ClientBase.id).where(ClientBase.name == clean)
    if exclude_id is not None:
        stmt = stmt.where(ClientBase.id != exclude_id)
    if db.session.execute(stmt).first():
        raise DomainError(_EXISTS, "name")
    return clean


def _flush_or_exists() -> None:
    """Flush; a concurrent base with the same name (unique index) is refused like a duplicate."""
    try:
        db.session.flush()
    except IntegrityError:
        raise DomainError(_EXISTS, "name") from None


@unit_of_work
def create_base(company_id: int, name: str, kind: str) -> ClientBase:
    """Add a client base ("Kontakty" or "Baza mailingowa")."""
    if kind not in BASE_KINDS:
        raise DomainError(_l("Choose the kind of the base."), "kind")
    base = ClientBase(company_id=company_id, name=_clean_name(name), kind=kind)
    db.session.add(base)
    _flush_or_exists()
    return base


@unit_of_work
def rename_base(company_id: int, base_id: int, name: str) -> ClientBase:
    """Rename a base (its kind stays: mailing consent records depend on it)."""
    base = require_base(company_id, base_id)
    base.name = _clean_name(name, exclude_id=base.id)
    _flush_or_exists()
    return base


@unit_of_work
def delete_base(company_id: int, base_id: int, user_id: int | None) -> str:
    """Move a base and all its contacts to the trash in one operation; return its deletion id."""
    return trash.soft_delete(require_base(company_id, base_id), user_id)
