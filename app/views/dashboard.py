"""Start page ("Pulpit") and the licence-expired page."""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import IndexView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app.extensions import appbuilder
from app.security import licence
from app.services import dashboard as dashboard_svc
from app.services.accounts import employees as employees_svc
from app.services.platform import plans as plans_svc
from app.views.base import CrmView, current_company_id


class DashboardIndexView(IndexView):
    """The index: login for visitors, the admin panel for the platform admin, else the dashboard."""

    route_base = ""
    index_template = "crm/dashboard.html"

    @expose("/")
    def index(self) -> ResponseReturnValue:
        """Send each kind of user to their start page."""
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(appbuilder.get_url_for_login)
        if user.is_platform_admin:
            return redirect(url_for("AdminCompaniesView.list"))
        summary = dashboard_svc.summary(current_company_id(), user)
        return self.render_template(self.index_template, summary=summary, appbuilder=self.appbuilder)

    @expose("/dashboard/charts")
    def charts(self) -> ResponseReturnValue:
        """The charts of the dashboard with their tables (a fragment the page loads after itself)."""
        user = g.user
        if user is None or not user.is_authenticated or user.is_platform_admin:
            abort(404)
        charts = dashboard_svc.charts(current_company_id(), user)
        return render_template("crm/_dashboard_charts.html", charts=charts)


#: where the owner pays (the "Płatności" settings tab)
PAY_URL = "/settings/payments/"

#: links of the blocking page beside the profile: (path, label), shown once the page exists
OWNER_LINKS = (
    (PAY_URL, _l("Payments")),
    ("/settings/export/", _l("Export of the company's data")),
    ("/support/", _l("Report a change request or a problem")),
)


def _route_exists(path: str) -> bool:
    """True when the app serves ``path`` (the blocking page links only to pages that exist)."""
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except RequestRedirect:
        return True
    return True


def licence_blocked_response() -> ResponseReturnValue:
    """The answer to a request of a blocked company: the blocking page (a JSON 403 for the API)."""
    if request.path.startswith("/api/"):
        return jsonify(message=gettext("Access to the account is blocked: the licence has expired.")), 403
    return redirect(url_for("LicenceView.index"))


class LicenceView(CrmView):
    """Shown instead of any page while the company's licence has expired."""

    route_base = "/licence"

    @expose("/")
    def index(self) -> ResponseReturnValue:
        """Explain why the account is blocked; the owner sees the plans and how to pay, others whom to ask."""
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(appbuilder.get_url_for_login)
        company = user.company
        if company is None or company.licence_active():
            return redirect(appbuilder.get_url_for_index)
        owners = [str(u) for u in employees_svc.active_people(company.id) if u.is_owner]
        links = [{"url": path, "label": label} for path, label in OWNER_LINKS
                 if path != PAY_URL and licence.owner_may_reach(path) and _route_exists(path)]
        return self.render_template(
            "crm/licence_expired.html", company=company, owners=owners, plans=plans_svc.all_plans(),
            pay_url=PAY_URL, owner_links=links, storage_text=plans_svc.storage_text,
            title=_l("Your licence has expired"),
        )
