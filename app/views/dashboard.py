"""Start page ("Pulpit") and the licence-expired page."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import IndexView, expose

from app.extensions import appbuilder
from app.services import dashboard as dashboard_svc
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


class LicenceView(CrmView):
    """Shown instead of any page while the company's licence has expired."""

    route_base = "/licence"

    @expose("/")
    def index(self) -> ResponseReturnValue:
        """Explain that the account is blocked and how to unblock it."""
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(appbuilder.get_url_for_login)
        company = user.company
        if company is None or company.licence_active():
            return redirect(appbuilder.get_url_for_index)
        return self.render_template("crm/licence_expired.html", company=company)
