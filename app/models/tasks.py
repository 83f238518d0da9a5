"""Tasks ("Zadania") and their categories ("Kategorie zadań")."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
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

if TYPE_CHECKING:
    from app.models.binders import Binder

TASK_STATUSES = ("todo", "in_progress", "done")
TASK_PRIORITIES = ("low", "normal", "high")

task_assignee = Table(
    "task_assignee",
    Model.metadata,
    Column("task_id", Integer, ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_task_assignee_user_task", "user_id", "task_id"),
)


class TaskCategory(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """A coloured category that helps to find tasks (settings tab "Kategorie zadań")."""

    __tablename__ = "task_category"
    __table_args__ = (live_unique_index("uq_task_category_company_name", "company_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    color: Mapped[str] = mapped_column(String(7), nullable=False, default="#1e88e5")

    def __str__(self) -> str:
        return self.name


class Task(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """A task ("Zadanie"): who does what by when, for which contact and binder."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_company_due", "company_id", "due_date", "id"),
        Index("ix_task_company_status", "company_id", "status", "due_date"),
        Index("ix_task_company_category", "company_id", "category_id"),
        Index("ix_task_company_binder", "company_id", "binder_id"),
        Index("ix_task_company_contact", "company_id", "contact_id"),
        Index("ix_task_company_creator", "company_id", "created_by_id"),
        Index("ix_task_company_completed", "company_id", "completed_at"),  # the dashboard's done per week
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("task_category.id", ondelete="SET NULL"))
    #: the deadline as a local (Europe/Warsaw) wall-clock date and optional time
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    due_time: Mapped[dt.time | None] = mapped_column(Time)
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="todo")
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    binder_id: Mapped[int | None] = mapped_column(ForeignKey("binder.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    category: Mapped[TaskCategory | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    binder: Mapped[Binder | None] = relationship()
    created_by: Mapped[CrmUser | None] = relationship(foreign_keys=[created_by_id])
    assignees: Mapped[list[CrmUser]] = relationship(secondary=task_assignee, order_by=CrmUser.last_name)

    @property
    def due_at(self) -> dt.datetime | None:
        """The deadline as a local naive datetime (end of day when no time is given)."""
        if self.due_date is None:
            return None
        return dt.datetime.combine(self.due_date, self.due_time or dt.time(23, 59, 59))

    def is_overdue(self, now_local: dt.datetime) -> bool:
        """True when the task is not done and its deadline has passed."""
        due = self.due_at
        return self.status != "done" and due is not None and due < now_local

    def __str__(self) -> str:
        return self.title
