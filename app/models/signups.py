"""Claims of a NIP that another company account holds ("Ta firma ma już konto? Zgłoś to")."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import utcnow

#: unconfirmed: e-mail link not clicked yet; pending: waits for the platform admin
CLAIM_STATUSES = ("unconfirmed", "pending", "approved", "rejected")


class NipClaim(Model):
    """A company's request to take over its NIP from the account that holds it.

    A platform-level record (the claimant has no company yet), handled only by the platform admin,
    so it has no TenantMixin; ``company_id`` is the account that held the NIP when the claim came.
    """

    __tablename__ = "nip_claim"
    __table_args__ = (Index("ix_nip_claim_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nip: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    company_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="SET NULL"), nullable=True, index=True
    )
    company_name: Mapped[str] = mapped_column(String(200), nullable=False)
    first_name: Mapped[str] = mapped_column(String(64), nullable=False)
    last_name: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    explanation: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="unconfirmed")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    email_confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    handled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    handled_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    #: how ownership of the NIP was proven ("admin_check"; later e.g. "ksef")
    proof: Mapped[Optional[str]] = mapped_column(String(20))
    #: the platform admin's note (what was checked, or why the claim was rejected)
    decision_note: Mapped[Optional[str]] = mapped_column(Text)
    #: the account made for the claimant on approval
    new_company_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="SET NULL"), nullable=True
    )

    @property
    def claimant_name(self) -> str:
        """The claimant's full name."""
        return f"{self.first_name} {self.last_name}".strip()
