"""Mixins shared by every tenant-owned table: tenancy, soft delete, timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> dt.datetime:
    """Return the current time in UTC, without tzinfo (stored as naive UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    """created_at / updated_at, kept by the ORM."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class TenantMixin:
    """A row owned by one company; the global session hook filters it by the current company."""

    @declared_attr
    def company_id(cls) -> Mapped[int]:  # noqa: N805
        """The owning company (indexed; deleting the company deletes its rows)."""
        return mapped_column(
            Integer, ForeignKey("company.id", ondelete="CASCADE"), nullable=False, index=True
        )


class SoftDeleteMixin:
    """A row that is hidden, not removed, when deleted; restorable by its deletion_id."""

    deleted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    deletion_id: Mapped[Optional[str]] = mapped_column(String(36), nullable=True, index=True)

    @declared_attr
    def deleted_by_id(cls) -> Mapped[Optional[int]]:  # noqa: N805
        """Who moved the row to the trash."""
        return mapped_column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True)

    #: relationship names whose rows are soft-deleted (and restored) together with this row
    __soft_delete_cascade__: tuple[str, ...] = ()

    @property
    def is_deleted(self) -> bool:
        """True when the row sits in the trash."""
        return self.deleted_at is not None


LIVE_ROWS = text("deleted_at IS NULL")


def live_unique_index(name: str, *columns: Any) -> Index:
    """A unique index over live (not soft-deleted) rows only, on SQLite and PostgreSQL."""
    return Index(name, *columns, unique=True, sqlite_where=LIVE_ROWS, postgresql_where=LIVE_ROWS)
