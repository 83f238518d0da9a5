"""Sections that later work fills: a clear empty state instead of a broken page."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access

from app.views.base import CrmView


class SectionView(CrmView):
    """Empty state of a section that has no content yet."""

    class_permission_name = "Section"
    title: Any = ""
    lead: Any = ""

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Show the section's empty state."""
        return self.render_template("crm/empty_section.html", title=self.title, lead=self.lead)


def section_view(name: str, route: str, section: str, title: Any, lead: Any) -> type[SectionView]:
    """Declare a section page by its identifier, URL, colour key and texts."""
    return type(name, (SectionView,), {
        "route_base": route, "crm_section": section, "title": title, "lead": lead,
    })


#: (class name, URL, menu name, colour key, title, lead) of sections still without content
PENDING_SECTIONS: list[tuple[str, str, str, str, Any, Any]] = []
