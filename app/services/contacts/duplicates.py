"""Duplicate contacts: find groups (same NIP, same e-mail, similar name) and merge them.

A merge keeps one contact, fills its empty fields from the others, re-points every foreign key
that references ``contact.id`` (found generically in the SQLAlchemy metadata, so tables added
later, such as tasks, offers or binders, follow too) and moves the merged contacts to the trash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Column,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    select,
    update,
)
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.contacts import ClientBase, Contact
from app.services import DomainError, inputs, trash, unit_of_work
from app.services.contacts.search import normalize

#: legal-form words that do not make two company names different
LEGAL_FORMS = (
    "spolka z ograniczona odpowiedzialnoscia", "spolka akcyjna", "spolka jawna", "spolka cywilna",
    "spolka komandytowa", "spolka komandytowo akcyjna", "sp z o o", "sp z oo", "spzoo", "s a", "sa",
    "sp j", "spj", "sp k", "spk", "s c", "sc", "sp p", "s k a", "p p h u", "pphu", "phu", "fhu", "f h u",
    "przedsiebiorstwo", "firma", "ltd", "gmbh", "inc",
)
_FORMS = sorted(LEGAL_FORMS, key=len, reverse=True)

REASONS = {"nip": _l("Same NIP"), "email": _l("Same e-mail address"), "name": _l("Similar name")}
MAX_GROUPS = 200

#: fields copied from a merged contact when the kept one has them empty
FILL_FIELDS = ("first_name", "last_name", "position", "nip", "regon", "krs", "pesel", "street",
               "postal_code", "city", "city_norm", "email", "phone", "website", "employer_id", "owner_id",
               "consent_given_at", "consent_source", "consent_text")


class ContactNotFound(DomainError):
    """A contact id that is not a live contact of this company (the view answers 404)."""


def name_key(name: str | None) -> str:
    """A company or person name reduced for comparison: no diacritics, legal forms or word order."""
    text = f" {normalize(name)} "
    for form in _FORMS:
        text = text.replace(f" {form} ", " ")
    return " ".join(sorted(text.split()))


@dataclass
class DuplicateGroup:
    """Contacts that look like one: why (reason key), the shared value and the contacts."""

    reason: str
    key: str
    contacts: list[Contact] = field(default_factory=list)

    @property
    def label(self) -> Any:
        """The reason, in the user's language."""
        return REASONS[self.reason]


def find_groups(company_id: int, kind: str = "contacts", base_id: int | None = None,
                limit: int = MAX_GROUPS) -> list[DuplicateGroup]:
    """Groups of probable duplicates among live contacts of bases of one kind (or one base)."""
    stmt = (
        select(Contact.id, Contact.nip, Contact.email, Contact.name)
        .join(ClientBase, ClientBase.id == Contact.base_id)
        .where(ClientBase.kind == kind)
        .order_by(Contact.id)
    )
    if base_id is not None:
        stmt = stmt.where(Contact.base_id == base_id)
    buckets: dict[tuple[str, str], list[int]] = {}
    for cid, nip, email, name in db.session.execute(stmt):
        if nip:
            buckets.setdefault(("nip", nip), []).append(cid)
        if email:
            buckets.setdefault(("email", email.strip().lower()), []).append(cid)
        key = name_key(name)
        if key:
            buckets.setdefault(("name", key), []).append(cid)
    order = {"nip": 0, "email": 1, "name": 2}
    seen: set[frozenset[int]] = set()
    chosen: list[tuple[str, str, list[int]]] = []
    for (reason, key), ids in sorted(buckets.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        if len(ids) < 2 or frozenset(ids) in seen:
            continue
        seen.add(frozenset(ids))
        chosen.append((reason, key, ids))
        if len(chosen) >= limit:
            break
    all_ids = {i for _r, _k, ids in chosen for i in ids}
    contacts = {
        c.id: c for c in db.session.execute(
            select(Contact).where(Contact.id.in_(all_ids))
            .options(selectinload(Contact.tags), selectinload(Contact.base))
        ).scalars()
    } if all_ids else {}
    return [DuplicateGroup(r, k, [contacts[i] for i in ids if i in contacts]) for r, k, ids in chosen]


def contact_references() -> list[tuple[Table, Column]]:
    """Every (table, column) with a foreign key to contact.id, from the metadata."""
    target = Contact.__table__.c.id
    out = []
    for table in Model.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.references(Contact.__table__) and fk.column is target:
                out.append((table, fk.parent))
    return out


def _unique_sets(table: Table, col: Column) -> list[list[Column]]:
    """Column sets of the table that must stay unique and that include ``col``."""
    sets = []
    if col.primary_key:
        sets.append(list(table.primary_key.columns))
    for cons in table.constraints:
        if isinstance(cons, UniqueConstraint) and any(c is col for c in cons.columns):
            sets.append(list(cons.columns))
    for index in table.indexes:
        if index.unique and any(c is col for c in index.columns):
            sets.append(list(index.columns))
    return sets


def _repoint(table: Table, col: Column, keep_id: int, merge_ids: list[int]) -> None:
    """Point ``col`` of ``table`` from the merged contacts to the kept one, keeping unique rules."""
    session = db.session
    if table is Contact.__table__:
        session.execute(update(table).where(table.c.id == keep_id, col.in_(merge_ids)).values({col.name: None}))
        session.execute(update(table).where(col.in_(merge_ids), table.c.id != keep_id).values({col.name: keep_id}))
        return
    unique = _unique_sets(table, col)
    if not unique:
        session.execute(update(table).where(col.in_(merge_ids)).values({col.name: keep_id}))
        return
    pk = list(table.primary_key.columns)
    pure_link = bool(pk) and set(table.columns) == set(pk)
    for row in session.execute(select(table).where(col.in_(merge_ids))).mappings().all():
        new = dict(row)
        new[col.name] = keep_id
        clash = any(
            session.execute(select(exists().where(and_(*[c == new[c.name] for c in cols])))).scalar()
            for cols in unique
        )
        match = and_(*[c == row[c.name] for c in (pk or list(table.columns))])
        if not clash:
            session.execute(update(table).where(match).values({col.name: keep_id}))
        elif pure_link:
            session.execute(delete(table).where(match))
        # otherwise the row stays with the merged contact (it would break a unique rule)


@unit_of_work
def merge(company_id: int, keep_id: Any, merge_ids: list[Any], user_id: int | None) -> Contact:
    """Merge contacts into ``keep_id``: fill blanks, move every reference, trash the others."""
    keep = inputs.to_id(keep_id)
    try:
        merged = inputs.parse_ids(merge_ids)
    except DomainError:
        merged = None
    if keep is None or merged is None:
        raise ContactNotFound(_l("The contact does not exist."))
    keep_id = keep
    ids = sorted(set(merged) - {keep_id})
    if not ids:
        raise DomainError(_l("Choose at least one contact to merge into the kept one."))
    rows = {
        c.id: c for c in db.session.execute(
            select(Contact).where(Contact.id.in_([keep_id, *ids]))
            .options(selectinload(Contact.base))
        ).scalars()
    }
    if len(rows) != len(ids) + 1:
        raise ContactNotFound(_l("The contact does not exist."))
    keep = rows[keep_id]
    others = [rows[i] for i in ids]
    if any(o.base.kind != keep.base.kind for o in others):
        raise DomainError(_l("Contacts of a mailing base cannot be merged with contacts of a standard base."))
    for other in others:
        for name in FILL_FIELDS:
            if getattr(keep, name) in (None, "") and getattr(other, name) not in (None, "") and not (
                name == "employer_id" and getattr(other, name) in (keep_id, *ids)
            ):
                setattr(keep, name, getattr(other, name))
        if other.notes and other.notes not in (keep.notes or ""):
            keep.notes = f"{keep.notes}\n\n{other.notes}" if keep.notes else other.notes
    db.session.flush()
    for table, col in contact_references():
        _repoint(table, col, keep_id, ids)
    db.session.expire(keep)
    trash.soft_delete(others, user_id)
    return keep
