"""Template context: the left menu sections, the current section, the page title, settings tabs, licence days."""

from __future__ import annotations

from typing import Any, Callable

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


class _Lazy:
    """A number computed the first time a template uses it: a fragment that shows no bell never
    asks the database for it.
    """

    def __init__(self, compute: Callable[[], int]) -> None:
        self._compute = compute
        self._value: int | None = None

    @property
    def value(self) -> int:
        """The number (computed once)."""
        if self._value is None:
            self._value = self._compute()
        return self._value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return str(self.value)

    def __int__(self) -> int:
        return self.value


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
            ctx["crm_unread"] = _Lazy(bell_count)
            ctx["crm_tab"] = tab
            ctx["crm_tabs"] = visible_tabs() if tab else []
        return ctx
