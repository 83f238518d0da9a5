"""Personal API tokens ("Tokeny API"): made by a user in the profile, stored hashed."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.mixins import TenantMixin, utcnow
from app.models.users import CrmUser

#: what a token may do: read only (GET) or read and write
TOKEN_SCOPES = ("read", "write")


class ApiToken(TenantMixin, Model):
    """One personal API token of a user: its name, scope, expiry, last use and revocation.

    The token itself is shown once; only its SHA-256 is kept. ``lookup`` is the short public part
    of the token (``kl_<lookup>_<secret>``) that finds the row without scanning hashes.
    """

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_company_user", "company_id", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    lookup: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    scope: Mapped[str] = mapped_column(String(5), nullable=False, default="read")
    #: the user's session stamp when the token was made: "log out everywhere" changes it
    user_stamp: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[CrmUser] = relationship(foreign_keys=[user_id])

    def is_live(self, now: dt.datetime) -> bool:
        """True while the token is neither revoked nor expired."""
        return self.revoked_at is None and self.expires_at > now

    def __str__(self) -> str:
        return self.name
