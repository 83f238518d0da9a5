"""Subscription payments through PayU ("Płatności") and the platform operator that invoices them.

A ``Payment`` belongs to the paying company (tenant). It is recorded before PayU is called, so
every order PayU knows has a row here; ``ext_order_id`` (ours) and ``payu_order_id`` (PayU's) are
unique across the platform because notifications arrive without a company. ``PaymentEvent``
keeps each order status PayU notified once (a unique key per payment and status): a repeated,
late or concurrent notification finds its status taken and changes nothing.

The subscription invoice of a payment is issued by the platform operator: a company row of its
own (``PlatformOperator`` names it) with its own numbering series, the paying company being the
buyer. The invoice therefore lives in the operator's tenant; the payment keeps its id and number,
and the paying company reaches it only through its own payment row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import TenantMixin, TimestampMixin, utcnow

#: how the buyer pays: BLIK, szybki przelew (pay-by-link), karta
PAYMENT_METHODS = ("blik", "pbl", "card")
#: new: recorded, PayU not asked yet; pending: order created, waiting for PayU's notification;
#: completed / canceled: PayU's final word; failed: the order could not be created
PAYMENT_STATUSES = ("new", "pending", "completed", "canceled", "failed")


class Payment(TenantMixin, TimestampMixin, Model):
    """One order of a subscription paid through PayU: plan, months, amount and what it came to."""

    __tablename__ = "payment"
    __table_args__ = (
        # notifications arrive without a company: the order ids are looked up platform-wide, so
        # these two unique keys are the only ones not led by company_id
        UniqueConstraint("ext_order_id", name="uq_payment_ext_order"),
        UniqueConstraint("payu_order_id", name="uq_payment_payu_order"),
        Index("ix_payment_company_created", "company_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_order_id: Mapped[str] = mapped_column(String(64), nullable=False)
    payu_order_id: Mapped[str | None] = mapped_column(String(64))
    plan_code: Mapped[str] = mapped_column(String(20), nullable=False)
    months: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="PLN")
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="new")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    #: the licence days this payment bought (set on COMPLETED)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    canceled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: why the order could not be created (for the operator; the owner sees a Polish message)
    error: Mapped[str | None] = mapped_column(String(300))
    #: the operator's subscription invoice (a row of the operator's tenant) and its number
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="SET NULL"))
    invoice_number: Mapped[str | None] = mapped_column(String(60))
    invoice_mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PaymentEvent(TenantMixin, Model):
    """One order status PayU notified for a payment, recorded once (the idempotency key)."""

    __tablename__ = "payment_event"
    __table_args__ = (
        UniqueConstraint("company_id", "payment_id", "status", name="uq_payment_event_company_payment_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    payment: Mapped[Payment] = relationship()


class PlatformOperator(Model):
    """Which company row is the platform operator that issues subscription invoices (one row)."""

    __tablename__ = "platform_operator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="RESTRICT"), nullable=False,
                                            unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
