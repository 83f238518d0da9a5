"""Deleted data: the owner's "Kosz" tab (ask for a restore), the e-mailed confirmation link and the
platform admin's restore pages (preview, conflicts, restore or cancel)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import Optional

from app.models.restores import OPEN_STATUSES
from app.services import DomainError, trash
from app.services.accounts import employees
from app.services.platform import restores
from app.views.base import CrmView, current_company_id, found, post_action
from app.views.forms import ConfirmForm

#: what a table's rows are called on the restore pages
KIND_LABELS = trash.KIND_LABELS
FORM_EXPIRED = _l("The form has expired or was sent from elsewhere. Please try again.")


class RestoreChoiceForm(FlaskForm):
    """The admin's restore: what to do with conflicting rows, and the preview it was made on."""

    on_conflict = RadioField(
        _l("Records that clash with data created since the deletion"),
        choices=[("skip", _l("Leave them in the trash (restore the rest)")),
                 ("rename", _l("Restore them with a changed name"))],
        validators=[Optional()],
    )
    expected = HiddenField()


class AdminRestoreView(CrmView):
    """Confirmed restore requests of a company: preview, conflicts, restore or cancel (POST, CSRF)."""

    route_base = "/admin/restore"
    crm_section = "admin"
    class_permission_name = "AdminRestore"
    method_permission_name = {"index": "list", "company": "list", "preview": "list", "restore": "edit",
                              "reject": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Pick the company whose owner asked for a restore."""
        q = (request.args.get("q") or "").strip()
        companies, pending = restores.companies_to_restore(q)
        return self.render_template("admin/restore_companies.html", companies=companies, q=q, pending=pending,
                                    title=_l("Restoring deleted data"))

    @expose("/<int:company_id>")
    @has_access
    def company(self, company_id: int) -> ResponseReturnValue:
        """A company's confirmed restore requests."""
        company = found(restores.company_account(company_id))
        return self.render_template("admin/restore_company.html", company=company,
                                    requests=restores.admin_requests(company_id),
                                    people=restores.requester_names(company_id), title=_l("Restoring deleted data"))

    @expose("/request/<int:request_id>")
    @has_access
    def preview(self, request_id: int) -> ResponseReturnValue:
        """What a confirmed request brings back and what clashes with data created since."""
        req = found(restores.admin_request(request_id))
        company = found(restores.company_account(req.company_id))
        pv = restores.admin_preview(req)
        form = RestoreChoiceForm(expected=pv.fingerprint)
        return self.render_template("admin/restore_request.html", req=req, company=company, preview=pv, form=form,
                                    kind_labels=KIND_LABELS, confirm=ConfirmForm(),
                                    title=_l("Restoring deleted data"))

    @expose("/request/<int:request_id>/restore", methods=["POST"])
    @has_access
    def restore(self, request_id: int) -> ResponseReturnValue:
        """Restore a confirmed request as previewed."""
        form = RestoreChoiceForm()
        if not form.validate_on_submit():
            flash(str(FORM_EXPIRED), "danger")
            return redirect(url_for(".preview", request_id=request_id))
        done = post_action(lambda: restores.restore_on_request(
            g.user, request_id, form.on_conflict.data or None, form.expected.data or ""))
        result = done.value
        if result is not None:
            flash(gettext("Restored %(n)s records.", n=result.restored), "success")
            if result.skipped:
                flash(gettext("Left in the trash: %(n)s records.", n=result.skipped), "warning")
            if result.renamed:
                flash(gettext("Restored under a changed name: %(n)s records.", n=result.renamed), "info")
        return redirect(url_for(".preview", request_id=request_id))

    @expose("/request/<int:request_id>/reject", methods=["POST"])
    @has_access
    def reject(self, request_id: int) -> ResponseReturnValue:
        """Cancel a confirmed request: nothing is restored."""
        if not ConfirmForm().validate_on_submit():
            flash(str(FORM_EXPIRED), "danger")
        else:
            post_action(lambda: restores.reject(g.user, request_id),
                        _l("The request was cancelled; nothing was restored."))
        return redirect(url_for(".preview", request_id=request_id))


class RestoreConfirmView(CrmView):
    """The link from the e-mail: the owner confirms a restore request (a page with a POST button)."""

    route_base = "/restore-confirm"
    crm_section = "settings"

    @expose("/<token>", methods=["GET", "POST"])
    def confirm(self, token: str) -> ResponseReturnValue:
        """Show what the request asks for; confirm it on POST (once)."""
        user = g.user if g.user is not None and g.user.is_authenticated else None
        form = ConfirmForm()
        try:
            req = restores.request_from_link(token, user)
            if request.method == "POST" and form.validate_on_submit():
                restores.confirm(token, user)
                return self.render_template("crm/restore_confirm.html", error=None, done=True)
        except DomainError as err:
            # a refused link is the page itself (400), not a flash; the service has recorded it
            return self.render_template("crm/restore_confirm.html", error=str(err), done=False), 400
        return self.render_template("crm/restore_confirm.html", error=None, done=False, form=form,
                                    what=restores.link_preview(req), hours=restores.confirm_hours())


class TrashView(CrmView):
    """Settings tab "Kosz" (owner): what was deleted in the last 30 days; ask for a restore."""

    route_base = "/settings/trash"
    crm_section = "settings"
    class_permission_name = "Trash"
    method_permission_name = {"index": "list", "request_restore": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Delete operations of the company and the owner's requests."""
        company_id = current_company_id()
        groups = trash.deletion_groups(company_id)
        people = employees.user_names(company_id)
        requests = restores.company_requests(company_id)
        statuses = {r.id: restores.effective_status(r) for r in requests}
        pending = {r.deletion_id for r in requests if statuses[r.id] in OPEN_STATUSES}
        return self.render_template("crm/trash.html", groups=groups, people=people, kind_labels=KIND_LABELS,
                                    requests=requests, statuses=statuses, pending=pending, confirm=ConfirmForm())

    @expose("/<deletion_id>/request", methods=["POST"])
    @has_access
    def request_restore(self, deletion_id: str) -> ResponseReturnValue:
        """Ask the platform admin to restore one delete operation (POST, CSRF)."""
        if not ConfirmForm().validate_on_submit():
            abort(400)
        done = post_action(lambda: restores.request_restore(
            current_company_id(), g.user, deletion_id, request.form.get("note"),
            lambda token: url_for("RestoreConfirmView.confirm", token=token, _external=True)))
        if done.value is not None:
            flash(gettext("We have sent a confirmation link to %(email)s, the address the account was created "
                          "with. The request goes to the administrator once you open the link and confirm it "
                          "(within %(hours)s hours).",
                          email=restores.mask_email(done.value.sent_to or ""), hours=restores.confirm_hours()),
                  "success")
        return redirect(url_for(".index"))
