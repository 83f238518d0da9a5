"""Users (employees) extend FAB's ab_user with their company and a session token."""

from __future__ import annotations

import uuid
from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import ForeignKey, Integer, LargeBinary, String
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

    company: Mapped[Optional[Company]] = relationship(Company, lazy="joined")

    def get_id(self) -> str:
        """Flask-Login identity: the session token, not the primary key."""
        return self.fs_uniquifier

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
