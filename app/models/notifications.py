"""Reminders (due times of tasks, offers, ...), in-app notifications and the scheduler's job table."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.mixins import TenantMixin, TimestampMixin

UNSENT = text("sent_at IS NULL")


class Reminder(TenantMixin, TimestampMixin, Model):
    """A moment at which the people of a document (task, offer) are reminded, exactly once."""

    __tablename__ = "reminder"
    __table_args__ = (
        Index("ix_reminder_company_owner", "company_id", "owner_type", "owner_id"),
        Index("ix_reminder_due", "remind_at", sqlite_where=UNSENT, postgresql_where=UNSENT),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(30), nullable=False)
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: when to remind, naive UTC
    remind_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    #: set, in the same transaction that creates the notifications, by the one runner that claimed it
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Notification(TenantMixin, TimestampMixin, Model):
    """An in-app message for one person (the bell in the header)."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_company_user_read", "company_id", "user_id", "read_at", "id"),
        Index("uq_notification_company_reminder_user", "company_id", "reminder_id", "user_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminder.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


#: APScheduler's job store table (SQLAlchemyJobStore, tablename "apscheduler_jobs"), declared here so
#: that Alembic creates it and autogenerate does not propose to drop it.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Model.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
