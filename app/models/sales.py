"""Sales: price list (Cennik), offers with their PDF versions, orders, document number series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.contacts import Contact
from app.models.mixins import (
    SoftDeleteMixin,
    TenantMixin,
    TimestampMixin,
    live_unique_index,
)
from app.models.users import CrmUser

#: VAT rates of Polish invoices; "zw" (exempt), "np" (not subject), "oo" (reverse charge) carry 0 VAT
VAT_RATES = ("23", "8", "5", "0", "zw", "np", "oo")
UNITS = ("szt.", "godz.", "m²", "m", "kg", "usł.", "kpl.", "mb", "l", "dzień", "mies.")
CURRENCIES = ("PLN", "EUR", "USD", "GBP", "CHF", "CZK")
OFFER_STATUSES = ("draft", "sent", "accepted", "rejected", "expired")
ORDER_STATUSES = ("new", "in_progress", "done", "cancelled")
OFFER_TEMPLATES = ("full", "compact")
DOC_LANGUAGES = ("pl", "en")

MONEY = Numeric(12, 2)
QTY = Numeric(12, 3)


class Product(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """A product or service of the price list ("Cennik")."""

    __tablename__ = "product"
    __table_args__ = (
        live_unique_index("uq_product_company_code", "company_id", "code"),
        Index("ix_product_company_name", "company_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    code: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(12), nullable=False, default="szt.")
    net_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="PLN")
    vat_rate: Mapped[str] = mapped_column(String(3), nullable=False, default="23")

    def __str__(self) -> str:
        return self.name


class DocumentSequence(TenantMixin, Model):
    """The last number given in one series: per company, per kind (offer, order), per year."""

    __tablename__ = "document_sequence"
    __table_args__ = (UniqueConstraint("company_id", "kind", "year", name="uq_document_sequence_company_kind_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class _SalesDocument(TenantMixin, SoftDeleteMixin, TimestampMixin):
    """Columns shared by offers and orders."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    seq_year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq_number: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="PLN")
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="pl")
    issue_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    binder_id: Mapped[int | None] = mapped_column(Integer)
    payment_terms: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    total_net: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    total_vat: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    total_gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def __str__(self) -> str:
        return self.number


class Offer(_SalesDocument, Model):
    """An offer for a client (a contact of a "Kontakty" base), printed to PDF on every save."""

    __tablename__ = "offer"
    __soft_delete_cascade__ = ("items", "versions")
    __table_args__ = (
        live_unique_index("uq_offer_company_number", "company_id", "number"),
        Index("ix_offer_company_status", "company_id", "status", "valid_until"),
        Index("ix_offer_company_contact", "company_id", "contact_id"),
        Index("ix_offer_company_issue", "company_id", "issue_date"),  # the dashboard's value per month
    )

    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="RESTRICT"), nullable=False)
    template: Mapped[str] = mapped_column(String(10), nullable=False, default="full")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    reminder_on: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_to: Mapped[str | None] = mapped_column(String(254))
    sent_from: Mapped[str | None] = mapped_column(String(254))
    sent_version: Mapped[int | None] = mapped_column(Integer)

    contact: Mapped[Contact] = relationship(foreign_keys=[contact_id])
    owner: Mapped[CrmUser | None] = relationship(foreign_keys=[owner_id])
    items: Mapped[list[OfferItem]] = relationship(
        back_populates="offer", order_by="OfferItem.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list[OfferVersion]] = relationship(
        back_populates="offer", order_by="OfferVersion.version.desc()", cascade="all, delete-orphan"
    )


class _Item(TenantMixin, SoftDeleteMixin):
    """Columns shared by offer and order lines."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    code: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(12), nullable=False, default="szt.")
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    discount: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal(0))
    vat_rate: Mapped[str] = mapped_column(String(3), nullable=False, default="23")
    net: Mapped[Decimal] = mapped_column(MONEY, nullable=False)


class OfferItem(_Item, Model):
    """One line of an offer: from the price list or free text."""

    __tablename__ = "offer_item"
    __table_args__ = (Index("ix_offer_item_company_offer", "company_id", "offer_id", "position"),)

    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), nullable=False)
    offer: Mapped[Offer] = relationship(back_populates="items")


class OfferVersion(TenantMixin, SoftDeleteMixin, Model):
    """One saved version of an offer: its PDF, kept as an attachment, never overwritten."""

    __tablename__ = "offer_version"
    __table_args__ = (UniqueConstraint("company_id", "offer_id", "version", name="uq_offer_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    #: the Attachment row (issue 5) holding the PDF; no FK here: that table lives in another migration
    attachment_id: Mapped[int | None] = mapped_column(Integer)
    total_gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    offer: Mapped[Offer] = relationship(back_populates="versions")


class Order(_SalesDocument, Model):
    """An order ("Zlecenie"): from an accepted offer or from scratch."""

    __tablename__ = "sales_order"
    __soft_delete_cascade__ = ("items",)
    __table_args__ = (
        live_unique_index("uq_sales_order_company_number", "company_id", "number"),
        Index("ix_sales_order_company_status", "company_id", "status"),
        Index("ix_sales_order_company_contact", "company_id", "contact_id"),
    )

    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="RESTRICT"), nullable=False)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="new")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    attachment_id: Mapped[int | None] = mapped_column(Integer)

    contact: Mapped[Contact] = relationship(foreign_keys=[contact_id])
    offer: Mapped[Offer | None] = relationship(foreign_keys=[offer_id])
    owner: Mapped[CrmUser | None] = relationship(foreign_keys=[owner_id])
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.position", cascade="all, delete-orphan"
    )


class OrderItem(_Item, Model):
    """One line of an order."""

    __tablename__ = "sales_order_item"
    __table_args__ = (Index("ix_sales_order_item_company_order", "company_id", "order_id", "position"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), nullable=False)
    order: Mapped[Order] = relationship(back_populates="items")
