"""Tasks ("Zadania") and task categories: rules, visibility by role, lists and calendars.

Visibility: the Owner and Managers see every task of the company; an Employee sees the tasks
assigned to them or created by them. A task's contact comes only from a standard "Kontakty"
base (``contacts.pickable_contact`` refuses mailing-base and foreign contacts).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models.mixins import utcnow
from app.models.tasks import (
    TASK_PRIORITIES,
    TASK_STATUSES,
    Task,
    TaskCategory,
    task_assignee,
)
from app.models.users import CrmUser
from app.security import roles
from app.services import DomainError, FieldChecks, clock, dictionaries, inputs, trash, unit_of_work
from app.services import validators as v
from app.services.accounts import employees
from app.services.contacts.contacts import pickable_contact
from app.services.dictionaries import Dictionary
from app.services.work import binders, reminders
from app.services.work.binders import BinderRow

STATUS_LABELS = {"todo": _l("To do"), "in_progress": _l("In progress"), "done": _l("Done")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High")}
DEFAULT_COLOR = "#1e88e5"
#: the link a reminder's notification keeps (stored with the notification, so a path, not an endpoint)
TASK_PATH = "/tasks/{id}"


# --- categories -------------------------------------------------------------------------------


CATEGORIES = Dictionary(
    model=TaskCategory,
    default_color=DEFAULT_COLOR,
    exists=_l("A category with this name already exists."),
    missing=_l("This category does not exist."),
)


def list_categories(company_id: int) -> list[TaskCategory]:
    """The company's task categories, by name."""
    return dictionaries.entries(CATEGORIES, company_id)


def get_category(company_id: int, category_id: Any) -> TaskCategory | None:
    """A live category of this company, or None."""
    return dictionaries.get_entry(CATEGORIES, company_id, category_id)


@unit_of_work
def create_category(company_id: int, name: str, color: str | None = None) -> TaskCategory:
    """Add a task category ("Dodaj nową kategorię")."""
    return dictionaries.create_entry(CATEGORIES, company_id, name, color)


@unit_of_work
def update_category(company_id: int, category_id: Any, name: str, color: str | None = None) -> TaskCategory:
    """Rename or recolour a category."""
    return dictionaries.update_entry(CATEGORIES, company_id, category_id, name, color)


@unit_of_work
def delete_category(company_id: int, category_id: Any, user_id: int | None) -> str:
    """Move a category to the trash; its tasks stay, shown without a category."""
    return dictionaries.delete_entry(CATEGORIES, company_id, category_id, user_id)


# --- visibility -------------------------------------------------------------------------------


def sees_all_tasks(user: CrmUser) -> bool:
    """True for the Owner and Managers: they see every task of the company."""
    return bool(user.role_names & {roles.OWNER, roles.MANAGER})


def _assigned_to(user_id: int) -> Any:
    return exists().where(task_assignee.c.task_id == Task.id, task_assignee.c.user_id == user_id)


def visible_tasks(company_id: int, user: CrmUser) -> Select:
    """SELECT of the company's tasks ``user`` may see (role rule applied; the company is the tenancy scope)."""
    stmt = select(Task)
    if not sees_all_tasks(user):
        stmt = stmt.where(or_(_assigned_to(user.id), Task.created_by_id == user.id))
    return stmt


def get_task(company_id: int, user: CrmUser, task_id: int) -> Task | None:
    """A task the user may see, or None (another company's or a hidden task gives None)."""
    return db.session.execute(
        visible_tasks(company_id, user).where(Task.id == task_id).options(selectinload(Task.assignees))
    ).scalar_one_or_none()


# --- create / edit ----------------------------------------------------------------------------


@dataclass
class TaskData:
    """Fields of the task form (``remind_at`` is local wall-clock time)."""

    title: str
    description: str | None = None
    category_id: Any = None
    assignee_ids: list[Any] = field(default_factory=list)
    due_date: dt.date | None = None
    due_time: dt.time | None = None
    priority: str = "normal"
    status: str = "todo"
    contact_id: Any = None
    binder_id: Any = None
    remind_at: dt.datetime | None = None


def _clean_category(company_id: int, value: Any) -> int | None:
    category_id = inputs.parse_id(value, "category_id", _l("This category does not exist."))
    if category_id is not None and get_category(company_id, category_id) is None:
        raise DomainError(_l("This category does not exist."), "category_id")
    return category_id


def _clean_contact(company_id: int, value: Any) -> int | None:
    contact_id = inputs.parse_id(value, "contact_id", _l("This contact does not exist."))
    return pickable_contact(company_id, contact_id).id if contact_id is not None else None


def _clean_assignees(company_id: int, value: Any) -> list[CrmUser]:
    ids = set(inputs.parse_ids(value, "assignee_ids", _l("Choose people of your company.")))
    people = {p.id: p for p in employees.active_people(company_id)}
    if any(uid not in people for uid in ids):
        raise DomainError(_l("Choose people of your company."), "assignee_ids")
    return [people[uid] for uid in sorted(ids)]


def _clean(company_id: int, data: TaskData) -> dict[str, Any]:
    """Every field of the task form checked in one pass; all refusals come together (FieldErrors)."""
    checks = FieldChecks()
    out = {
        "title": checks.run(v.clean_text, data.title, "title", _l("Title"), 200, required=True),
        "description": checks.run(v.clean_text, data.description, "description", _l("Description"), 10000),
        "category_id": checks.run(_clean_category, company_id, data.category_id),
        "binder_id": checks.run(binders.check_binder, company_id, data.binder_id),
        "contact_id": checks.run(_clean_contact, company_id, data.contact_id),
        "due_date": data.due_date,
        "due_time": data.due_time,
        "priority": data.priority,
        "status": data.status,
        "assignees": checks.run(_clean_assignees, company_id, data.assignee_ids) or [],
    }
    if data.priority not in TASK_PRIORITIES:
        checks.refuse(_l("Choose a priority."), "priority")
    if data.status not in TASK_STATUSES:
        checks.refuse(_l("Choose a status."), "status")
    if data.due_time is not None and data.due_date is None:
        checks.refuse(_l("Give the due date together with the time."), "due_date")
    checks.raise_if_any()
    return out


def _apply(task: Task, clean: dict[str, Any]) -> None:
    for key, value in clean.items():
        setattr(task, key, value)
    if task.status == "done" and task.completed_at is None:
        task.completed_at = utcnow()
    elif task.status != "done":
        task.completed_at = None


def _reminder_utc(data: TaskData) -> dt.datetime | None:
    return clock.local_to_utc(data.remind_at) if data.remind_at else None


def require_task(company_id: int, user: CrmUser, task_id: int) -> Task:
    """A task the user may see, or DomainError ("This task does not exist.")."""
    task = get_task(company_id, user, task_id)
    if task is None:
        raise DomainError(_l("This task does not exist."))
    return task


@unit_of_work
def create_task(company_id: int, user: CrmUser, data: TaskData) -> Task:
    """Create a task (assigned to its author when nobody is chosen), with its reminder."""
    clean = _clean(company_id, data)
    if not clean["assignees"]:
        clean["assignees"] = [user]
    task = Task(created_by_id=user.id)
    _apply(task, clean)
    db.session.add(task)
    db.session.flush()
    if task.status != "done":
        reminders.set_reminder(company_id, "task", task.id, _reminder_utc(data))
    return task


@unit_of_work
def update_task(company_id: int, user: CrmUser, task_id: int, data: TaskData) -> Task:
    """Change a task the user may see; its reminder follows the new time."""
    task = require_task(company_id, user, task_id)
    clean = _clean(company_id, data)
    if not clean["assignees"]:
        clean["assignees"] = list(task.assignees) or [user]
    _apply(task, clean)
    remind = None if task.status == "done" else _reminder_utc(data)
    reminders.set_reminder(company_id, "task", task.id, remind)
    return task


@unit_of_work
def set_status(company_id: int, user: CrmUser, task_id: int, status: str) -> Task:
    """Move a task to "to do", "in progress" or "done" (done drops a pending reminder)."""
    task = require_task(company_id, user, task_id)
    if status not in TASK_STATUSES:
        raise DomainError(_l("Choose a status."), "status")
    _apply(task, {"status": status})
    if status == "done":
        reminders.cancel_reminders(company_id, "task", task.id)
    return task


@unit_of_work
def delete_task(company_id: int, user: CrmUser, task_id: int) -> str:
    """Move a task to the trash (its pending reminder is dropped)."""
    task = require_task(company_id, user, task_id)
    reminders.cancel_reminders(company_id, "task", task.id)
    return trash.soft_delete(task, user.id)


def reminder_local(company_id: int, task_id: int) -> dt.datetime | None:
    """The pending reminder time of a task in local time, for the form."""
    pending = reminders.pending_reminder(company_id, "task", task_id)
    return clock.utc_to_local(pending.remind_at) if pending else None


def reminder_sent_local(company_id: int, task_id: int) -> dt.datetime | None:
    """When the task's last reminder was sent, in local time (None when none was sent)."""
    sent = reminders.last_sent(company_id, "task", task_id)
    return clock.utc_to_local(sent.sent_at) if sent and sent.sent_at else None


# --- lists and calendars ----------------------------------------------------------------------


@dataclass
class TaskFilter:
    """Filters of the task lists."""

    mine: bool = False
    category_id: int | None = None
    assignee_id: int | None = None
    status: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    overdue: bool = False
    binder_id: int | None = None


def filtered(company_id: int, user: CrmUser, flt: TaskFilter) -> Select:
    """The visible tasks narrowed by the filters (no ordering)."""
    stmt = visible_tasks(company_id, user)
    if flt.mine:
        stmt = stmt.where(_assigned_to(user.id))
    if flt.category_id:  # a deleted category (stale link) matches nothing
        live = select(TaskCategory.id).where(TaskCategory.id == flt.category_id, TaskCategory.deleted_at.is_(None))
        stmt = stmt.where(Task.category_id.in_(live))
    if flt.assignee_id:
        stmt = stmt.where(_assigned_to(flt.assignee_id))
    if flt.status in TASK_STATUSES:
        stmt = stmt.where(Task.status == flt.status)
    elif flt.status == "open":
        stmt = stmt.where(Task.status != "done")
    if flt.date_from:
        stmt = stmt.where(Task.due_date >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(Task.due_date <= flt.date_to)
    if flt.binder_id:
        stmt = stmt.where(Task.binder_id == flt.binder_id)
    if flt.overdue:
        now = clock.local_now()
        stmt = stmt.where(
            Task.status != "done",
            or_(
                Task.due_date < now.date(),
                (Task.due_date == now.date()) & Task.due_time.is_not(None) & (Task.due_time < now.time()),
            ),
        )
    return stmt


def list_tasks(company_id: int, user: CrmUser, flt: TaskFilter, limit: int = 500) -> list[Task]:
    """Tasks for a list: open ones first, then by deadline (no deadline last)."""
    stmt = (
        filtered(company_id, user, flt)
        .options(selectinload(Task.assignees), joinedload(Task.contact))
        .order_by(
            (Task.status == "done"),
            Task.due_date.is_(None),
            Task.due_date,
            Task.due_time.is_(None),
            Task.due_time,
            Task.id,
        )
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def week_range(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week of ``day``."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def month_grid(year: int, month: int) -> list[list[dt.date]]:
    """Weeks (Monday first) covering a month, with the neighbouring months' days filling them."""
    return calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


def by_day(
    company_id: int, user: CrmUser, start: dt.date, end: dt.date, flt: TaskFilter | None = None
) -> dict[dt.date, list[Task]]:
    """Visible tasks due between two dates, grouped by date (for the calendar)."""
    flt = flt or TaskFilter()
    flt = TaskFilter(**{**flt.__dict__, "date_from": start, "date_to": end})
    result: dict[dt.date, list[Task]] = {}
    for task in list_tasks(company_id, user, flt, limit=2000):
        if task.due_date is not None:
            result.setdefault(task.due_date, []).append(task)
    return result


def overdue_count(company_id: int, user: CrmUser) -> int:
    """How many of the user's own tasks are overdue."""
    stmt = filtered(company_id, user, TaskFilter(mine=True, overdue=True)).with_only_columns(func.count(Task.id))
    return db.session.execute(stmt).scalar_one()


# --- plug-ins: binder rows and reminder target (registered by the composition root) ------------


def binder_rows(company_id: int, user: CrmUser, binder_id: int) -> list[BinderRow]:
    """The tasks of a binder that ``user`` may see: title, status and deadline of each."""
    return [
        BinderRow("tasks", task.id, task.title, str(STATUS_LABELS[task.status]), task.due_date)
        for task in list_tasks(company_id, user, TaskFilter(binder_id=binder_id))
    ]


def reminder_message(company_id: int, task_id: int) -> reminders.ReminderMessage | None:
    """What a task reminder says, to its assignees (or its author); None for done/deleted tasks."""
    task = db.session.execute(
        select(Task).where(Task.id == task_id).options(selectinload(Task.assignees))
    ).scalar_one_or_none()
    if task is None or task.status == "done":
        return None
    people = [u.id for u in task.assignees] or ([task.created_by_id] if task.created_by_id else [])
    title = gettext("Reminder: %(title)s", title=task.title)
    lines = [gettext("Task: %(title)s", title=task.title)]
    if task.due_date:
        due = task.due_date.strftime("%d.%m.%Y") + (f" {task.due_time.strftime('%H:%M')}" if task.due_time else "")
        lines.append(gettext("Due: %(due)s", due=due))
    if task.contact is not None:
        lines.append(gettext("Contact: %(name)s", name=task.contact.name))
    if task.description:
        lines.append("")
        lines.append(task.description)
    return reminders.ReminderMessage(people, title, "\n".join(lines), TASK_PATH.format(id=task.id))
