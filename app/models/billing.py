"""Plans (pakiety) a company pays for, with their monthly price and limits; platform data, no tenant."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TimestampMixin

#: the plan code a company has during the free licence (``Company.plan``); see services/platform/plans.py
TRIAL = "trial"


class Plan(TimestampMixin, Model):
    """A plan sold to companies (AppLarge, AppLarge+): monthly gross price in PLN and its limits.

    Plans belong to the platform (edited by the platform admin), not to a company. ``Company.plan``
    holds the ``code``; a code is never changed once used.
    """

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    #: gross price of one month in PLN (VAT included)
    price_gross: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    max_employees: Mapped[int] = mapped_column(Integer, nullable=False)
    max_mailboxes: Mapped[int] = mapped_column(Integer, nullable=False)
    max_emails_month: Mapped[int] = mapped_column(Integer, nullable=False)
    max_storage_mb: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def __str__(self) -> str:
        return self.name
