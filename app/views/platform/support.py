"""Support: "Zgłoś modyfikację lub problem" for company users and the platform admin's list of requests."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from flask import Response, abort, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField

from app.models.support import SUPPORT_KINDS, SUPPORT_STATUSES, SupportRequest
from app.services.platform import support as svc
from app.views.base import CrmView, current_company_id, file_bytes, form_action, found


class SupportForm(FlaskForm):
    """A new request: kind, subject, description, optional file."""

    kind = RadioField(_l("Kind"), choices=[(k, svc.KIND_LABELS[k]) for k in SUPPORT_KINDS], default="modification",
                      validate_choice=False)
    subject = StringField(_l("Subject"))
    description = TextAreaField(_l("Description"))
    attachment = FileField(_l("Attachment (optional)"))


class AnswerForm(FlaskForm):
    """The platform admin's status and answer."""

    status = SelectField(_l("Status"), choices=[(s, svc.STATUS_LABELS[s]) for s in SUPPORT_STATUSES],
                         validate_choice=False)
    answer = TextAreaField(_l("Answer"))


def _file_response(row: SupportRequest) -> ResponseReturnValue:
    """The request's attachment as a download (404 when it has none)."""
    data = svc.read_attachment(row)
    if data is None:
        abort(404)
    resp = Response(data, mimetype="application/octet-stream")
    resp.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quoted(row.attachment_name or "plik")
    return resp


def _quoted(name: str) -> str:
    """A file name for ``filename*=UTF-8''...`` (percent-encoded)."""
    return quote(name, safe="")


def _labels() -> dict[str, Any]:
    return {"kinds": svc.KIND_LABELS, "statuses": svc.STATUS_LABELS}


class SupportView(CrmView):
    """The signed-in user's company requests: list, new request, one request with its answer."""

    route_base = "/support"
    crm_section = "settings"
    class_permission_name = "Support"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "show": "list", "attachment": "list",
                                                        "add": "add"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The company's requests with their statuses and answers."""
        return self.render_template("support/list.html", rows=svc.list_requests(current_company_id()),
                                    title=gettext("Requests to support"), **_labels())

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Zgłoś modyfikację lub problem"."""
        form = SupportForm()
        if form.validate_on_submit():
            data = svc.RequestData(form.kind.data, form.subject.data, form.description.data,
                                   getattr(form.attachment.data, "filename", None), file_bytes(form.attachment))
            done = form_action(form, lambda: svc.create_request(current_company_id(), g.user, data, _admin_link()),
                               gettext("Your request was sent. The answer will appear here and come by e-mail."))
            if done.ok and done.value is not None:
                return redirect(url_for(".show", request_id=done.value.id))
        return self.render_template("support/form.html", form=form, max_size=svc.max_bytes(),
                                    title=gettext("Report a modification or a problem"))

    @expose("/<int:request_id>")
    @has_access
    def show(self, request_id: int) -> ResponseReturnValue:
        """One request of the company with the answer."""
        row = found(svc.get_request(current_company_id(), request_id))
        return self.render_template("support/show.html", row=row, admin=False, title=row.subject, **_labels())

    @expose("/<int:request_id>/attachment")
    @has_access
    def attachment(self, request_id: int) -> ResponseReturnValue:
        """The file sent with the request."""
        return _file_response(found(svc.get_request(current_company_id(), request_id)))


def _admin_link() -> str:
    """The admin's list, as a full link for the support e-mail."""
    return url_for("AdminSupportView.index", _external=True)


class AdminSupportView(CrmView):
    """The platform admin's list of requests of every company; status and answer."""

    route_base = "/admin/support"
    crm_section = "admin"
    class_permission_name = "AdminSupport"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "show": "list", "attachment": "list",
                                                        "answer": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Every request, new ones first; optional status filter."""
        status = request.args.get("status") or ""
        status = status if status in SUPPORT_STATUSES else ""
        rows = svc.admin_list(status or None)
        return self.render_template("support/admin_list.html", rows=rows, status=status,
                                    company_name=svc.company_name, title=gettext("Support requests"), **_labels())

    @expose("/<int:request_id>", methods=["GET"])
    @has_access
    def show(self, request_id: int) -> ResponseReturnValue:
        """One request with the answer form."""
        row = found(svc.admin_get(request_id))
        form = AnswerForm(formdata=None, status=row.status, answer=row.answer)
        return self._show(row, form)

    def _show(self, row: SupportRequest, form: AnswerForm) -> ResponseReturnValue:
        return self.render_template("support/show.html", row=row, admin=True, form=form,
                                    company=svc.company_name(row), title=row.subject, **_labels())

    @expose("/<int:request_id>/answer", methods=["POST"])
    @has_access
    def answer(self, request_id: int) -> ResponseReturnValue:
        """Save the status and the answer; the person who asked gets it by e-mail."""
        row = found(svc.admin_get(request_id))
        form = AnswerForm()
        if form.validate_on_submit():
            link = url_for("SupportView.show", request_id=row.id, _external=True)
            done = form_action(form, lambda: svc.answer_request(g.user, row.id, form.status.data, form.answer.data,
                                                                link),
                               gettext("The answer was saved and e-mailed to the person who asked."))
            if done.ok:
                return redirect(url_for(".show", request_id=row.id))
        return self._show(row, form)

    @expose("/<int:request_id>/attachment")
    @has_access
    def attachment(self, request_id: int) -> ResponseReturnValue:
        """The file sent with a request."""
        return _file_response(found(svc.admin_get(request_id)))
