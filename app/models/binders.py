"""Binders ("Segregatory", also called investments) and files ("Załączniki")."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.contacts import Contact
from app.models.mixins import LIVE_ROWS, SoftDeleteMixin, TenantMixin, TimestampMixin
from app.models.users import CrmUser


class Binder(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """A folder for one client grouping its offers, orders, invoices, tasks and files."""

    __tablename__ = "binder"
    __soft_delete_cascade__ = ("attachments",)
    __table_args__ = (
        Index("ix_binder_company_name", "company_id", "name", "id"),
        Index("ix_binder_company_contact", "company_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    contact: Mapped[Contact | None] = relationship()
    created_by: Mapped[CrmUser | None] = relationship(foreign_keys=[created_by_id])
    attachments: Mapped[list[Attachment]] = relationship(back_populates="binder")

    def __str__(self) -> str:
        return self.name


class Attachment(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """A stored file: in a binder, and/or owned by another document (owner_type/owner_id)."""

    __tablename__ = "attachment"
    __table_args__ = (
        Index("ix_attachment_company_binder", "company_id", "binder_id", "id"),
        Index("ix_attachment_company_owner", "company_id", "owner_type", "owner_id"),
        # the plan's storage check sums a company's live files from this index alone
        Index("ix_attachment_company_size", "company_id", "size", sqlite_where=LIVE_ROWS,
              postgresql_where=LIVE_ROWS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    binder_id: Mapped[int | None] = mapped_column(ForeignKey("binder.id", ondelete="CASCADE"))
    owner_type: Mapped[str | None] = mapped_column(String(30))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    mime: Mapped[str] = mapped_column(String(120), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    binder: Mapped[Binder | None] = relationship(back_populates="attachments")
    uploaded_by: Mapped[CrmUser | None] = relationship(foreign_keys=[uploaded_by_id])

    def __str__(self) -> str:
        return self.filename
