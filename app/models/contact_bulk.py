"""Large bulk actions on contacts (tag, untag, delete) run in the background with a progress bar."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TenantMixin, TimestampMixin

BULK_ACTIONS = ("tag", "untag", "delete")
BULK_STATUSES = ("queued", "running", "done", "failed")


class BulkJob(TenantMixin, TimestampMixin, Model):
    """One bulk action over many contacts: the contacts, the tag, progress counters."""

    __tablename__ = "contact_bulk_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="SET NULL"))
    contact_ids: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deletion_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    @property
    def percent(self) -> int:
        """Progress in whole percent (100 when finished)."""
        if self.finished:
            return 100
        return min(100, int(self.processed * 100 / self.total)) if self.total else 0

    @property
    def finished(self) -> bool:
        """True when the job will not change any more."""
        return self.status in ("done", "failed")
