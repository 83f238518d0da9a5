"""Support requests ("Zgłoś modyfikację lub problem") and exports of a company's data."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import TenantMixin, TimestampMixin
from app.models.users import CrmUser

#: kinds of a support request
SUPPORT_KINDS = ("modification", "problem")
#: nowe, w analizie, zaplanowane, zrobione, odrzucone
SUPPORT_STATUSES = ("new", "analysis", "planned", "done", "rejected")
#: states of a company export
EXPORT_STATUSES = ("pending", "running", "done", "failed")


class SupportRequest(TenantMixin, TimestampMixin, Model):
    """A modification request or a problem sent by a company user to the platform's support."""

    __tablename__ = "support_request"
    __table_args__ = (Index("ix_support_request_company_created", "company_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="problem")
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="new")
    answer: Mapped[Optional[str]] = mapped_column(Text)
    answered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    #: the optional attachment: stored bytes live in the file storage under this key
    attachment_key: Mapped[Optional[str]] = mapped_column(String(255))
    attachment_name: Mapped[Optional[str]] = mapped_column(String(255))
    attachment_size: Mapped[Optional[int]] = mapped_column(Integer)
    attachment_mime: Mapped[Optional[str]] = mapped_column(String(120))

    user: Mapped[Optional[CrmUser]] = relationship(foreign_keys=[user_id])
    answered_by: Mapped[Optional[CrmUser]] = relationship(foreign_keys=[answered_by_id])

    def __str__(self) -> str:
        return self.subject


class CompanyExport(TenantMixin, TimestampMixin, Model):
    """One export of all of a company's data (a ZIP in the file storage), prepared in the background."""

    __tablename__ = "company_export"
    __table_args__ = (Index("ix_company_export_company_created", "company_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    storage_key: Mapped[Optional[str]] = mapped_column(String(255))
    size: Mapped[Optional[int]] = mapped_column(Integer)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    error: Mapped[Optional[str]] = mapped_column(String(255))

    requested_by: Mapped[Optional[CrmUser]] = relationship(foreign_keys=[requested_by_id])
