"""Binders ("Segregatory"): list, form, the binder page with its sections; file upload and download."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import abort, g, jsonify, redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import Optional

from app.integrations.storage import StorageError
from app.models.binders import Attachment, Binder
from app.services.work import attachments as files_svc
from app.services.work import binders as svc
from app.views import pickers
from app.views.base import CrmView, current_company_id, file_bytes, form_action, found, post_action
from app.views.forms import CheckedByService, ConfirmForm


class BinderForm(FlaskForm):
    """Add or edit a binder."""

    name = StringField(_l("Name"), validators=[CheckedByService(required=True)])
    contact_id = StringField(_l("Client"))  # an id, rendered by the picker macro
    description = TextAreaField(_l("Description"), validators=[Optional()])  # length: the service


class UploadForm(FlaskForm):
    """Add a file to a binder."""

    file = FileField(_l("File"))


@dataclass(frozen=True)
class BinderSection:
    """How the binder page shows one kind of document: title, icon, links and empty state."""

    key: str
    label: Any
    icon: str
    empty: Any
    #: endpoint of one document's page and the name of its id argument
    show_endpoint: str | None = None
    id_arg: str = "id"
    #: endpoint of the form that creates a document in this binder (gets ``binder_id=``)
    new_endpoint: str | None = None
    new_label: Any = None


#: the binder page's sections, in display order; the rows come from ``binders.binder_rows`` by ``key``
SECTIONS: tuple[BinderSection, ...] = (
    BinderSection(
        "offers", _l("Offers"), "fa-file-signature", _l("No offers in this binder yet."),
        "OffersView.show", "doc_id", "OffersView.add", _l("New offer"),
    ),
    BinderSection(
        "orders", _l("Orders"), "fa-clipboard-list", _l("No orders in this binder yet."),
        "OrdersView.show", "doc_id", "OrdersView.add", _l("New order"),
    ),
    BinderSection("invoices", _l("Invoices"), "fa-file-invoice-dollar", _l("No invoices in this binder yet.")),
    BinderSection(
        "tasks", _l("Tasks"), "fa-list-check", _l("No tasks in this binder yet."),
        "TasksView.show", "task_id", "TasksView.add", _l("New task"),
    ),
    BinderSection("files", _l("Attachments"), "fa-paperclip", _l("No files in this binder yet.")),
)


@dataclass(frozen=True)
class BinderEntry:
    """One line of a binder section: a document's title, its link (if it has a page), a note and a date."""

    label: str
    url: str | None
    meta: str | None
    when: Any


def _url(endpoint: str | None, **values: Any) -> str | None:
    """A link to an endpoint, or None while that area has no such page."""
    if not endpoint:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def section_new_url(section: BinderSection, binder_id: int) -> str | None:
    """Where "new ..." of a section leads (None while that area has no form yet)."""
    return _url(section.new_endpoint, binder_id=binder_id)


def section_entries(section: BinderSection, rows: list[svc.BinderRow]) -> list[BinderEntry]:
    """The rows of one kind as the binder page shows them."""
    return [
        BinderEntry(r.title, _url(section.show_endpoint, **{section.id_arg: r.id}), r.meta, r.when) for r in rows
    ]


def _data(form: BinderForm) -> svc.BinderData:
    return svc.BinderData(name=form.name.data, contact_id=form.contact_id.data, description=form.description.data)


class BindersView(CrmView):
    """Binders of the company and the binder page."""

    route_base = "/binders"
    crm_section = "binders"
    class_permission_name = "Binders"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "api_pick": "list", "add": "add", "edit": "edit", "delete": "delete", "upload": "edit",
    }

    def _get(self, binder_id: int) -> Binder:
        return found(svc.get_binder(current_company_id(), binder_id))

    def _form_page(self, form: BinderForm, binder: Binder | None) -> ResponseReturnValue:
        """The binder form with the name of the chosen client in its picker."""
        contact_label = pickers.contact_label(current_company_id(), form.contact_id.data)
        if not contact_label:
            form.contact_id.data = ""
        return self.render_template("binders/form.html", form=form, binder=binder, contact_label=contact_label)

    @expose("/api/pick")
    @has_access
    def api_pick(self) -> ResponseReturnValue:
        """JSON for the as-you-type binder pickers: ``[{id, label, detail}]`` of this company."""
        q = request.args.get("q", "")[:100]
        return jsonify([pickers.binder_item(b) for b in svc.search_binders(current_company_id(), q)])

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """All binders, searchable by name or client."""
        q = (request.args.get("q") or "").strip()[:100]
        rows = svc.list_binders(current_company_id(), q=q)
        return self.render_template("binders/list.html", rows=rows, q=q)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """New binder; ``?contact_id=`` preselects the client."""
        company_id = current_company_id()
        form = BinderForm()
        if request.method == "GET":
            form.contact_id.data = request.args.get("contact_id", "")
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.create_binder(company_id, _data(form), g.user.id), _l("Binder created."))
            if done.ok and done.value is not None:
                return redirect(url_for(".show", binder_id=done.value.id))
        return self._form_page(form, None)

    @expose("/<int:binder_id>")
    @has_access
    def show(self, binder_id: int) -> ResponseReturnValue:
        """Everything in a binder, by kind."""
        binder = self._get(binder_id)
        rows = svc.binder_rows(binder.company_id, g.user, binder.id)
        sections = [
            (s, section_entries(s, rows.get(s.key, [])), section_new_url(s, binder.id)) for s in SECTIONS
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
    def edit(self, binder_id: int) -> ResponseReturnValue:
        """Rename a binder, change its client or description."""
        binder = self._get(binder_id)
        form = BinderForm(obj=binder)
        if request.method == "GET":
            form.contact_id.data = str(binder.contact_id or "")
        if form.validate_on_submit():
            if form_action(form, lambda: svc.update_binder(binder.company_id, binder.id, _data(form)),
                           _l("Changes saved.")).ok:
                return redirect(url_for(".show", binder_id=binder.id))
        return self._form_page(form, binder)

    @expose("/<int:binder_id>/delete", methods=["POST"])
    @has_access
    def delete(self, binder_id: int) -> ResponseReturnValue:
        """Move a binder and its files to the trash (POST with CSRF)."""
        binder = self._get(binder_id)
        if ConfirmForm().validate_on_submit():
            post_action(lambda: svc.delete_binder(binder.company_id, binder.id, g.user.id), _l("Binder deleted."))
        return redirect(url_for(".index"))

    @expose("/<int:binder_id>/upload", methods=["POST"])
    @has_access
    def upload(self, binder_id: int) -> ResponseReturnValue:
        """Add a file to the binder's "Załączniki"."""
        binder = self._get(binder_id)
        form = UploadForm()
        if form.validate_on_submit():
            data = file_bytes(form.file) or b""
            name = getattr(form.file.data, "filename", "") or ""
            post_action(
                lambda: files_svc.store_attachment(binder.company_id, data, name, binder_id=binder.id, user_id=g.user.id),
                _l("File added."),
            )
        return redirect(url_for(".show", binder_id=binder.id) + "#files")


class AttachmentsView(CrmView):
    """Download and delete files of the company (binders, offers, ...); other companies get 404."""

    route_base = "/attachments"
    crm_section = "binders"
    class_permission_name = "Attachments"
    method_permission_name: ClassVar[dict[str, str]] = {"download": "read", "delete": "delete"}

    def _get(self, attachment_id: int) -> Attachment:
        return found(files_svc.get_attachment(current_company_id(), attachment_id))

    @expose("/<int:attachment_id>/download")
    @has_access
    def download(self, attachment_id: int) -> Response:
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
    def delete(self, attachment_id: int) -> ResponseReturnValue:
        """Move a file to the trash (POST with CSRF)."""
        att = self._get(attachment_id)
        binder_id = att.binder_id
        if ConfirmForm().validate_on_submit():
            post_action(lambda: files_svc.delete_attachment(att.company_id, att.id, g.user.id), _l("File deleted."))
        if binder_id:
            return redirect(url_for("BindersView.show", binder_id=binder_id) + "#files")
        return redirect(request.referrer or url_for("BindersView.index"))
