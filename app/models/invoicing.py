"""Invoicing ("Faktury"): series, invoices and corrections, payments, KSeF settings and sending,
purchase invoices fetched from KSeF.

Issued invoices are never deleted (no soft delete): a cancelled invoice keeps its number in its
series; an invoice accepted by KSeF is frozen and only a correction changes it. Money is
``Numeric(12, 2)`` computed with ``Decimal``. The FA(3) XML is stored as the exact bytes that were
downloaded and sent (``xml``), with its SHA-256 (``xml_sha256``) that the KOD I link and the
reconciliation after a crash rely on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.contacts import Contact
from app.models.mixins import TenantMixin, TimestampMixin, utcnow

MONEY = Numeric(12, 2)
QTY = Numeric(12, 3)
RATE = Numeric(10, 4)

#: document kinds: a VAT invoice, a correction of one, a proforma (not an invoice: no KSeF, own series)
INVOICE_KINDS = ("vat", "correction", "proforma")
#: life of a document: a draft has no number; issued keeps its number forever; cancelled only before KSeF
INVOICE_STATUSES = ("draft", "issued", "cancelled")
#: KSeF side: none (not sent), queued (waiting in the outbox), sending, accepted, rejected
KSEF_STATUSES = ("none", "queued", "sending", "accepted", "rejected")
#: how a series restarts its numbers
SERIES_RESETS = ("monthly", "yearly", "never")
PAYMENT_METHODS = ("transfer", "cash", "card", "blik", "other")
KSEF_ENVIRONMENTS = ("test", "demo", "production")


class InvoiceSeries(TenantMixin, TimestampMixin, Model):
    """A numbering series configured by the owner, e.g. ``FV/{n}/{MM}/{YYYY}`` reset monthly."""

    __tablename__ = "invoice_series"
    __table_args__ = (UniqueConstraint("company_id", "name", name="uq_invoice_series_company_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="vat")
    pattern: Mapped[str] = mapped_column(String(60), nullable=False, default="FV/{n}/{MM}/{YYYY}")
    reset: Mapped[str] = mapped_column(String(10), nullable=False, default="monthly")
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class InvoiceCounter(TenantMixin, Model):
    """The last number given in one series for one period ("2026-11", "2026" or "all")."""

    __tablename__ = "invoice_counter"
    __table_args__ = (
        UniqueConstraint("company_id", "series_id", "period", name="uq_invoice_counter_company_series_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("invoice_series.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Invoice(TenantMixin, TimestampMixin, Model):
    """A VAT invoice, a correction or a proforma, with seller and buyer as they were on issue."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("company_id", "series_id", "number", name="uq_invoice_company_series_number"),
        Index("ix_invoice_company_issue", "company_id", "issue_date", "id"),
        Index("ix_invoice_company_status", "company_id", "status", "ksef_status"),
        Index("ix_invoice_company_buyer", "company_id", "buyer_contact_id"),
        Index("ix_invoice_company_due", "company_id", "due_date"),
        Index("ix_invoice_company_number", "company_id", "number"),
        Index("ix_invoice_company_buyer_nip", "company_id", "buyer_nip"),
        Index("ix_invoice_company_buyer_name", "company_id", "buyer_name"),
        Index("ix_invoice_company_paid", "company_id", "paid_at"),  # the dashboard's paid per month
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="vat")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_series.id", ondelete="RESTRICT"))
    #: printed number, given on issue (None for a draft)
    number: Mapped[str | None] = mapped_column(String(60))
    seq_period: Mapped[str | None] = mapped_column(String(7))
    seq_number: Mapped[int | None] = mapped_column(Integer)
    issue_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    sale_date: Mapped[dt.date | None] = mapped_column(Date)
    place_of_issue: Mapped[str | None] = mapped_column(String(100))

    # seller, copied from "Dane firmy" on issue
    seller_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    seller_nip: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    seller_street: Mapped[str | None] = mapped_column(String(200))
    seller_postal_code: Mapped[str | None] = mapped_column(String(6))
    seller_city: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(String(34))

    # buyer: a contact of a "Kontakty" base, copied as it was on issue
    buyer_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    buyer_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    buyer_nip: Mapped[str | None] = mapped_column(String(20))
    buyer_street: Mapped[str | None] = mapped_column(String(200))
    buyer_postal_code: Mapped[str | None] = mapped_column(String(10))
    buyer_city: Mapped[str | None] = mapped_column(String(100))
    buyer_country: Mapped[str] = mapped_column(String(2), nullable=False, default="PL")

    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="PLN")
    #: NBP mid rate entered by the user for a foreign currency (PLN per unit), its table and date
    exchange_rate: Mapped[Decimal | None] = mapped_column(RATE)
    exchange_table: Mapped[str | None] = mapped_column(String(40))
    exchange_date: Mapped[dt.date | None] = mapped_column(Date)

    payment_method: Mapped[str] = mapped_column(String(10), nullable=False, default="transfer")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    #: legal basis of an exemption ("zw"), e.g. "art. 43 ust. 1 pkt 37 ustawy o VAT"
    exemption_basis: Mapped[str | None] = mapped_column(String(256))
    split_payment: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    total_net: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    total_vat: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    total_gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    #: VAT in PLN (differs from total_vat for a foreign currency)
    total_vat_pln: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    paid_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    paid_at: Mapped[dt.date | None] = mapped_column(Date)

    # where it came from and where it is kept
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"))
    binder_id: Mapped[int | None] = mapped_column(ForeignKey("binder.id", ondelete="SET NULL"))
    #: a correction points at the invoice it corrects
    corrected_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"))
    correction_reason: Mapped[str | None] = mapped_column(String(256))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    # FA(3) XML: the exact bytes downloaded and sent to KSeF
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str | None] = mapped_column(String(64))
    ksef_status: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    ksef_number: Mapped[str | None] = mapped_column(String(40))
    ksef_reference: Mapped[str | None] = mapped_column(String(60))
    ksef_session_reference: Mapped[str | None] = mapped_column(String(60))
    ksef_accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: KSeF's reason for a rejection (code and description), shown in Polish
    ksef_error: Mapped[str | None] = mapped_column(Text)
    upo_xml: Mapped[bytes | None] = mapped_column(LargeBinary)

    buyer_contact: Mapped[Contact | None] = relationship(foreign_keys=[buyer_contact_id])
    series: Mapped[InvoiceSeries | None] = relationship(foreign_keys=[series_id])
    corrected: Mapped[Invoice | None] = relationship(remote_side=[id], foreign_keys=[corrected_id])
    items: Mapped[list[InvoiceItem]] = relationship(
        back_populates="invoice", order_by="InvoiceItem.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[InvoicePayment]] = relationship(
        back_populates="invoice", order_by="InvoicePayment.paid_on", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.number or ""

    @property
    def frozen(self) -> bool:
        """True once KSeF accepted the invoice: only a correction may change it."""
        return self.ksef_status == "accepted"

    @property
    def balance(self) -> Decimal:
        """What is still to be paid (gross minus payments)."""
        return self.total_gross - self.paid_amount


class InvoiceItem(TenantMixin, Model):
    """One line of an invoice; a correction keeps the lines before (``before=True``) and after."""

    __tablename__ = "invoice_item"
    __table_args__ = (Index("ix_invoice_item_company_invoice", "company_id", "invoice_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    before: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    unit: Mapped[str] = mapped_column(String(12), nullable=False, default="szt.")
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    unit_net: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    discount: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    #: "23", "8", "5", "0 KR", "0 WDT", "0 EX", "zw", "np", "np II", "oo"
    rate_code: Mapped[str] = mapped_column(String(8), nullable=False, default="23")
    #: goods or services from Annex 15 (split payment over 15 000 PLN)
    annex15: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    net: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))

    invoice: Mapped[Invoice] = relationship(back_populates="items")


class InvoicePayment(TenantMixin, Model):
    """A payment recorded against an invoice (full or partial)."""

    __tablename__ = "invoice_payment"
    __table_args__ = (Index("ix_invoice_payment_company_invoice", "company_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    paid_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False, default="transfer")
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


class KsefSettings(TenantMixin, TimestampMixin, Model):
    """The company's KSeF connection: environment and its KSeF token (encrypted, never shown again)."""

    __tablename__ = "ksef_settings"
    __table_args__ = (UniqueConstraint("company_id", name="uq_ksef_settings_company"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(12), nullable=False, default="test")
    #: Fernet-encrypted KSeF token (the key the app uses for 2FA secrets)
    token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: send every issued invoice to KSeF automatically
    auto_send: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_check_message: Mapped[str | None] = mapped_column(String(500))
    #: purchase invoices were fetched up to this moment (incremental fetch)
    purchases_fetched_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: when the KSeF token was saved (the form shows only this, never the token)
    token_saved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: "Pobierz z KSeF" was pressed: the next scheduler tick fetches purchase invoices
    purchases_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: why the last purchase-invoice fetch failed (Polish), None after a successful one
    purchases_error: Mapped[str | None] = mapped_column(String(500))


class KsefOutbox(TenantMixin, Model):
    """One invoice waiting to be sent to KSeF, claimed by the scheduler with a lease.

    The attempt is recorded before the call (``sending`` with ``locked_until``); after a crash a
    row whose lease ran out is reconciled by the invoice hash before anything is sent again.
    """

    __tablename__ = "ksef_outbox"
    __table_args__ = (
        # the one scheduler claims due rows of every company: the only index not led by company_id
        Index("ix_ksef_outbox_due", "status", "next_attempt_at"),
        Index("ix_ksef_outbox_company_invoice", "company_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False)
    #: queued, sending, done, failed (gave up; the owner was told)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    xml_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    session_reference: Mapped[str | None] = mapped_column(String(60))
    invoice_reference: Mapped[str | None] = mapped_column(String(60))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class PurchaseInvoice(TenantMixin, Model):
    """An invoice where the company is the buyer, fetched from KSeF ("Faktury zakupowe")."""

    __tablename__ = "purchase_invoice"
    __table_args__ = (
        UniqueConstraint("company_id", "ksef_number", name="uq_purchase_invoice_company_ksef"),
        Index("ix_purchase_invoice_company_issue", "company_id", "issue_date", "id"),
        Index("ix_purchase_invoice_company_seller", "company_id", "seller_nip"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ksef_number: Mapped[str] = mapped_column(String(40), nullable=False)
    invoice_number: Mapped[str] = mapped_column(String(256), nullable=False)
    seller_nip: Mapped[str] = mapped_column(String(20), nullable=False)
    seller_name: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    seller_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    issue_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="PLN")
    total_net: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    total_vat: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    total_gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    seller_contact: Mapped[Contact | None] = relationship(foreign_keys=[seller_contact_id])
