"""An owner's request to restore deleted data ("Prośba o odzyskanie danych")."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TenantMixin, TimestampMixin

REQUEST_STATUSES = ("pending", "done", "rejected")


class RestoreRequest(TenantMixin, TimestampMixin, Model):
    """One delete operation the owner asked to bring back; handled by the platform admin."""

    __tablename__ = "restore_request"
    __table_args__ = (Index("ix_restore_request_company_status", "company_id", "status", "deletion_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deletion_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    note: Mapped[Optional[str]] = mapped_column(Text)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    handled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
