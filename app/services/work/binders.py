"""Binders ("Segregatory"): a folder per client, and the registry of the documents a binder holds.

Other domains show their documents in a binder by registering a row provider with
``register_rows(kind, provider)`` (the composition root, ``app/views/__init__.py``, does it for
every domain): ``provider(company_id, user, binder_id)`` returns plain ``BinderRow`` values. How a
kind is titled, linked and drawn (endpoints, icons) is the binder view's business.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.binders import Attachment, Binder
from app.models.contacts import Contact
from app.models.users import CrmUser
from app.services import DomainError, FieldChecks, inputs, trash, unit_of_work
from app.services import validators as v
from app.services.contacts import search
from app.services.contacts.contacts import pickable_contact


@dataclass(frozen=True)
class BinderRow:
    """One document filed in a binder, as plain data: its kind, id, title, a short note and a date."""

    kind: str
    id: int
    title: str
    meta: str | None = None
    when: dt.datetime | dt.date | None = None


#: what a domain registers: ``(company_id, user, binder_id) -> rows`` (only what ``user`` may see)
RowProvider = Callable[[int, CrmUser, int], list[BinderRow]]

_ROW_PROVIDERS: dict[str, RowProvider] = {}


def register_rows(kind: str, provider: RowProvider) -> None:
    """Let a domain show its documents of ``kind`` in binders (a second call replaces the provider)."""
    _ROW_PROVIDERS[kind] = provider


def binder_rows(company_id: int, user: CrmUser, binder_id: int) -> dict[str, list[BinderRow]]:
    """Everything filed in a binder that ``user`` may see, by kind (kinds without a provider are absent)."""
    return {kind: list(provider(company_id, user, binder_id)) for kind, provider in _ROW_PROVIDERS.items()}


@dataclass
class BinderData:
    """Fields of the binder form."""

    name: str
    contact_id: Any = None
    description: str | None = None


def get_binder(company_id: int, binder_id: int) -> Binder | None:
    """A live binder of this company, or None."""
    return db.session.execute(select(Binder).where(Binder.id == binder_id)).scalar_one_or_none()


def list_binders(company_id: int, q: str | None = None, contact_id: int | None = None) -> list[tuple[Binder, int]]:
    """Binders of the company with their file counts, by name; filtered by text or client."""
    files = (
        select(func.count(Attachment.id))
        .where(Attachment.binder_id == Binder.id)
        .correlate(Binder)
        .scalar_subquery()
    )
    stmt = select(Binder, files)
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


def search_binders(company_id: int, q: str | None, limit: int = 20) -> list[Binder]:
    """Binders for an as-you-type picker: by name or client name, at most ``limit`` (<= 50)."""
    limit = max(1, min(int(limit or 20), 50))
    stmt = select(Binder).outerjoin(Contact, Contact.id == Binder.contact_id).options(selectinload(Binder.contact))
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        # the client's name_sort is folded (no diacritics, lower case): "Źródło" finds "Źródło Wód" on SQLite too
        folded = f"%{search.normalize(q)}%"
        stmt = stmt.where(or_(func.lower(Binder.name).like(like), func.lower(Contact.name).like(like),
                              Contact.name_sort.like(folded)))
    stmt = stmt.order_by(func.lower(Binder.name), Binder.id).limit(limit)
    return list(db.session.execute(stmt).scalars())


def check_binder(company_id: int, binder_id: Any) -> int | None:
    """A binder id of this company, or None; DomainError for a foreign or missing one."""
    bid = inputs.parse_id(binder_id, "binder_id", _l("This binder does not exist."))
    if bid is None:
        return None
    if get_binder(company_id, bid) is None:
        raise DomainError(_l("This binder does not exist."), "binder_id")
    return bid


def require_binder(company_id: int, binder_id: int) -> Binder:
    """A live binder of this company, or DomainError ("This binder does not exist.")."""
    binder = get_binder(company_id, binder_id)
    if binder is None:
        raise DomainError(_l("This binder does not exist."))
    return binder


def _clean_client(company_id: int, value: Any) -> int | None:
    contact_id = inputs.parse_id(value, "contact_id", _l("This contact does not exist."))
    return pickable_contact(company_id, contact_id).id if contact_id is not None else None


def _clean(company_id: int, data: BinderData) -> dict[str, Any]:
    """Every field of the binder form checked in one pass; all refusals come together (FieldErrors)."""
    checks = FieldChecks()
    out = {
        "name": checks.run(v.clean_text, data.name, "name", _l("Name"), 200, required=True),
        "contact_id": checks.run(_clean_client, company_id, data.contact_id),
        "description": checks.run(v.clean_text, data.description, "description", _l("Description"), 5000),
    }
    checks.raise_if_any()
    return out


@unit_of_work
def create_binder(company_id: int, data: BinderData, user_id: int | None = None) -> Binder:
    """Create a binder for a client (a contact of a standard base)."""
    binder = Binder(created_by_id=user_id, **_clean(company_id, data))
    db.session.add(binder)
    db.session.flush()
    return binder


@unit_of_work
def update_binder(company_id: int, binder_id: int, data: BinderData) -> Binder:
    """Rename a binder or change its client and description."""
    binder = require_binder(company_id, binder_id)
    for key, value in _clean(company_id, data).items():
        setattr(binder, key, value)
    return binder


@unit_of_work
def delete_binder(company_id: int, binder_id: int, user_id: int | None) -> str:
    """Move a binder and its files to the trash (one operation, restorable together)."""
    return trash.soft_delete(require_binder(company_id, binder_id), user_id)
