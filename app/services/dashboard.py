"""Figures for the start page ("Pulpit")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.sales import Offer
from app.models.users import CrmUser
from app.services import contacts, employees, tasks


def summary(user: CrmUser) -> dict[str, Any]:
    """What the dashboard shows the signed-in user: licence, people, contacts, tasks, offers."""
    company = user.company
    contact_count, capped = contacts.count_contacts(company.id)
    open_offers = db.session.execute(
        select(Offer.status, func.count(Offer.id))
        .where(Offer.company_id == company.id, Offer.status.in_(("draft", "sent")))
        .group_by(Offer.status)
    ).all()
    upcoming = tasks.list_tasks(user, tasks.TaskFilter(mine=True, status="open"), limit=5)
    return {
        "company": company,
        "days_left": company.licence_days_left(),
        "employees": len(employees.active_people(company.id)),
        "contacts": contact_count,
        "contacts_capped": capped,
        "overdue": tasks.overdue_count(user),
        "upcoming": upcoming,
        "offers": dict(open_offers),
    }
