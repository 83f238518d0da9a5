"""The backup history ("Kopia zapasowa"): a platform table, no company's data."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import utcnow

#: running -> ok | copy_failed (the archive is fine, a copy to another destination failed) | failed
BACKUP_STATUSES = ("running", "ok", "copy_failed", "failed")


class Backup(Model):
    """One backup run: its archive, where copies went, whether it was verified and drilled.

    Not a tenant table (no TenantMixin): only the platform admin sees it. Its rows are left out of
    the archives themselves, so the history outlives a restore.
    """

    __tablename__ = "backup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="running")
    file_name: Mapped[str] = mapped_column(String(200), nullable=False)
    size: Mapped[Optional[int]] = mapped_column(BigInteger)
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    #: the archive was read back and every checksum of its manifest matched
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: [{"kind": "local" | "dir" | "s3", "target": str, "ok": bool, "error": str | None}]
    destinations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    error: Mapped[Optional[str]] = mapped_column(Text)
    #: the last restore drill of this archive: when, whether every table's row count matched, details
    drill_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    drill_ok: Mapped[Optional[bool]] = mapped_column(Boolean)
    drill_result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
