"""The green "Oferty" section: list, "Nowa oferta" builder, PDF versions, status, e-mailing."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import flash, g, request
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app.models.sales import OFFER_STATUSES, Offer
from app.services.mailing.documents import mailbox_choices
from app.services.sales import offers as svc
from app.services.sales import orders as orders_svc
from app.services.sales.documents import Document, pick_client
from app.views.base import current_company_id, form_action, found, id_arg, post_action
from app.views.sales.documents import DocumentKind, SalesDocumentView, pdf_or_404, prefill_from_binder
from app.views.sales.sales_forms import OfferForm, SendForm, read_items


class OffersView(SalesDocumentView):
    """List of offers, the builder, an offer's page with its PDFs, e-mailing."""

    route_base = "/offers"
    crm_section = "offers"
    class_permission_name = "Offers"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "pdf": "list", "add": "add", "edit": "edit",
        "status": "edit", "send": "edit", "delete": "delete",
    }
    kind = DocumentKind(
        folder="offers", statuses=OFFER_STATUSES, status_labels=svc.STATUS_LABELS, transitions=svc.TRANSITIONS,
        editable=svc.EDITABLE, get=svc.get_offer, listing=svc.list_offers, create=svc.create_offer,
        update=svc.update_offer, set_status=svc.set_status, delete=svc.delete_offer,
        texts={
            "added": _l("Offer %(number)s saved; its PDF is in the attachments."),
            "saved": _l("Offer %(number)s saved as version %(v)s."),
            "locked": _l("An accepted, rejected or expired offer cannot be changed."),
            "deleted": _l("Offer %(number)s moved to the trash."),
        },
    )

    def _form(self, company_id: int, doc: Document | None = None) -> FlaskForm:
        return OfferForm(obj=doc)

    def _data(self, form: FlaskForm) -> svc.OfferData:
        return svc.OfferData(
            contact_id=form.contact_id.data, items=read_items(request.form), template=form.template.data,
            language=form.language.data, currency=form.currency.data,
            valid_until=form.valid_until.data,
            reminder_on=form.reminder_on.data,
            binder_id=form.binder_id.data, payment_terms=form.payment_terms.data, notes=form.notes.data,
        )

    def _prefill_new(self, form: FlaskForm, company_id: int) -> None:
        """From a binder: that binder and its client; from a contact (``?contact_id=``): that client."""
        prefill_from_binder(form, company_id)
        if id_arg("contact_id") is not None:
            picked = post_action(lambda: pick_client(company_id, request.args["contact_id"]))
            if picked.ok and picked.value is not None:
                form.contact_id.data, form.contact_label.data = str(picked.value.id), picked.value.name

    def _show_context(self, doc: Offer) -> dict[str, Any]:
        orders = orders_svc.orders_of_offer(doc.company_id, doc.id)
        return {
            "template_labels": svc.TEMPLATE_LABELS, "language_labels": svc.LANGUAGE_LABELS, "orders": orders,
            "order_status_labels": orders_svc.STATUS_LABELS, "can_order": orders_svc.can_order(doc, orders),
        }

    @expose("/<int:doc_id>/pdf/<int:version>")
    @has_access
    def pdf(self, doc_id: int, version: int) -> ResponseReturnValue:
        """One PDF version of an offer."""
        return pdf_or_404(svc.version_pdf(current_company_id(), doc_id, version))

    @expose("/<int:doc_id>/send", methods=["GET", "POST"])
    @has_access
    def send(self, doc_id: int) -> ResponseReturnValue:
        """E-mail the offer's latest PDF to the client."""
        company_id = current_company_id()
        offer = found(svc.get_offer(company_id, doc_id))
        form = SendForm()
        form.mailbox_id.choices = mailbox_choices(company_id)
        if request.method == "GET":
            form.to.data = (offer.contact.email if offer.contact else None) or ""
            form.subject.data = gettext("Offer %(number)s", number=offer.number)
            form.body.data = gettext(
                "Good morning,\n\nplease find attached our offer %(number)s.\n\nKind regards,\n%(user)s\n%(company)s",
                number=offer.number, user=str(g.user), company=g.user.company.name if g.user.company else "",
            )
        if form.validate_on_submit():
            data = svc.SendData(form.to.data, form.subject.data, form.body.data, form.mailbox_id.data)
            sent = form_action(form, lambda: svc.send_offer(company_id, offer.id, data, g.user.id))
            if sent.ok:
                flash(gettext("The offer was sent to %(to)s from %(sender)s.", to=offer.sent_to, sender=sent.value),
                      "success")
                return self._to_show(offer)
        return self.render_template("offers/send.html", form=form, offer=offer)

