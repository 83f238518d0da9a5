"""The owner's "Eksport danych" tab (ZIP of all the company's data) and "Zamknięcie konta" (closing the account)."""

from __future__ import annotations

from typing import ClassVar

from flask import Response, abort, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField

from app.services.accounts import companies as tenancy
from app.services.platform import closing
from app.services.platform import company_export as svc
from app.views.base import CrmView, current_company_id, form_action, found, post_action
from app.views.forms import ConfirmForm


class CloseAccountForm(FlaskForm):
    """Closing the account: the owner's password and an explicit acknowledgement."""

    understood = BooleanField(_l("I understand that after the grace period all data of the company is deleted for good"))
    current_password = PasswordField(_l("Your password"))


class CompanyExportView(CrmView):
    """"Eksport danych": prepare a ZIP of all the company's data and download it (owner only)."""

    route_base = "/settings/export"
    crm_section = "settings"
    class_permission_name = "CompanyExport"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "create": "add", "download": "list"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The exports with their state and download links."""
        rows = svc.list_exports(current_company_id())
        busy = any(r.status in ("pending", "running") for r in rows)
        return self.render_template("crm/company_export.html", rows=rows, busy=busy, confirm=ConfirmForm(),
                                    statuses=svc.STATUS_LABELS)

    @expose("/", methods=["POST"])
    @has_access
    def create(self) -> ResponseReturnValue:
        """Queue a new export and build it in the background."""
        if not ConfirmForm().validate_on_submit():
            abort(400)
        done = post_action(lambda: svc.request_export(current_company_id(), g.user),
                           gettext("The export is being prepared. This page shows the download link when it is ready."))
        if done.ok and done.value is not None:
            svc.start_in_background(done.value.id)
        return redirect(url_for(".index"))

    @expose("/<int:export_id>/download")
    @has_access
    def download(self, export_id: int) -> ResponseReturnValue:
        """The ZIP of a finished export."""
        row = found(svc.get_export(current_company_id(), export_id))
        data = found(svc.read_export(row))
        resp = Response(data, mimetype="application/zip")
        resp.headers["Content-Disposition"] = f'attachment; filename="{svc.download_name(row)}"'
        resp.headers["Cache-Control"] = "no-store"
        return resp


class AccountClosingView(CrmView):
    """"Zamknięcie konta": close the company account (password confirmed) or undo it during the grace period."""

    route_base = "/settings/closing"
    crm_section = "settings"
    class_permission_name = "AccountClosing"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "edit", "cancel": "edit"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> ResponseReturnValue:
        """The state of the account, the closing form or the undo button."""
        company = found(tenancy.get_company(current_company_id()))
        form = CloseAccountForm()
        if not company.is_closing and form.validate_on_submit():
            if not form.understood.data:
                form.understood.errors = [gettext("Tick that you understand what closing the account means.")]
            else:
                done = form_action(form, lambda: closing.close_account(company.id, g.user, form.current_password.data),
                                   gettext("The account will be closed. You can undo it until the data is deleted."))
                if done.ok:
                    return redirect(url_for(".index"))
        return self.render_template("crm/account_closing.html", company=company, form=form,
                                    grace_days=closing.grace_days(), confirm=ConfirmForm())

    @expose("/cancel", methods=["POST"])
    @has_access
    def cancel(self) -> ResponseReturnValue:
        """"Anuluj zamknięcie konta"."""
        if not ConfirmForm().validate_on_submit():
            abort(400)
        post_action(lambda: closing.cancel_closing(current_company_id(), g.user),
                    gettext("The account closing was cancelled. Nothing will be deleted."))
        return redirect(url_for(".index"))
