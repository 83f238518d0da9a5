"""Simple settings lists ("dictionaries"): named, coloured entries of one company.

Tags ("Tagi") and task categories ("Kategorie zadań") are dictionaries; the next ones (invoice
series, mailbox presets, ...) are a ``Dictionary`` declaration. One rule for all of them: names
are trimmed, unique per company ignoring letter case, colours are ``#rrggbb`` (stored lower case,
the dictionary's default when empty), and a duplicate-name race is refused like a duplicate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import DomainError, inputs, trash, unit_of_work
from app.services import validators as v

_COLOR = re.compile(r"^#[0-9a-f]{6}$")
NAME_MAX = 60


@dataclass(frozen=True)
class Dictionary:
    """One kind of settings list: its model and its messages."""

    model: Any
    default_color: str
    exists: Any
    missing: Any
    name_max: int = NAME_MAX


def clean_color(value: str | None, default: str) -> str:
    """A #rrggbb colour in lower case; ``default`` when empty; DomainError when malformed."""
    raw = (value or "").strip().lower()
    if not raw:
        return default
    if not _COLOR.match(raw):
        raise DomainError(_l("Choose a colour like #ff8800."), "color")
    return raw


def entries(spec: Dictionary, company_id: int) -> list[Any]:
    """The company's live entries by name (case-insensitive)."""
    model = spec.model
    return list(
        db.session.execute(
            select(model).where(model.company_id == company_id).order_by(func.lower(model.name), model.id)
        ).scalars()
    )


def get_entry(spec: Dictionary, company_id: int, entry_id: Any) -> Any | None:
    """A live entry of this company, or None (foreign, malformed and oversize ids give None)."""
    ident = inputs.to_id(entry_id)
    if ident is None:
        return None
    model = spec.model
    return db.session.execute(
        select(model).where(model.id == ident, model.company_id == company_id)
    ).scalar_one_or_none()


def require_entry(spec: Dictionary, company_id: int, entry_id: Any, field: str | None = None) -> Any:
    """A live entry of this company, or DomainError with the dictionary's "does not exist"."""
    entry = get_entry(spec, company_id, entry_id)
    if entry is None:
        raise DomainError(spec.missing, field)
    return entry


def _check_unique(spec: Dictionary, company_id: int, name: str, exclude_id: int | None) -> None:
    """A live entry with this name (any letter case) refuses the name."""
    model = spec.model
    stmt = select(model.id).where(model.company_id == company_id, func.lower(model.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.execute(stmt).first():
        raise DomainError(spec.exists, "name")


def _clean(spec: Dictionary, company_id: int, name: str, color: str | None, exclude_id: int | None) -> tuple[str, str]:
    clean = v.clean_text(name, "name", _l("Name"), spec.name_max, required=True) or ""
    col = clean_color(color, spec.default_color)
    _check_unique(spec, company_id, clean, exclude_id)
    return clean, col


def _flush_or_exists(spec: Dictionary) -> None:
    try:
        db.session.flush()
    except IntegrityError:
        raise DomainError(spec.exists, "name") from None


@unit_of_work
def create_entry(spec: Dictionary, company_id: int, name: str, color: str | None = None) -> Any:
    """Add an entry."""
    clean, col = _clean(spec, company_id, name, color, None)
    entry = spec.model(company_id=company_id, name=clean, color=col)
    db.session.add(entry)
    _flush_or_exists(spec)
    return entry


@unit_of_work
def update_entry(spec: Dictionary, company_id: int, entry_id: Any, name: str, color: str | None = None) -> Any:
    """Rename an entry or change its colour."""
    entry = require_entry(spec, company_id, entry_id)
    entry.name, entry.color = _clean(spec, company_id, name, color, entry.id)
    _flush_or_exists(spec)
    return entry


@unit_of_work
def delete_entry(spec: Dictionary, company_id: int, entry_id: Any, user_id: int | None) -> str:
    """Move an entry to the trash; rows that used it keep their data."""
    return trash.soft_delete(require_entry(spec, company_id, entry_id), user_id)
