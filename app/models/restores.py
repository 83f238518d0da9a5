"""An owner's request to restore deleted data ("Prośba o odzyskanie danych")."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TenantMixin, TimestampMixin

#: awaiting: e-mailed, not yet confirmed through the link (the platform admin does not see it);
#: pending: confirmed, waiting for the platform admin; done / rejected: handled; expired: never confirmed
REQUEST_STATUSES = ("awaiting", "pending", "done", "rejected", "expired")
OPEN_STATUSES = ("awaiting", "pending")


class RestoreRequest(TenantMixin, TimestampMixin, Model):
    """One delete operation the owner asked to bring back; confirmed by e-mail, handled by the platform admin."""

    __tablename__ = "restore_request"
    __table_args__ = (Index("ix_restore_request_company_status", "company_id", "status", "deletion_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deletion_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="awaiting")
    note: Mapped[Optional[str]] = mapped_column(Text)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    handled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the address the confirmation link went to (the one the company account was created with)
    sent_to: Mapped[Optional[str]] = mapped_column(String(254))
    #: SHA-256 of the link's one-time nonce; the link works only while the request is awaiting
    confirm_digest: Mapped[Optional[str]] = mapped_column(String(64))
    expires_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: what the platform admin did: e.g. "restored 3, skipped 1"
    outcome: Mapped[Optional[str]] = mapped_column(String(255))
