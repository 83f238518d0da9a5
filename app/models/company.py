"""The tenant: a company account and its licence."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from flask_babel import gettext
from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TimestampMixin


class Company(TimestampMixin, Model):
    """A customer account (tenant) with its company data and licence."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: None only after the NIP moved to another account on a verified claim (see nip_lost_at)
    nip: Mapped[Optional[str]] = mapped_column(String(10), nullable=True, unique=True)
    regon: Mapped[Optional[str]] = mapped_column(String(14))
    street: Mapped[Optional[str]] = mapped_column(String(200))
    postal_code: Mapped[Optional[str]] = mapped_column(String(6))
    city: Mapped[Optional[str]] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="PL", nullable=False)
    iban: Mapped[Optional[str]] = mapped_column(String(34))
    email: Mapped[Optional[str]] = mapped_column(String(254))
    #: the address the account was created with (fixed; data-recovery requests are confirmed through it)
    signup_email: Mapped[Optional[str]] = mapped_column(String(254))
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    logo: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    logo_mime: Mapped[Optional[str]] = mapped_column(String(32))
    #: the plan code (``Plan.code``); "trial" during the free licence (see services/platform/plans.py)
    plan: Mapped[str] = mapped_column(String(20), default="trial", nullable=False)
    #: a plan change that takes effect at the start of the next paid period (None = no change)
    next_plan: Mapped[Optional[str]] = mapped_column(String(20), nullable=True)
    licence_valid_until: Mapped[dt.date] = mapped_column(Date, nullable=False)
    #: the licence end date the owner was warned about three days ahead (the warning goes once per end date)
    licence_notice_for: Mapped[Optional[dt.date]] = mapped_column(Date, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: when the owner confirmed the e-mail address (naive UTC); None = sign-up not confirmed yet
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    #: when the NIP was moved to another account after a verified claim; the owner must fix it
    nip_lost_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    #: when the owner asked to close the account (naive UTC); None = not being closed
    closing_requested_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    #: the day from which the scheduler deletes the company's data (end of the grace period)
    delete_after: Mapped[Optional[dt.date]] = mapped_column(Date, nullable=True)
    #: when the company's data was deleted after closing; the row stays as a record without data
    purged_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)

    def __str__(self) -> str:
        return self.name

    @property
    def is_confirmed(self) -> bool:
        """True once the owner confirmed the e-mail address of the sign-up."""
        return self.confirmed_at is not None

    @property
    def is_closing(self) -> bool:
        """True during the grace period after the owner closed the account."""
        return self.delete_after is not None and self.purged_at is None

    def licence_days_left(self, today: Optional[dt.date] = None) -> int:
        """Whole days of licence left, counting today; 0 when expired."""
        today = today or dt.date.today()
        return max(0, (self.licence_valid_until - today).days + 1)

    def licence_active(self, today: Optional[dt.date] = None) -> bool:
        """True while the licence covers today."""
        return self.active and self.licence_days_left(today) > 0

    @property
    def licence_state(self) -> str:
        """Human-readable licence state, in the user's language."""
        if not self.is_confirmed:
            return gettext("Waiting for e-mail confirmation")
        if not self.licence_active():
            return gettext("Expired")
        return gettext("Active, %(days)s days left", days=self.licence_days_left())
