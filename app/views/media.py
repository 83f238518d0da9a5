"""Images served from the database: avatars (same company only) and the company logo."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g
from flask_appbuilder import expose, has_access

from app.extensions import db
from app.models.company import Company
from app.services.accounts import employees as employees_svc
from app.views.base import CrmView, current_company_id


def _image(data: bytes | None, mime: str | None) -> Response:
    if not data:
        abort(404)
    resp = Response(data, mimetype=mime or "image/png")
    resp.headers["Cache-Control"] = "private, max-age=300"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


class MediaView(CrmView):
    """Avatar and logo images; another company's image is a 404."""

    route_base = "/media"
    class_permission_name = "Profile"
    method_permission_name = {"avatar": "index", "logo": "index"}

    @expose("/avatar/<int:user_id>")
    @has_access
    def avatar(self, user_id: int) -> Any:
        """The avatar of a person of the signed-in user's company (or of the user)."""
        if g.user.id == user_id:
            user = g.user
        else:
            user = employees_svc.get_employee(current_company_id(), user_id)
        if user is None:
            abort(404)
        return _image(user.avatar, user.avatar_mime)

    @expose("/logo")
    @has_access
    def logo(self) -> Any:
        """The logo of the signed-in user's company."""
        company = db.session.get(Company, current_company_id())
        return _image(company.logo if company else None, company.logo_mime if company else None)
