"""Soft delete and restore: one deletion_id per delete operation, cascading to child rows.

The trash is read and restored for the owner (in the company's scope) and for the platform admin
(acting on another company), and deleted rows are hidden by the tenancy hook; so every query here
opts out (``include_deleted`` + ``all_tenants``) and names the company explicitly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_appbuilder import Model
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.mixins import SoftDeleteMixin, utcnow
from app.services import DomainError, unit_of_work

RETENTION_DAYS = 30

#: what a table's rows are called in the trash, the restore preview and the e-mails
KIND_LABELS: dict[str, Any] = {
    "client_base": _l("Client bases"),
    "contact": _l("Contacts"),
    "tag": _l("Tags"),
    "task": _l("Tasks"),
    "task_category": _l("Task categories"),
    "binder": _l("Binders"),
    "attachment": _l("Attachments"),
    "offer": _l("Offers"),
    "offer_item": _l("Offer items"),
    "offer_version": _l("Offer versions"),
    "sales_order": _l("Orders"),
    "sales_order_item": _l("Order items"),
    "product": _l("Price list"),
    "mailbox": _l("Mailboxes"),
}


def kind_label(table: str) -> str:
    """The Polish name of a table's rows."""
    return str(KIND_LABELS.get(table, table))


#: "N things" of a table's rows with the language's plural forms (literal msgids for the catalog)
COUNT_PHRASES: dict[str, Callable[[int], str]] = {
    "client_base": lambda n: ngettext("%(num)s client base", "%(num)s client bases", n),
    "contact": lambda n: ngettext("%(n)s contact", "%(n)s contacts", n, n=n),
    "tag": lambda n: ngettext("%(num)s tag", "%(num)s tags", n),
    "task": lambda n: ngettext("%(num)s task", "%(num)s tasks", n),
    "task_category": lambda n: ngettext("%(num)s task category", "%(num)s task categories", n),
    "binder": lambda n: ngettext("%(num)s binder", "%(num)s binders", n),
    "attachment": lambda n: ngettext("%(num)s attachment", "%(num)s attachments", n),
    "offer": lambda n: ngettext("%(num)s offer", "%(num)s offers", n),
    "offer_item": lambda n: ngettext("%(num)s offer item", "%(num)s offer items", n),
    "offer_version": lambda n: ngettext("%(num)s PDF version", "%(num)s PDF versions", n),
    "sales_order": lambda n: ngettext("%(num)s order", "%(num)s orders", n),
    "sales_order_item": lambda n: ngettext("%(num)s order item", "%(num)s order items", n),
    "product": lambda n: ngettext("%(num)s price list item", "%(num)s price list items", n),
    "mailbox": lambda n: ngettext("%(num)s mailbox", "%(num)s mailboxes", n),
}


def count_phrase(table: str, n: int) -> str:
    """"3 kontakty", "1 wersja PDF": how many rows of a table, in words a person reads."""
    phrase = COUNT_PHRASES.get(table)
    if phrase is None:
        return ngettext("%(num)s record", "%(num)s records", n)
    return phrase(n)


def describe_counts(counts: dict[str, int]) -> str:
    """Rows of several tables in words: "1 pozycja oferty, 1 wersja PDF"."""
    return ", ".join(count_phrase(t, n) for t, n in counts.items())


def _soft_delete_row(obj: SoftDeleteMixin, deletion_id: str, when: dt.datetime, user_id: Optional[int]) -> None:
    """Move one row and its cascaded children (``__soft_delete_cascade__``) to the trash."""
    session = db.session
    mapper = inspect(type(obj))
    for name in type(obj).__soft_delete_cascade__:
        rel = mapper.relationships[name]
        child = rel.mapper.class_
        (local, remote), = rel.local_remote_pairs
        session.execute(
            update(child)
            .where(getattr(child, remote.key) == getattr(obj, local.key), child.deleted_at.is_(None))
            .values(deleted_at=when, deletion_id=deletion_id, deleted_by_id=user_id)
            .execution_options(synchronize_session=False)
        )
    obj.deleted_at = when
    obj.deletion_id = deletion_id
    obj.deleted_by_id = user_id


@unit_of_work
def soft_delete(objs: list[Any] | Any, user_id: Optional[int] = None, deletion_id: Optional[str] = None) -> str:
    """Move rows (and their cascaded children) to the trash in one operation; return its id.

    ``deletion_id`` continues an operation done in batches (a large bulk delete): one trash entry.
    """
    rows = objs if isinstance(objs, list) else [objs]
    deletion_id = deletion_id or uuid.uuid4().hex
    when = utcnow()
    for obj in rows:
        if not isinstance(obj, SoftDeleteMixin):
            raise TypeError(f"{type(obj).__name__} is not soft-deletable")
        _soft_delete_row(obj, deletion_id, when, user_id)
    db.session.flush()
    return deletion_id


def _soft_delete_classes() -> list[Any]:
    """Every mapped class with soft delete (ORM classes, typed ``Any``: their columns are dynamic)."""
    return [m.class_ for m in Model.registry.mappers if issubclass(m.class_, SoftDeleteMixin)]


#: rows that can clash with live rows on restore: table -> (column compared, column renamed on "rename")
CONFLICT_KEYS: dict[str, tuple[str, str]] = {
    "client_base": ("name", "name"),
    "contact": ("nip", "name"),
    "tag": ("name", "name"),
    "task_category": ("name", "name"),
    "product": ("code", "code"),
    "offer": ("number", "number"),
    "sales_order": ("number", "number"),
    "mailbox": ("email", "email"),
}

#: what the admin may do with conflicting rows
ON_CONFLICT = ("skip", "rename")


@dataclass
class Conflict:
    """A deleted row that clashes with a live row created since (same name, same NIP, ...)."""

    kind: str
    row_id: int
    name: str
    field: str
    value: str
    live_name: str
    live_ids: list[int] = dataclasses.field(default_factory=list)  # ``field`` is a column of this class


@dataclass
class Preview:
    """What one delete operation would bring back: per table (count, sample names) and its conflicts."""

    deletion_id: str
    kinds: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many rows would come back (conflicts included)."""
        return sum(n for n, _ in self.kinds.values())

    @property
    def fingerprint(self) -> str:
        """A short digest of the conflict list (the restore is refused when it changed since the preview)."""
        keys = sorted(f"{c.kind}:{c.row_id}:{c.value}:{sorted(c.live_ids)}" for c in self.conflicts)
        return hashlib.sha256("|".join(keys).encode()).hexdigest()[:16]


@dataclass
class RestoreResult:
    """What a restore did."""

    restored: int = 0
    skipped: int = 0
    renamed: int = 0


def _label_column(cls: type) -> Optional[str]:
    """The column that names a row of ``cls`` (name, title, number or e-mail address), if any."""
    return next((a for a in ("name", "title", "number", "email") if hasattr(cls, a)), None)


#: every trash query sees deleted rows of any company (see the module docstring) and filters by company itself
_OPTS = {"include_deleted": True, "all_tenants": True}


def _deleted_rows(cls: Any, deletion_id: str, company_id: int) -> Any:
    """The rows of one delete operation of one company (the explicit company filter of the opt-out)."""
    return (cls.company_id == company_id) & (cls.deletion_id == deletion_id) & cls.deleted_at.is_not(None)


def conflicts(deletion_id: str, company_id: int) -> list[Conflict]:
    """Rows of one delete operation whose name (NIP, code, number) a live row of the company has now."""
    found: list[Conflict] = []
    by_table = {cls.__tablename__: cls for cls in _soft_delete_classes()}
    for table, (key, _rename) in CONFLICT_KEYS.items():
        cls = by_table.get(table)
        if cls is None:
            continue
        live = aliased(cls)
        label = _label_column(cls) or key
        rows = db.session.execute(
            select(cls.id, getattr(cls, label), getattr(cls, key), getattr(live, label), live.id)
            .join(live, (live.company_id == cls.company_id) & (getattr(live, key) == getattr(cls, key))
                  & live.deleted_at.is_(None) & (live.id != cls.id))
            .where(_deleted_rows(cls, deletion_id, company_id), getattr(cls, key).is_not(None), getattr(cls, key) != "")
            .order_by(cls.id)
            .execution_options(**_OPTS)
        ).all()
        by_row: dict[int, Conflict] = {}
        for row_id, name, value, live_name, live_id in rows:
            if row_id not in by_row:
                by_row[row_id] = Conflict(table, row_id, str(name or ""), key, str(value), str(live_name or ""))
                found.append(by_row[row_id])
            by_row[row_id].live_ids.append(live_id)
    return found


def preview(deletion_id: str, company_id: int, sample: int = 10) -> Preview:
    """What restoring one delete operation would bring back, and what clashes with live data."""
    result = Preview(deletion_id)
    for cls in _soft_delete_classes():
        count = db.session.execute(
            select(func.count()).select_from(cls).where(_deleted_rows(cls, deletion_id, company_id))
            .execution_options(**_OPTS)
        ).scalar_one()
        if not count:
            continue
        label = _label_column(cls)
        names: list[str] = []
        if label:
            names = [str(n) for n in db.session.execute(
                select(getattr(cls, label)).where(_deleted_rows(cls, deletion_id, company_id))
                .order_by(getattr(cls, label)).limit(sample).execution_options(**_OPTS)
            ).scalars() if n]
        result.kinds[cls.__tablename__] = (count, names)
    result.conflicts = conflicts(deletion_id, company_id)
    return result


def _skipped_ids(found: list[Conflict], deletion_id: str, company_id: int) -> dict[str, set[int]]:
    """Conflicting rows, and the rows deleted together with them (a base's contacts), stay in the trash."""
    skipped: dict[str, set[int]] = {}
    for c in found:
        skipped.setdefault(c.kind, set()).add(c.row_id)
    for cls in _soft_delete_classes():
        parents = skipped.get(cls.__tablename__)
        if not parents:
            continue
        mapper = inspect(cls)
        for name in cls.__soft_delete_cascade__:
            rel = mapper.relationships[name]
            child = rel.mapper.class_
            (_local, remote), = rel.local_remote_pairs
            ids = db.session.execute(
                select(child.id).where(_deleted_rows(child, deletion_id, company_id),
                                       getattr(child, remote.key).in_(parents))
                .execution_options(**_OPTS)
            ).scalars()
            skipped.setdefault(child.__tablename__, set()).update(ids)
    return skipped


def _free_value(cls: Any, column: str, value: str, company_id: int, taken: set[str]) -> str:
    """``value`` with a "(restored)" suffix that no live row of the company uses (fits the column)."""
    length = getattr(cls.__table__.c[column].type, "length", None) or 255
    for n in range(1, 100):
        suffix = " (" + (gettext("restored") if n == 1 else gettext("restored %(n)s", n=n)) + ")"
        candidate = value[: max(1, length - len(suffix))] + suffix
        exists = db.session.execute(
            select(cls.id).where(cls.company_id == company_id, getattr(cls, column) == candidate,
                                 cls.deleted_at.is_(None)).limit(1).execution_options(**_OPTS)
        ).first()
        if not exists and candidate not in taken:
            taken.add(candidate)
            return candidate
    raise DomainError(_l("The data cannot be restored: a record with the same name exists now. Rename it first."))


def _rename(found: list[Conflict], company_id: int) -> None:
    """Give every conflicting row a free "(restored)" name before it comes back."""
    by_table = {cls.__tablename__: cls for cls in _soft_delete_classes()}
    taken: set[str] = set()
    for c in found:
        cls = by_table[c.kind]
        column = CONFLICT_KEYS[c.kind][1]
        obj = db.session.execute(
            select(cls).where(cls.id == c.row_id, cls.company_id == company_id).execution_options(**_OPTS)
        ).scalar_one()
        setattr(obj, column, _free_value(cls, column, str(getattr(obj, column) or ""), company_id, taken))
        if column == "name" and hasattr(obj, "name_sort") and getattr(obj, "kind", None) != "person":
            # imported here: a real cycle (the contacts service soft-deletes through this module)
            from app.services.contacts.contacts import sort_key

            obj.name_sort = sort_key(obj.kind, obj.name)
    db.session.flush()


def restore_rows(deletion_id: str, company_id: int, on_conflict: Optional[str] = None,
                 expected: Optional[str] = None) -> RestoreResult:
    """Bring back one delete operation of one company in the caller's transaction; never merges silently.

    With conflicts (see ``conflicts``) ``on_conflict`` must be "skip" (those rows and the rows deleted
    with them stay in the trash) or "rename" (they come back with a "(restored)" suffix). ``expected``
    is the preview's fingerprint: when the conflicts changed since, nothing is restored. "ignore" skips
    the check (a unique name still refuses the whole restore).
    """
    found = [] if on_conflict == "ignore" else conflicts(deletion_id, company_id)
    if expected is not None and Preview(deletion_id, conflicts=found).fingerprint != expected:
        raise DomainError(_l("The data changed since the preview. Check the preview again."))
    if found and on_conflict not in ON_CONFLICT:
        raise DomainError(_l("Some records clash with data created since the deletion. Choose what to do with them."))
    session = db.session
    result = RestoreResult()
    try:
        skipped = _skipped_ids(found, deletion_id, company_id) if found and on_conflict == "skip" else {}
        if found and on_conflict == "rename":
            _rename(found, company_id)
            result.renamed = len(found)
        for cls in _soft_delete_classes():
            stmt = update(cls).where(cls.deletion_id == deletion_id, cls.company_id == company_id)
            if skipped.get(cls.__tablename__):
                stmt = stmt.where(cls.id.not_in(skipped[cls.__tablename__]))
            outcome = session.execute(
                stmt.values(deleted_at=None, deletion_id=None, deleted_by_id=None)
                .execution_options(synchronize_session=False, **_OPTS)
            )
            result.restored += outcome.rowcount or 0
        result.skipped = sum(len(ids) for ids in skipped.values())
    except IntegrityError:
        raise DomainError(
            _l("The data cannot be restored: a record with the same name exists now. Rename it first.")
        ) from None
    return result


@unit_of_work
def restore(deletion_id: str, company_id: int) -> int:
    """Bring back one delete operation as it was (one unit of work); refused when a unique name clashes."""
    return restore_rows(deletion_id, company_id, "ignore").restored


@dataclass
class DeletionGroup:
    """One delete operation of a company: when, by whom, what (table name -> rows)."""

    deletion_id: str
    deleted_at: dt.datetime
    deleted_by_id: Optional[int]
    counts: dict[str, int] = field(default_factory=dict)
    #: names of the deleted things themselves (the base, contact, offer, task), not of their parts
    names: list[str] = field(default_factory=list)
    #: the tables of the deleted things (the others were deleted with them)
    roots: tuple[str, ...] = ()
    #: the other tables in the order they are told: each thing's parts as declared, accessories last
    part_order: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        """The deleted things in words: "1 oferta", "3 kontakty"."""
        return describe_counts({t: self.counts[t] for t in self.roots})

    @property
    def parts(self) -> str:
        """What went to the trash with them: "2 pozycje oferty, 1 wersja PDF" ("" when nothing)."""
        return describe_counts({t: self.counts[t] for t in self.part_order if t in self.counts})

    @property
    def more(self) -> int:
        """How many deleted things are not named in ``names``."""
        return max(0, sum(self.counts.get(t, 0) for t in self.roots) - len(self.names))


#: tables whose rows are deleted together with another thing (not through a cascade relationship)
ACCESSORIES = frozenset({"attachment"})


def _cascade_children(classes: list[Any]) -> dict[str, list[str]]:
    """Table -> the tables its rows take to the trash with them (in declaration order)."""
    out: dict[str, list[str]] = {}
    for cls in classes:
        mapper = inspect(cls)
        out[cls.__tablename__] = [mapper.relationships[n].mapper.class_.__tablename__ for n in cls.__soft_delete_cascade__]
    return out


def _name_roots(group: DeletionGroup, by_table: dict[str, Any], children: dict[str, list[str]],
                company_id: int, sample: int) -> None:
    """Find the deleted things of a group (rows not deleted as parts of another) and name a few."""
    parts: set[str] = set().union(*(children.get(t, []) for t in group.counts))
    roots = tuple(sorted(t for t in group.counts if t not in parts)) or tuple(sorted(group.counts))
    if any(t not in ACCESSORIES for t in roots):
        # an offer's PDF filed in a binder goes with the offer: a part, not a deleted thing of its own
        roots = tuple(t for t in roots if t not in ACCESSORIES)
    group.roots = roots
    declared = [c for t in roots for c in children.get(t, []) if c in group.counts]
    rest = sorted(t for t in group.counts if t not in roots and t not in declared)
    order = list(dict.fromkeys(declared + rest))
    group.part_order = tuple(sorted(order, key=lambda t: t in ACCESSORIES))
    for table in roots:
        cls = by_table[table]
        label = _label_column(cls)
        if not label or len(group.names) >= sample:
            continue
        names = db.session.execute(
            select(getattr(cls, label)).where(_deleted_rows(cls, group.deletion_id, company_id))
            .order_by(getattr(cls, label)).limit(sample - len(group.names)).execution_options(**_OPTS)
        ).scalars()
        group.names.extend(str(n) for n in names if n)


def deletion_groups(company_id: int, now: Optional[dt.datetime] = None, sample: int = 3) -> list[DeletionGroup]:
    """Delete operations of one company still restorable (within the retention period), newest first."""
    limit = (now or utcnow()) - dt.timedelta(days=RETENTION_DAYS)
    groups: dict[str, DeletionGroup] = {}
    classes = _soft_delete_classes()
    for cls in classes:
        rows = db.session.execute(
            select(cls.deletion_id, func.min(cls.deleted_at), func.max(cls.deleted_by_id), func.count())
            .where(cls.company_id == company_id, cls.deleted_at.is_not(None), cls.deleted_at >= limit)
            .group_by(cls.deletion_id)
            .execution_options(**_OPTS)
        ).all()
        for deletion_id, deleted_at, deleted_by_id, count in rows:
            group = groups.setdefault(deletion_id, DeletionGroup(deletion_id, deleted_at, deleted_by_id))
            group.deleted_at = min(group.deleted_at, deleted_at)
            group.deleted_by_id = group.deleted_by_id or deleted_by_id
            group.counts[cls.__tablename__] = count
    by_table = {cls.__tablename__: cls for cls in classes}
    children = _cascade_children(classes)
    for group in groups.values():
        _name_roots(group, by_table, children, company_id, sample)
    return sorted(groups.values(), key=lambda g: g.deleted_at, reverse=True)


@unit_of_work
def purge(older_than_days: int = RETENTION_DAYS, now: Optional[dt.datetime] = None) -> int:
    """Remove for good what has been in the trash longer than the retention period (every company)."""
    limit = (now or utcnow()) - dt.timedelta(days=older_than_days)
    count = 0
    for cls in _soft_delete_classes():
        result = db.session.execute(
            delete(cls)
            .where(cls.deleted_at.is_not(None), cls.deleted_at < limit)
            .execution_options(synchronize_session=False, **_OPTS)  # a platform job over every company
        )
        count += result.rowcount or 0
    return count
