"""The terms of service and the data-processing agreement: published versions and who accepted them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import TenantMixin, utcnow

#: the kinds of documents a company accepts
TERMS = "terms"
DPA = "dpa"
KINDS = (TERMS, DPA)


class LegalDocument(Model):
    """One version of a platform document (regulamin or umowa powierzenia); platform data, no tenant.

    A version is a draft while ``published_at`` is None (the platform admin edits it); once
    published its text never changes and every company's owner must accept it.
    """

    __tablename__ = "legal_document"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_legal_document_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: the text, plain with blank lines between paragraphs
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    published_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True
    )

    @property
    def is_published(self) -> bool:
        """True once the version is in force (its text is then fixed)."""
        return self.published_at is not None


class TermsAcceptance(TenantMixin, Model):
    """A company accepted one version of a document: who and when (never deleted while the company lives)."""

    __tablename__ = "terms_acceptance"
    __table_args__ = (Index("ix_terms_acceptance_company_document", "company_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("legal_document.id", ondelete="RESTRICT"), nullable=False
    )
    user_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True
    )
    accepted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    ip: Mapped[Optional[str]] = mapped_column(String(45))

    document: Mapped[LegalDocument] = relationship(LegalDocument, lazy="joined")
    #: who accepted (None once that person's account is deleted)
    user: Mapped[Optional[Any]] = relationship("CrmUser", lazy="joined")
