"""Template context: the left menu sections, the current section, the page title, settings tabs, licence days."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request

from app.extensions import appbuilder
from app.services.platform import licences
from app.views.accounts.settings import active_tab, visible_tabs
from app.views.dashboard import PAY_URL
from app.views.formats import register_formats
from app.views.menu import SECTIONS, page_title
from app.views.work.notifications import bell_count


def _current_section() -> str:
    """The menu section (colour key) of the view serving this request; "dashboard" by default."""
    if not request.blueprint:
        return "dashboard"
    views = current_app.extensions.get("crm_views_by_blueprint")
    if views is None:
        views = {v.blueprint.name: v for v in appbuilder.baseviews if getattr(v, "blueprint", None)}
        current_app.extensions["crm_views_by_blueprint"] = views
    view = views.get(request.blueprint)
    return getattr(view, "crm_section", "dashboard") if view is not None else "dashboard"


def register_context(app: Flask) -> None:
    """Install the context processor used by crm/base.html and the display filters."""
    register_formats(app)

    @app.context_processor
    def _crm_context() -> dict[str, Any]:
        """Menu sections, the current section, the company, licence days; bell and settings tabs when signed in."""
        user = g.get("user")
        authenticated = user is not None and getattr(user, "is_authenticated", False)
        company = user.company if authenticated else None
        ctx: dict[str, Any] = {
            "crm_sections": SECTIONS,
            "crm_section": _current_section(),
            "crm_company": company,
            "crm_days_left": company.licence_days_left() if company else None,
            "crm_licence_notice": bool(company and user.is_owner and licences.notice_due(company)),
            "crm_pay_url": PAY_URL,
        }
        tab = active_tab()
        ctx["crm_page_title"] = tab.label if tab is not None else page_title(request.blueprint, request.endpoint)
        if authenticated:
            ctx["crm_unread"] = bell_count()
            ctx["crm_tab"] = tab
            ctx["crm_tabs"] = visible_tabs() if tab else []
        return ctx
