"""CSV import jobs of contacts (run in the background, progress polled by the page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TenantMixin, TimestampMixin

IMPORT_STATUSES = ("draft", "queued", "running", "done", "failed")
DUPLICATE_MODES = ("skip", "update", "import")


class ImportJob(TenantMixin, TimestampMixin, Model):
    """One uploaded CSV file: its mapping, options, progress counters and refused-rows report."""

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_company_created", "company_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("client_base.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
    filename: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    encoding: Mapped[str] = mapped_column(String(20), nullable=False, default="utf-8")
    delimiter: Mapped[str] = mapped_column(String(1), nullable=False, default=";")
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refused: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    report: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    @property
    def percent(self) -> int:
        """Progress in whole percent (100 when finished)."""
        if self.status in ("done", "failed"):
            return 100
        if not self.total:
            return 0
        return min(100, int(self.processed * 100 / self.total))

    @property
    def finished(self) -> bool:
        """True when the job will not change any more."""
        return self.status in ("done", "failed")
