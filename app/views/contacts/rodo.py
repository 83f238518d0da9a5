"""RODO on a person's card: "Eksport danych osoby" (JSON, PDF) and "Zanonimizuj" (with a confirmation)."""

from __future__ import annotations

from typing import ClassVar

from flask import Response, abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.models.contacts import Contact
from app.services.contacts import contacts as contacts_svc
from app.services.platform import rodo
from app.views.base import CrmView, current_company_id, found, post_action
from app.views.forms import ConfirmForm


def _person(contact_id: int) -> Contact:
    """A live person contact of the signed-in company; 404 for anything else."""
    contact = found(contacts_svc.get_contact(current_company_id(), contact_id))
    if contact.kind != "person":
        abort(404)
    return contact


def _download(data: bytes, mime: str, filename: str) -> Response:
    """A file download that is never cached."""
    resp = Response(data, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


class ContactRodoView(CrmView):
    """The person's data export and anonymisation (owner and managers)."""

    route_base = "/contacts/rodo"
    crm_section = "clients"
    class_permission_name = "ContactRodo"
    method_permission_name: ClassVar[dict[str, str]] = {
        "export_json": "export", "export_pdf": "export", "anonymise": "anonymise",
    }

    @expose("/<int:contact_id>/export.json")
    @has_access
    def export_json(self, contact_id: int) -> ResponseReturnValue:
        """Everything the company holds about the person, as JSON."""
        contact = _person(contact_id)
        data = rodo.export_json(current_company_id(), contact.id)
        return _download(data, "application/json", rodo.export_filename(contact, "json"))

    @expose("/<int:contact_id>/export.pdf")
    @has_access
    def export_pdf(self, contact_id: int) -> ResponseReturnValue:
        """Everything the company holds about the person, as a readable PDF."""
        contact = _person(contact_id)
        data = rodo.export_pdf(current_company_id(), contact.id)
        return _download(data, "application/pdf", rodo.export_filename(contact, "pdf"))

    @expose("/<int:contact_id>/anonymise", methods=["GET", "POST"])
    @has_access
    def anonymise(self, contact_id: int) -> ResponseReturnValue:
        """The confirmation page naming the consequences; POST (with CSRF) anonymises for good."""
        contact = _person(contact_id)
        form = ConfirmForm()
        if form.validate_on_submit():
            done = post_action(lambda: rodo.anonymise(current_company_id(), g.user, contact.id))
            if done.ok:
                flash(gettext("The person's data was anonymised. Documents keep their numbers."), "success")
                return redirect(url_for("ContactsView.show", contact_id=contact.id))
        return self.render_template("crm/contact_anonymise.html", contact=contact, form=form,
                                    title=gettext("Anonymise the person"))

