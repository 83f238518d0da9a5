"""The bell: the signed-in user's notifications (reminders and others)."""

from __future__ import annotations

from typing import ClassVar

from flask import g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access

from app.services.work import notifications as svc
from app.views.base import CrmView, current_company_id, found
from app.views.forms import ConfirmForm


def bell_count() -> int:
    """Unread notifications of the signed-in user (0 for the platform admin and visitors)."""
    user = g.get("user")
    company_id = getattr(user, "company_id", None) if user is not None else None
    if not company_id or not getattr(user, "is_authenticated", False):
        return 0
    return svc.unread_count(company_id, user.id)


class NotificationsView(CrmView):
    """List, open (marks read) and "mark all as read"."""

    route_base = "/notifications"
    crm_section = "dashboard"
    class_permission_name = "Notifications"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "open": "list", "read_all": "list"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The user's notifications, newest first."""
        notes = svc.list_for(current_company_id(), g.user.id)
        return self.render_template(
            "tasks/notifications.html", notes=notes, confirm=ConfirmForm()
        )

    @expose("/<int:note_id>/open", methods=["POST"])
    @has_access
    def open(self, note_id: int) -> ResponseReturnValue:
        """Mark one notification read and go where it points (POST with CSRF)."""
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for(".index"))
        note = found(svc.mark_read(current_company_id(), g.user.id, note_id))
        url = note.url or ""
        return redirect(url if url.startswith("/") and not url.startswith("//") else url_for(".index"))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self) -> ResponseReturnValue:
        """Mark every notification read (POST with CSRF)."""
        if ConfirmForm().validate_on_submit():
            svc.mark_all_read(current_company_id(), g.user.id)
        return redirect(url_for(".index"))
