"""Deleted data: the owner's "Kosz" tab (ask for a restore) and the platform admin's restore page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models.company import Company
from app.security.tenancy import all_tenants
from app.services import DomainError, employees, restores, trash
from app.views.base import CrmView, current_company_id
from app.views.forms import ConfirmForm

#: what a table's rows are called on the restore page
KIND_LABELS = {
    "client_base": _l("Client bases"),
    "contact": _l("Contacts"),
    "tag": _l("Tags"),
    "task": _l("Tasks"),
    "task_category": _l("Task categories"),
    "binder": _l("Binders"),
    "attachment": _l("Attachments"),
    "offer": _l("Offers"),
    "sales_order": _l("Orders"),
    "product": _l("Price list"),
}


class AdminRestoreView(CrmView):
    """List a company's delete operations of the last 30 days and restore one (POST, CSRF)."""

    route_base = "/admin/restore"
    crm_section = "admin"
    class_permission_name = "AdminRestore"
    method_permission_name = {"index": "list", "company": "list", "restore": "edit"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Pick the company whose owner asked for a restore."""
        q = (request.args.get("q") or "").strip()
        companies, pending = restores.companies_to_restore(q)
        return self.render_template("admin/restore_companies.html", companies=companies, q=q, pending=pending,
                                    title=_l("Restoring deleted data"))

    @expose("/<int:company_id>")
    @has_access
    def company(self, company_id: int) -> Any:
        """A company's restorable delete operations."""
        company = db.session.get(Company, company_id) or abort(404)
        groups = trash.deletion_groups(company_id)
        with all_tenants():
            people = employees.user_names(company_id)
        return self.render_template("admin/restore_company.html", company=company, groups=groups, people=people,
                                    kind_labels=KIND_LABELS, confirm=ConfirmForm(), title=_l("Restoring deleted data"),
                                    requested=restores.pending_deletions(company_id))

    @expose("/<int:company_id>/<deletion_id>", methods=["POST"])
    @has_access
    def restore(self, company_id: int, deletion_id: str) -> Any:
        """Restore one delete operation."""
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            n = restores.restore_on_request(g.user, company_id, deletion_id)
        except DomainError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            flash(gettext("Restored %(n)s records.", n=n), "success")
        return redirect(url_for(".company", company_id=company_id))


class TrashView(CrmView):
    """Settings tab "Kosz" (owner): what was deleted in the last 30 days; ask for a restore."""

    route_base = "/settings/trash"
    crm_section = "settings"
    class_permission_name = "Trash"
    method_permission_name = {"index": "list", "request_restore": "edit"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Delete operations of the company and the owner's requests."""
        company_id = current_company_id()
        groups = trash.deletion_groups(company_id)
        people = employees.user_names(company_id)
        requests = restores.company_requests(company_id)
        pending = {r.deletion_id for r in requests if r.status == "pending"}
        return self.render_template("crm/trash.html", groups=groups, people=people, kind_labels=KIND_LABELS,
                                    requests=requests, pending=pending, confirm=ConfirmForm())

    @expose("/<deletion_id>/request", methods=["POST"])
    @has_access
    def request_restore(self, deletion_id: str) -> Any:
        """Ask the platform admin to restore one delete operation (POST, CSRF)."""
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            restores.request_restore(g.user, deletion_id, request.form.get("note"))
        except DomainError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            flash(gettext("Your request was sent. The administrator will restore the data and it will appear here."),
                  "success")
        return redirect(url_for(".index"))
