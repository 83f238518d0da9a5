"""Users (employees) extend FAB's ab_user with their company and a session token."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.company import Company


def new_uniquifier() -> str:
    """A fresh random session token; rotating it logs the user out everywhere."""
    return uuid.uuid4().hex


class CrmUser(User):
    """An employee of one company, or the platform admin (no company)."""

    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}

    company_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="CASCADE"), nullable=True, index=True
    )
    fs_uniquifier: Mapped[str] = mapped_column(
        String(64), nullable=False, unique=True, default=new_uniquifier
    )
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    position: Mapped[Optional[str]] = mapped_column(String(100))
    avatar: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    avatar_mime: Mapped[Optional[str]] = mapped_column(String(32))
    #: account lockout after repeated failed sign-ins (naive UTC); None = not locked
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    password_changed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    #: TOTP secret encrypted with Fernet (CRM_FERNET_KEY); None = two-factor sign-in is off
    totp_secret: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    #: last accepted TOTP time step, so a code cannot be used twice
    totp_last_counter: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    #: JSON list of keyed hashes of unused recovery codes
    recovery_codes: Mapped[Optional[str]] = mapped_column(Text, nullable=True)

    company: Mapped[Optional[Company]] = relationship(Company, lazy="joined")

    #: the browser session's cookie token (set at sign-in and when the session is loaded; not stored)
    session_token = None

    def get_id(self) -> str:
        """Flask-Login identity: the browser session's token, not the primary key."""
        return self.session_token or ""

    @property
    def two_factor_enabled(self) -> bool:
        """True when the user signs in with a code from an authenticator app."""
        return bool(self.totp_secret)

    @property
    def role_names(self) -> set[str]:
        """Names of the user's roles."""
        return {r.name for r in self.roles}

    @property
    def is_owner(self) -> bool:
        """True for the company's owner."""
        return "Owner" in self.role_names

    @property
    def is_platform_admin(self) -> bool:
        """True for the operator of the installation."""
        return "PlatformAdmin" in self.role_names

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
