"""Figures and charts for the start page ("Pulpit").

The charts count offers, tasks and invoices, never contacts: each series is one grouped query over
an indexed date or status column of the company, whatever the size of its client bases. Months
and weeks are grouped with a ``CASE`` over fixed date ranges, so the same SQL runs on SQLite and
PostgreSQL. An employee sees their own numbers (offers they look after, tasks assigned to them,
invoices they issued); the owner sees the company's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from app.extensions import db
from app.models.contacts import ClientBase, Contact
from app.models.invoicing import Invoice
from app.models.sales import OFFER_STATUSES, Offer
from app.models.tasks import Task, task_assignee
from app.models.users import CrmUser
from app.services import clock
from app.services.contacts import search as contact_search
from app.services.sales import offers
from app.services.work import tasks

MONTHS = 6
WEEKS = 8
MONTH_NAMES = ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru")


def summary(company_id: int, user: CrmUser) -> dict[str, Any]:
    """What the dashboard shows the signed-in user of ``company_id``: licence, people, contacts, tasks, offers."""
    company = user.company
    if company is None:  # the view passes the signed-in user's company; a user without one has no dashboard
        raise LookupError("the user belongs to no company")
    figures = _figures(company_id, user)
    contact_count = min(figures["contacts"], contact_search.COUNT_CAP)
    upcoming = tasks.list_tasks(company_id, user, tasks.TaskFilter(mine=True, status="open"), limit=5)
    return {
        "company": company,
        "days_left": company.licence_days_left(),
        "employees": figures["people"],
        "contacts": contact_count,
        "contacts_capped": figures["contacts"] > contact_search.COUNT_CAP,
        "overdue": figures["overdue"],
        "upcoming": upcoming,
        "offers": {status: figures[status] for status in offers.EDITABLE if figures[status]},
        "getting_started": getting_started(user, contact_count, figures),
    }


def _figures(company_id: int, user: CrmUser) -> dict[str, int]:
    """Every number of the dashboard's boxes in one statement (each a scalar subquery): contacts (at
    most COUNT_CAP + 1 counted), the user's overdue tasks, active people, open offers by status, and
    whether the company has a client base and a task (the owner's first steps).
    """
    contacts = select(Contact.id).where(*contact_search.contact_filters(company_id, None, None, None)) \
        .limit(contact_search.COUNT_CAP + 1).subquery()
    overdue = tasks.filtered(company_id, user, tasks.TaskFilter(mine=True, overdue=True)) \
        .with_only_columns(func.count(Task.id))
    columns = {
        "contacts": select(func.count()).select_from(contacts).scalar_subquery(),
        "overdue": overdue.scalar_subquery(),
        # CrmUser is no tenant table: the company filter is this query's own
        "people": select(func.count(CrmUser.id))
        .where(CrmUser.company_id == company_id, CrmUser.active.is_(True)).scalar_subquery(),
        **{status: select(func.count(Offer.id)).where(Offer.company_id == company_id, Offer.status == status)
           .scalar_subquery() for status in offers.EDITABLE},
        "has_base": exists().where(ClientBase.company_id == company_id),
        "has_task": exists().where(Task.company_id == company_id),
    }
    row = db.session.execute(select(*[c.label(k) for k, c in columns.items()])).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


# --- "Where to start" ---------------------------------------------------------------------------


def getting_started(user: CrmUser, contact_count: int, figures: dict[str, int]) -> dict[str, bool] | None:
    """The owner's first steps and which are done; None for an employee or once every step is done.

    Done means: the company's NIP and address (street, postal code, city) are filled in, the company
    has a client base and a contact, and it has an employee besides the owner or a task.
    """
    if not user.is_owner:
        return None
    company = user.company
    steps = {
        "company": bool(company and company.nip and company.street and company.postal_code and company.city),
        "base": bool(figures["has_base"]),
        "contact": contact_count > 0,
        "team": figures["people"] > 1 or bool(figures["has_task"]),
    }
    return None if all(steps.values()) else steps


# --- periods -----------------------------------------------------------------------------------


def month_starts(today: dt.date, count: int = MONTHS) -> list[dt.date]:
    """First days of the last ``count`` months, oldest first, the current month last."""
    year, month = today.year, today.month
    starts = []
    for _ in range(count):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def week_starts(today: dt.date, count: int = WEEKS) -> list[dt.date]:
    """Mondays of the last ``count`` weeks, oldest first, the current week last."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _bucket(column: Any, starts: list[Any], end: Any) -> ColumnElement[Any]:
    """CASE giving the index of the period ``column`` falls in (periods start at ``starts``, the last ends at ``end``)."""
    bounds = [*starts[1:], end]
    return case(*[(and_(column >= lo, column < hi), i) for i, (lo, hi) in enumerate(zip(starts, bounds, strict=True))], else_=-1)


def _series(rows: Any, size: int, cast: type = int) -> list[Any]:
    """Values per period index from (index, value) rows; periods without rows are zero."""
    values: list[Any] = [cast(0)] * size
    for index, value in rows:
        if index is not None and 0 <= index < size:
            values[index] += cast(value or 0)
    return values


def polish_amount(value: Decimal) -> str:
    """An amount as Poles write it: "12 300,50"."""
    return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")


def month_label(day: dt.date) -> str:
    """A short Polish month label, e.g. "lis 2026"."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def week_label(monday: dt.date) -> str:
    """A week as its Monday and Sunday, e.g. "23.11–29.11"."""
    return f"{monday:%d.%m}–{monday + dt.timedelta(days=6):%d.%m}"


# --- charts ------------------------------------------------------------------------------------


def offer_charts(company_id: int, user: CrmUser, today: dt.date) -> dict[str, Any]:
    """Offers by status, and the net value (PLN) of offers issued per month, for ``user``'s view."""
    mine = [] if user.is_owner else [Offer.owner_id == user.id]
    by_status = dict(db.session.execute(
        select(Offer.status, func.count(Offer.id)).where(Offer.company_id == company_id, *mine).group_by(Offer.status)
    ).all())
    starts = month_starts(today)
    end = _next_month(starts[-1])
    bucket = _bucket(Offer.issue_date, starts, end)
    rows = db.session.execute(
        select(bucket, func.sum(Offer.total_net))
        .where(Offer.company_id == company_id, Offer.issue_date >= starts[0], Offer.issue_date < end,
               Offer.currency == "PLN", *mine)
        .group_by(bucket)
    ).all()
    return {
        "status": [{"status": s, "label": str(offers.STATUS_LABELS[s]), "count": int(by_status.get(s, 0))}
                   for s in OFFER_STATUSES],
        "months": [month_label(d) for d in starts],
        "value": [float(v) for v in _series(rows, len(starts), Decimal)],
        "value_text": [polish_amount(v) for v in _series(rows, len(starts), Decimal)],
    }


def task_charts(company_id: int, user: CrmUser, today: dt.date) -> dict[str, Any]:
    """Tasks done per week (by completion) and overdue per week (due that week, past due, not done)."""
    mine = [] if user.is_owner else [
        exists().where(task_assignee.c.task_id == Task.id, task_assignee.c.user_id == user.id)]
    starts = week_starts(today)
    end = starts[-1] + dt.timedelta(weeks=1)
    # completion moments are stored in UTC: the local week boundaries become UTC moments
    utc_starts = [clock.local_to_utc(dt.datetime.combine(d, dt.time())) for d in starts]
    utc_end = clock.local_to_utc(dt.datetime.combine(end, dt.time()))
    done_bucket = _bucket(Task.completed_at, utc_starts, utc_end)
    done = db.session.execute(
        select(done_bucket, func.count(Task.id))
        # completed_at is set exactly while a task is done: its range alone picks the done tasks
        .where(Task.company_id == company_id, Task.completed_at >= utc_starts[0],
               Task.completed_at < utc_end, *mine)
        .group_by(done_bucket)
    ).all()
    due_bucket = _bucket(Task.due_date, starts, end)
    overdue = db.session.execute(
        select(due_bucket, func.count(Task.id))
        .where(Task.company_id == company_id, Task.status.in_(("todo", "in_progress")), Task.due_date >= starts[0],
               Task.due_date < min(end, today), *mine)
        .group_by(due_bucket)
    ).all()
    return {
        "weeks": [week_label(d) for d in starts],
        "done": _series(done, len(starts)),
        "overdue": _series(overdue, len(starts)),
    }


def invoice_charts(company_id: int, user: CrmUser, today: dt.date) -> dict[str, Any]:
    """Invoices issued per month (by issue date) and paid per month (by payment date)."""
    mine = [] if user.is_owner else [Invoice.created_by_id == user.id]
    starts = month_starts(today)
    end = _next_month(starts[-1])
    # one grouped query for both series: a row per (issue month, payment month) pair
    issued_bucket, paid_bucket = _bucket(Invoice.issue_date, starts, end), _bucket(Invoice.paid_at, starts, end)
    rows = db.session.execute(
        select(issued_bucket, paid_bucket, func.count(Invoice.id))
        .where(Invoice.company_id == company_id, Invoice.status == "issued",
               or_(and_(Invoice.issue_date >= starts[0], Invoice.issue_date < end),
                   and_(Invoice.paid_at >= starts[0], Invoice.paid_at < end)), *mine)
        .group_by(issued_bucket, paid_bucket)
    ).all()
    series = {
        "issued": _series(((i, n) for i, _p, n in rows if i is not None and i >= 0), len(starts)),
        "paid": _series(((p, n) for _i, p, n in rows if p is not None and p >= 0), len(starts)),
    }
    return {"months": [month_label(d) for d in starts], **series}


def charts(company_id: int, user: CrmUser, today: dt.date | None = None) -> dict[str, Any]:
    """Every chart of the dashboard as plain JSON-ready data; ``scope`` says whose numbers they are."""
    today = today or clock.local_today()
    return {
        "scope": "company" if user.is_owner else "own",
        "offers": offer_charts(company_id, user, today),
        "tasks": task_charts(company_id, user, today),
        "invoices": invoice_charts(company_id, user, today),
    }
