"""Tasks ("Zadania"): Moje zadania, all tasks, week/month calendar, the task form; task categories tab."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Optional

from app.models.tasks import TASK_PRIORITIES, TASK_STATUSES, Task
from app.services import clock
from app.services.accounts import employees as employees_svc
from app.services.dictionaries import Dictionary
from app.services.work import tasks as svc
from app.views import pickers
from app.views.base import CrmView, current_company_id, form_action, found, id_arg, post_action
from app.views.dictionaries import DictionaryView
from app.views.forms import CheckedByService, ConfirmForm

MONTHS = (
    _l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
    _l("August"), _l("September"), _l("October"), _l("November"), _l("December"),
)
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


class TaskForm(FlaskForm):
    """Add or edit a task."""

    title = StringField(_l("Title"), validators=[CheckedByService(required=True)])
    description = TextAreaField(_l("Description"), validators=[Optional()])  # length: the service
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False)
    assignee_ids = SelectMultipleField(_l("Assigned to"), choices=[], validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[Optional()])
    due_time = TimeField(_l("Due time"), validators=[Optional()])
    priority = SelectField(_l("Priority"), choices=[], default="normal", validate_choice=False)
    status = SelectField(_l("Status"), choices=[], default="todo", validate_choice=False)
    contact_id = StringField(_l("Contact"))  # an id, rendered by the picker macro
    binder_id = StringField(_l("Binder"))  # an id, rendered by the picker macro
    remind_at = DateTimeLocalField(_l("Reminder"), format="%Y-%m-%dT%H:%M", validators=[Optional()])

    def fill_choices(self, company_id: int) -> None:
        """Dropdowns of the company: categories and people (contact and binder are as-you-type pickers)."""
        none = ("", "—")
        self.category_id.choices = [none] + [(str(c.id), c.name) for c in svc.list_categories(company_id)]
        self.assignee_ids.choices = [(str(u.id), str(u)) for u in employees_svc.active_people(company_id)]
        self.priority.choices = [(p, str(svc.PRIORITY_LABELS[p])) for p in TASK_PRIORITIES]
        self.status.choices = [(s, str(svc.STATUS_LABELS[s])) for s in TASK_STATUSES]


def _data(form: TaskForm) -> svc.TaskData:
    return svc.TaskData(
        title=form.title.data,
        description=form.description.data,
        category_id=form.category_id.data,
        assignee_ids=list(form.assignee_ids.data or []),
        due_date=form.due_date.data,
        due_time=form.due_time.data,
        priority=form.priority.data or "normal",
        status=form.status.data or "todo",
        contact_id=form.contact_id.data,
        binder_id=form.binder_id.data,
        remind_at=form.remind_at.data,
    )


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filter_from_args(mine: bool) -> svc.TaskFilter:
    status = request.args.get("status") or None
    return svc.TaskFilter(
        mine=mine,
        category_id=id_arg("category"),
        assignee_id=None if mine else id_arg("employee"),
        status=status if status in (*TASK_STATUSES, "open") else None,
        date_from=_date_arg("date_from"),
        date_to=_date_arg("date_to"),
        overdue=request.args.get("overdue") == "1",
    )


def fmt_due(task: Task) -> str:
    """The deadline as the user reads it: 31.12.2026 14:30, or "—"."""
    if task.due_date is None:
        return "—"
    text = task.due_date.strftime("%d.%m.%Y")
    return f"{text} {task.due_time.strftime('%H:%M')}" if task.due_time else text


class TasksView(CrmView):
    """Task lists, calendar and form; employees see only their own tasks."""

    route_base = "/tasks"
    crm_section = "tasks"
    class_permission_name = "Tasks"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "all": "list", "calendar": "list", "show": "list",
        "add": "add", "edit": "edit", "status": "edit", "delete": "delete",
    }

    def _ctx(self, **kw: Any) -> dict[str, Any]:
        now = clock.local_now()
        kw.update(
            status_labels=svc.STATUS_LABELS, priority_labels=svc.PRIORITY_LABELS, fmt_due=fmt_due,
            now_local=now, confirm=ConfirmForm(),
        )
        return kw

    def _list(self, mine: bool) -> ResponseReturnValue:
        company_id = current_company_id()
        flt = _filter_from_args(mine)
        tasks = svc.list_tasks(company_id, g.user, flt)
        return self.render_template(
            "tasks/list.html",
            **self._ctx(
                tasks=tasks, mine=mine, flt=flt, categories=svc.list_categories(company_id),
                people=employees_svc.active_people(company_id) if svc.sees_all_tasks(g.user) else [],
                statuses=TASK_STATUSES,
            ),
        )

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """"Moje zadania": tasks assigned to the signed-in user."""
        return self._list(mine=True)

    @expose("/all")
    @has_access
    def all(self) -> ResponseReturnValue:
        """All tasks of the company the user may see."""
        return self._list(mine=False)

    @expose("/calendar")
    @has_access
    def calendar(self) -> ResponseReturnValue:
        """Week or month calendar of the tasks with a deadline."""
        mode = "month" if request.args.get("view") == "month" else "week"
        day = _date_arg("date") or clock.local_today()
        mine = request.args.get("mine", "1") == "1"
        flt = svc.TaskFilter(mine=mine, category_id=id_arg("category"))
        if mode == "week":
            start, end = svc.week_range(day)
            weeks = [[start + dt.timedelta(days=i) for i in range(7)]]
            prev_day, next_day = start - dt.timedelta(days=7), start + dt.timedelta(days=7)
            title = f"{start.strftime('%d.%m')} – {end.strftime('%d.%m.%Y')}"
        else:
            weeks = svc.month_grid(day.year, day.month)
            start, end = weeks[0][0], weeks[-1][-1]
            first = day.replace(day=1)
            prev_day = (first - dt.timedelta(days=1)).replace(day=1)
            next_day = (first + dt.timedelta(days=32)).replace(day=1)
            title = f"{MONTHS[day.month - 1]} {day.year}"
        tasks = svc.by_day(current_company_id(), g.user, start, end, flt)
        return self.render_template(
            "tasks/calendar.html",
            **self._ctx(
                mode=mode, day=day, weeks=weeks, tasks_by_day=tasks, prev_day=prev_day, next_day=next_day,
                cal_title=title, weekdays=WEEKDAYS, mine=mine, today=clock.local_today(),
                categories=svc.list_categories(current_company_id()), category=flt.category_id,
            ),
        )

    def _get(self, task_id: int) -> Task:
        return found(svc.get_task(current_company_id(), g.user, task_id))

    @expose("/<int:task_id>")
    @has_access
    def show(self, task_id: int) -> ResponseReturnValue:
        """One task."""
        task = self._get(task_id)
        return self.render_template(
            "tasks/show.html",
            **self._ctx(
                task=task, remind_at=svc.reminder_local(task.company_id, task.id),
                reminder_sent=svc.reminder_sent_local(task.company_id, task.id),
            ),
        )

    def _form_page(self, form: TaskForm, task: Task | None) -> ResponseReturnValue:
        company_id = current_company_id()
        contact_label = pickers.contact_label(company_id, form.contact_id.data)
        binder_label = pickers.binder_label(company_id, form.binder_id.data)
        if not contact_label:
            form.contact_id.data = ""
        if not binder_label:
            form.binder_id.data = ""
        return self.render_template(
            "tasks/form.html",
            **self._ctx(form=form, task=task, contact_label=contact_label, binder_label=binder_label),
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """New task; ``?contact_id=`` and ``?binder_id=`` preselect its contact and binder."""
        company_id = current_company_id()
        form = TaskForm()
        if request.method == "GET":
            form.contact_id.data = request.args.get("contact_id", "")
            form.binder_id.data = request.args.get("binder_id", "")
            form.assignee_ids.data = [str(g.user.id)]
            day = _date_arg("due_date")
            if day:
                form.due_date.data = day
        form.fill_choices(company_id)
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.create_task(company_id, g.user, _data(form)), _l("Task added."))
            if done.ok and done.value is not None:
                return redirect(url_for(".show", task_id=done.value.id))
        return self._form_page(form, None)

    @expose("/<int:task_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, task_id: int) -> ResponseReturnValue:
        """Edit a task."""
        task = self._get(task_id)
        form = TaskForm(obj=task)
        if request.method == "GET":
            form.category_id.data = str(task.category_id or "")
            form.contact_id.data = str(task.contact_id or "")
            form.binder_id.data = str(task.binder_id or "")
            form.assignee_ids.data = [str(u.id) for u in task.assignees]
            form.remind_at.data = svc.reminder_local(task.company_id, task.id)
        form.fill_choices(task.company_id)
        if form.validate_on_submit():
            if form_action(form, lambda: svc.update_task(task.company_id, g.user, task.id, _data(form)),
                           _l("Changes saved.")).ok:
                return redirect(url_for(".show", task_id=task.id))
        return self._form_page(form, task)

    @expose("/<int:task_id>/status", methods=["POST"])
    @has_access
    def status(self, task_id: int) -> ResponseReturnValue:
        """Change a task's status (POST with CSRF)."""
        task = self._get(task_id)
        if ConfirmForm().validate_on_submit():
            status = request.form.get("status", "")
            post_action(lambda: svc.set_status(task.company_id, g.user, task.id, status), _l("Status changed."))
        target = request.form.get("next") or ""
        return redirect(target if target.startswith("/") and not target.startswith("//") else url_for(".show", task_id=task.id))

    @expose("/<int:task_id>/delete", methods=["POST"])
    @has_access
    def delete(self, task_id: int) -> ResponseReturnValue:
        """Move a task to the trash (POST with CSRF)."""
        task = self._get(task_id)
        if ConfirmForm().validate_on_submit():
            if not post_action(lambda: svc.delete_task(task.company_id, g.user, task.id), _l("Task deleted.")).ok:
                return redirect(url_for(".show", task_id=task.id))
        return redirect(url_for(".index"))


class TaskCategoriesView(DictionaryView):
    """Settings tab "Kategorie zadań": list, "Edycja", "Dodaj nową kategorię", delete."""

    route_base = "/settings/task-categories"
    class_permission_name = "TaskCategories"
    spec: ClassVar[Dictionary] = svc.CATEGORIES
    dom, dom_plural, icon = "category", "categories", "fa-list-check"
    texts: ClassVar[dict[str, Any]] = {
        "title": _l("Task categories"),
        "lead": _l("Categories help to identify and find the tasks you add or are given."),
        "add": _l("Add a new category"),
        "edit": _l("Edit category"),
        "empty_title": _l("No categories yet"),
        "empty_text": _l("Add the first category with the red button."),
        "confirm_delete": _l("Delete this category?"),
        "added": _l("Category added."),
        "saved": _l("Changes saved."),
        "deleted": _l("Category deleted."),
    }
