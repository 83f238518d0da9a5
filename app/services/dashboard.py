"""Figures for the start page."""

from __future__ import annotations

from typing import Any

from app.models.users import CrmUser
from app.services import employees


def summary(user: CrmUser) -> dict[str, Any]:
    """What the dashboard shows the signed-in user."""
    company = user.company
    people = employees.company_users(company.id)
    return {
        "company": company,
        "days_left": company.licence_days_left(),
        "employees": sum(1 for p in people if p.active),
    }
