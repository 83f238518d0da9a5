"""Figures for the start page ("Pulpit")."""

from __future__ import annotations

from typing import Any

from app.models.users import CrmUser
from app.services.accounts import employees
from app.services.contacts import search as contact_search
from app.services.sales import offers
from app.services.work import tasks


def summary(user: CrmUser) -> dict[str, Any]:
    """What the dashboard shows the signed-in user: licence, people, contacts, tasks, offers."""
    company = user.company
    contact_count, capped = contact_search.count_contacts(company.id)
    upcoming = tasks.list_tasks(company.id, user, tasks.TaskFilter(mine=True, status="open"), limit=5)
    return {
        "company": company,
        "days_left": company.licence_days_left(),
        "employees": len(employees.active_people(company.id)),
        "contacts": contact_count,
        "contacts_capped": capped,
        "overdue": tasks.overdue_count(company.id, user),
        "upcoming": upcoming,
        "offers": offers.open_offer_counts(company.id),
    }
