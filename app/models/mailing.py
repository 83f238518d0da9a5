"""Company mailboxes ("Konta mailingowe") and the documents e-mailed from them."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import SoftDeleteMixin, TenantMixin, TimestampMixin, live_unique_index, utcnow
from app.models.users import CrmUser

#: transport security of a server: implicit TLS ("SSL/TLS") or a plain connection upgraded by STARTTLS
SECURITY_KINDS = ("ssl", "starttls")
#: unverified: new or changed; verifying: a check runs; active: usable for sending; failed: the last check failed
MAILBOX_STATES = ("unverified", "verifying", "active", "failed")
#: the documents that can be e-mailed from a mailbox
DOCUMENT_KINDS = ("offer", "order", "invoice")


class Mailbox(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """A company's own mailbox used to send offers, invoices and campaigns; usable once verified."""

    __tablename__ = "mailbox"
    __table_args__ = (
        live_unique_index("uq_mailbox_company_email", "company_id", "email"),
        Index("ix_mailbox_company_state", "company_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    sender_name: Mapped[str | None] = mapped_column(String(120))
    smtp_host: Mapped[str] = mapped_column(String(253), nullable=False)
    smtp_port: Mapped[int] = mapped_column(Integer, nullable=False, default=465)
    smtp_security: Mapped[str] = mapped_column(String(10), nullable=False, default="ssl")
    imap_host: Mapped[str] = mapped_column(String(253), nullable=False)
    imap_port: Mapped[int] = mapped_column(Integer, nullable=False, default=993)
    imap_security: Mapped[str] = mapped_column(String(10), nullable=False, default="ssl")
    login: Mapped[str] = mapped_column(String(254), nullable=False)
    #: the password encrypted with Fernet (CRM_FERNET_KEY); never shown, logged or audited
    password_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="unverified")
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: a stable code of the last verification failure (see app/services/mailing/verification.py)
    last_error: Mapped[str | None] = mapped_column(String(40))
    #: the unique token of the running (or last) verification's test message
    verify_token: Mapped[str | None] = mapped_column(String(64))
    #: the step the running verification has reached (shown while the page polls)
    verify_step: Mapped[str | None] = mapped_column(String(20))
    verify_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: sending limits of campaigns: messages a minute and a day
    rate_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    daily_cap: Mapped[int] = mapped_column(Integer, nullable=False, default=500)

    @property
    def is_active(self) -> bool:
        """True when the mailbox was verified and may send."""
        return self.state == "active"

    @property
    def from_header(self) -> str:
        """The From address with the sender name, as a display string."""
        return f"{self.sender_name} <{self.email}>" if self.sender_name else self.email

    def __str__(self) -> str:
        return self.email


class DocumentEmail(TenantMixin, Model):
    """One e-mail that carried a document (offer, order, invoice) from a company mailbox."""

    __tablename__ = "document_email"
    __table_args__ = (Index("ix_document_email_company_document", "company_id", "document_kind", "document_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    sender: Mapped[str] = mapped_column(String(254), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    message_id: Mapped[str | None] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(200))

    mailbox: Mapped[Mailbox | None] = relationship(foreign_keys=[mailbox_id])
    sent_by: Mapped[CrmUser | None] = relationship(foreign_keys=[sent_by_id])
