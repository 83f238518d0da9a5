"""Figures for the start page ("Pulpit")."""

from __future__ import annotations

from typing import Any

from app.models.users import CrmUser
from app.services.accounts import employees
from app.services.contacts import search as contact_search
from app.services.sales import offers
from app.services.work import tasks


def summary(company_id: int, user: CrmUser) -> dict[str, Any]:
    """What the dashboard shows the signed-in user of ``company_id``: licence, people, contacts, tasks, offers."""
    company = user.company
    if company is None:  # the view passes the signed-in user's company; a user without one has no dashboard
        raise LookupError("the user belongs to no company")
    contact_count, capped = contact_search.count_contacts(company_id)
    upcoming = tasks.list_tasks(company_id, user, tasks.TaskFilter(mine=True, status="open"), limit=5)
    return {
        "company": company,
        "days_left": company.licence_days_left(),
        "employees": len(employees.active_people(company_id)),
        "contacts": contact_count,
        "contacts_capped": capped,
        "overdue": tasks.overdue_count(company_id, user),
        "upcoming": upcoming,
        "offers": offers.open_offer_counts(company_id),
    }
