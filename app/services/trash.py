"""Soft delete and restore: one deletion_id per delete operation, cascading to child rows."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.mixins import SoftDeleteMixin, utcnow
from app.services import DomainError, transaction

RETENTION_DAYS = 30


def _soft_delete_row(obj: SoftDeleteMixin, deletion_id: str, when: dt.datetime, user_id: Optional[int]) -> None:
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


def soft_delete(objs: list[Any] | Any, user_id: Optional[int] = None) -> str:
    """Move rows (and their cascaded children) to the trash in one operation; return its id."""
    rows = objs if isinstance(objs, list) else [objs]
    deletion_id = uuid.uuid4().hex
    when = utcnow()
    with transaction():
        for obj in rows:
            if not isinstance(obj, SoftDeleteMixin):
                raise TypeError(f"{type(obj).__name__} is not soft-deletable")
            _soft_delete_row(obj, deletion_id, when, user_id)
    return deletion_id


def _soft_delete_classes() -> list[type]:
    return [m.class_ for m in Model.registry.mappers if issubclass(m.class_, SoftDeleteMixin)]


def restore(deletion_id: str, company_id: int) -> int:
    """Bring back every row of one delete operation of one company; return how many."""
    count = 0
    try:
        with transaction() as session:
            for cls in _soft_delete_classes():
                result = session.execute(
                    update(cls)
                    .where(cls.deletion_id == deletion_id, cls.company_id == company_id)
                    .values(deleted_at=None, deletion_id=None, deleted_by_id=None)
                    .execution_options(synchronize_session=False, include_deleted=True, all_tenants=True)
                )
                count += result.rowcount or 0
    except IntegrityError:
        raise DomainError(
            _l("The data cannot be restored: a record with the same name exists now. Rename it first.")
        ) from None
    return count


@dataclass
class DeletionGroup:
    """One delete operation of a company: when, by whom, what (table name -> rows)."""

    deletion_id: str
    deleted_at: dt.datetime
    deleted_by_id: Optional[int]
    counts: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


def deletion_groups(company_id: int, now: Optional[dt.datetime] = None, sample: int = 3) -> list[DeletionGroup]:
    """Delete operations of one company still restorable (within the retention period), newest first."""
    limit = (now or utcnow()) - dt.timedelta(days=RETENTION_DAYS)
    groups: dict[str, DeletionGroup] = {}
    for cls in _soft_delete_classes():
        rows = db.session.execute(
            select(cls.deletion_id, func.min(cls.deleted_at), func.max(cls.deleted_by_id), func.count())
            .where(cls.company_id == company_id, cls.deleted_at.is_not(None), cls.deleted_at >= limit)
            .group_by(cls.deletion_id)
            .execution_options(include_deleted=True, all_tenants=True)
        ).all()
        for deletion_id, deleted_at, deleted_by_id, count in rows:
            group = groups.setdefault(deletion_id, DeletionGroup(deletion_id, deleted_at, deleted_by_id))
            group.deleted_at = min(group.deleted_at, deleted_at)
            group.deleted_by_id = group.deleted_by_id or deleted_by_id
            group.counts[cls.__tablename__] = count
            label = next((a for a in ("name", "title", "number") if hasattr(cls, a)), None)
            if label and len(group.names) < sample:
                names = db.session.execute(
                    select(getattr(cls, label)).where(cls.company_id == company_id, cls.deletion_id == deletion_id)
                    .limit(sample).execution_options(include_deleted=True, all_tenants=True)
                ).scalars()
                group.names.extend(str(n) for n in names if n)
    return sorted(groups.values(), key=lambda g: g.deleted_at, reverse=True)


def purge(older_than_days: int = RETENTION_DAYS, now: Optional[dt.datetime] = None) -> int:
    """Remove for good what has been in the trash longer than the retention period."""
    from sqlalchemy import delete

    limit = (now or utcnow()) - dt.timedelta(days=older_than_days)
    count = 0
    with transaction() as session:
        for cls in _soft_delete_classes():
            result = session.execute(
                delete(cls)
                .where(cls.deleted_at.is_not(None), cls.deleted_at < limit)
                .execution_options(synchronize_session=False, include_deleted=True, all_tenants=True)
            )
            count += result.rowcount or 0
    return count
