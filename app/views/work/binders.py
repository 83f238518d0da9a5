"""Binders ("Segregatory"): list, form, the binder page with its sections; file upload and download."""

from __future__ import annotations

import io
from typing import Any, ClassVar

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.routing import BuildError
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.integrations.storage import StorageError
from app.services import DomainError
from app.services.work import attachments as files_svc
from app.services.work import binders as svc
from app.services.work import tasks as tasks_svc
from app.views.base import CrmView, current_company_id, file_bytes, show_domain_error
from app.views.forms import REQUIRED, ConfirmForm


class BinderForm(FlaskForm):
    """Add or edit a binder."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    contact_id = SelectField(_l("Client"), choices=[], validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])

    def fill_choices(self, company_id: int) -> None:
        """Clients: contacts of standard bases only."""
        self.contact_id.choices = [("", "—")] + [
            (str(c.id), c.name) for c in tasks_svc.contact_choices(company_id, self.contact_id.data)
        ]


class UploadForm(FlaskForm):
    """Add a file to a binder."""

    file = FileField(_l("File"))


def _data(form: BinderForm) -> svc.BinderData:
    return svc.BinderData(name=form.name.data, contact_id=form.contact_id.data, description=form.description.data)


def section_new_url(section: svc.BinderSection, binder_id: int) -> str | None:
    """Where "new ..." of a section leads (None while that area has no form yet)."""
    if not section.new_endpoint:
        return None
    try:
        return url_for(section.new_endpoint, binder_id=binder_id)
    except BuildError:
        return None


class BindersView(CrmView):
    """Binders of the company and the binder page."""

    route_base = "/binders"
    crm_section = "binders"
    class_permission_name = "Binders"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "add": "add", "edit": "edit", "delete": "delete", "upload": "edit",
    }

    def _get(self, binder_id: int) -> Any:
        binder = svc.get_binder(current_company_id(), binder_id)
        if binder is None:
            abort(404)
        return binder

    @expose("/")
    @has_access
    def index(self) -> Any:
        """All binders, searchable by name or client."""
        q = (request.args.get("q") or "").strip()[:100]
        rows = svc.list_binders(current_company_id(), q=q)
        return self.render_template("binders/list.html", rows=rows, q=q)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """New binder; ``?contact_id=`` preselects the client."""
        company_id = current_company_id()
        form = BinderForm()
        if request.method == "GET":
            form.contact_id.data = request.args.get("contact_id", "")
        form.fill_choices(company_id)
        if form.validate_on_submit():
            try:
                binder = svc.create_binder(company_id, _data(form), user_id=g.user.id)
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Binder created."), "success")
                return redirect(url_for(".show", binder_id=binder.id))
        return self.render_template("binders/form.html", form=form, binder=None)

    @expose("/<int:binder_id>")
    @has_access
    def show(self, binder_id: int) -> Any:
        """Everything in a binder, by kind."""
        binder = self._get(binder_id)
        sections = [
            (s, s.items(binder.company_id, binder.id), section_new_url(s, binder.id)) for s in svc.sections()
        ]
        return self.render_template(
            "binders/show.html",
            binder=binder,
            sections=sections,
            files=files_svc.binder_attachments(binder.company_id, binder.id),
            upload=UploadForm(),
            confirm=ConfirmForm(),
            max_mb=round(files_svc.max_bytes() / 1024 / 1024, 1),
        )

    @expose("/<int:binder_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, binder_id: int) -> Any:
        """Rename a binder, change its client or description."""
        binder = self._get(binder_id)
        form = BinderForm(obj=binder)
        if request.method == "GET":
            form.contact_id.data = str(binder.contact_id or "")
        form.fill_choices(binder.company_id)
        if form.validate_on_submit():
            try:
                svc.update_binder(binder.company_id, binder.id, _data(form))
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Changes saved."), "success")
                return redirect(url_for(".show", binder_id=binder.id))
        return self.render_template("binders/form.html", form=form, binder=binder)

    @expose("/<int:binder_id>/delete", methods=["POST"])
    @has_access
    def delete(self, binder_id: int) -> Any:
        """Move a binder and its files to the trash (POST with CSRF)."""
        binder = self._get(binder_id)
        if ConfirmForm().validate_on_submit():
            svc.delete_binder(binder.company_id, binder.id, g.user.id)
            flash(gettext("Binder deleted."), "success")
        return redirect(url_for(".index"))

    @expose("/<int:binder_id>/upload", methods=["POST"])
    @has_access
    def upload(self, binder_id: int) -> Any:
        """Add a file to the binder's "Załączniki"."""
        binder = self._get(binder_id)
        form = UploadForm()
        if form.validate_on_submit():
            data = file_bytes(form.file)
            name = getattr(form.file.data, "filename", "") or ""
            try:
                files_svc.store_attachment(
                    binder.company_id, data or b"", name, binder_id=binder.id, user_id=g.user.id
                )
            except DomainError as err:
                db.session.rollback()
                flash(str(err), "danger")
            else:
                flash(gettext("File added."), "success")
        return redirect(url_for(".show", binder_id=binder.id) + "#files")


class AttachmentsView(CrmView):
    """Download and delete files of the company (binders, offers, ...); other companies get 404."""

    route_base = "/attachments"
    crm_section = "binders"
    class_permission_name = "Attachments"
    method_permission_name: ClassVar[dict[str, str]] = {"download": "read", "delete": "delete"}

    def _get(self, attachment_id: int) -> Any:
        att = files_svc.get_attachment(current_company_id(), attachment_id)
        if att is None:
            abort(404)
        return att

    @expose("/<int:attachment_id>/download")
    @has_access
    def download(self, attachment_id: int) -> Any:
        """The file, as an attachment with its original (Polish) name."""
        att = self._get(attachment_id)
        try:
            data = files_svc.read_attachment(att)
        except StorageError:
            abort(404)
        resp = send_file(
            io.BytesIO(data), mimetype=att.mime, as_attachment=True, download_name=att.filename, max_age=0
        )
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    @expose("/<int:attachment_id>/delete", methods=["POST"])
    @has_access
    def delete(self, attachment_id: int) -> Any:
        """Move a file to the trash (POST with CSRF)."""
        att = self._get(attachment_id)
        binder_id = att.binder_id
        if ConfirmForm().validate_on_submit():
            files_svc.delete_attachment(att.company_id, att.id, g.user.id)
            flash(gettext("File deleted."), "success")
        if binder_id:
            return redirect(url_for("BindersView.show", binder_id=binder_id) + "#files")
        return redirect(request.referrer or url_for("BindersView.index"))
