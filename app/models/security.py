"""Account security: the audit log and each company's security policy."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import utcnow


class AuditEvent(Model):
    """One security-relevant event: who, whose account, when, from which IP.

    ``company_id`` is nullable (the platform admin and unknown logins have no company), so the
    table does not use TenantMixin: app/services/accounts/audit.py filters by company explicitly.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_company_created", "company_id", "created_at"),
        Index("ix_audit_event_company_event", "company_id", "event", "created_at"),
        Index("ix_audit_event_company_user", "company_id", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    event: Mapped[str] = mapped_column(String(40), nullable=False)
    #: whose account the event is about
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True
    )
    #: who did it (the same user for their own sign-in, the owner for employee changes)
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True
    )
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    #: short non-secret detail (role names, the login typed for an unknown account)
    details: Mapped[str | None] = mapped_column(String(255))


class CompanySecurity(Model):
    """A company's security policy; one row per company, created when first changed."""

    __tablename__ = "company_security"

    company_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class UserSession(Model):
    """One signed-in browser session, kept on the server so it can be ended on its own.

    The cookie carries a random token; only its SHA-256 digest is stored. ``stamp`` is a digest of
    the user's session token generation (``CrmUser.fs_uniquifier``): rotating it ("Wyloguj ze
    wszystkich miejsc", a password change, deactivation) ends every session at once. Sessions
    belong to a person, not to a company's data (the platform admin has them too), so the table
    does not use TenantMixin: app/services/accounts/sessions.py always filters by ``user_id``.
    """

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_seen", "user_id", "last_seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    stamp: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: last request seen (naive UTC), written at most once a minute
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    #: when the session was ended by signing out or by "Wyloguj" in the session list; None = open
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
