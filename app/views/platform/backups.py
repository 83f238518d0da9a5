"""The platform admin's backup history: time, size, destinations, verification, restore drill."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l

from app.services.platform import backups
from app.views.base import CrmView


class AdminBackupsView(CrmView):
    """Read-only list of backup runs (a platform table; no company's data)."""

    route_base = "/admin/backups"
    crm_section = "admin"
    class_permission_name = "AdminBackups"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The newest backup runs first."""
        return self.render_template(
            "admin/backups.html", rows=backups.history(), status_labels=backups.STATUS_LABELS,
            kind_labels=backups.KIND_LABELS, title=_l("Backups"),
        )
