"""Images served from the database: avatars (same company only) and the company logo."""

from __future__ import annotations

from typing import Optional

from flask import Response, g
from flask_appbuilder import expose, has_access

from app.services.accounts import employees as employees_svc
from app.views.base import CrmView, current_company_id, found


def _image(data: Optional[bytes], mime: Optional[str]) -> Response:
    """The image as a private, briefly cached response; 404 when there is none."""
    resp = Response(found(data or None), mimetype=mime or "image/png")
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
    def avatar(self, user_id: int) -> Response:
        """The avatar of a person of the signed-in user's company (or of the user)."""
        if g.user.id == user_id:
            user = g.user
        else:
            user = found(employees_svc.get_employee(current_company_id(), user_id))
        return _image(user.avatar, user.avatar_mime)

    @expose("/logo")
    @has_access
    def logo(self) -> Response:
        """The logo of the signed-in user's company (404 for anyone without one)."""
        current_company_id()
        company = found(g.user.company)
        return _image(company.logo, company.logo_mime)
