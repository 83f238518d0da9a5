"""The teal "Zlecenia" section: orders from accepted offers or from scratch, status, PDF."""

from __future__ import annotations

from typing import ClassVar

from flask import flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app.models.sales import ORDER_STATUSES
from app.services.mailing.documents import DocumentMail, mailbox_choices
from app.services.sales import offers as offers_svc
from app.services.sales import orders as svc
from app.services.sales.documents import Document, pick_client
from app.views.base import current_company_id, form_action, found, id_arg, post_action
from app.views.forms import ConfirmForm
from app.views.sales.documents import DocumentKind, SalesDocumentView, pdf_or_404, prefill_from_binder
from app.views.sales.sales_forms import OrderForm, SendForm, read_items


class OrdersView(SalesDocumentView):
    """List, create (from an offer or from scratch), edit, status and PDF of orders."""

    route_base = "/orders"
    crm_section = "orders"
    class_permission_name = "Orders"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "pdf": "list", "add": "add", "from_offer": "add", "edit": "edit",
        "status": "edit", "delete": "delete", "send": "edit",
    }
    kind = DocumentKind(
        folder="orders", statuses=ORDER_STATUSES, status_labels=svc.STATUS_LABELS, transitions=svc.TRANSITIONS,
        editable=svc.EDITABLE, get=svc.get_order, listing=svc.list_orders, create=svc.create_order,
        update=svc.update_order, set_status=svc.set_status, delete=svc.delete_order,
        texts={
            "added": _l("Order %(number)s saved; its PDF is in the attachments."),
            "saved": _l("Changes saved."),
            "locked": _l("A finished or cancelled order cannot be changed."),
            "deleted": _l("Order %(number)s moved to the trash."),
        },
    )

    def _form(self, company_id: int, doc: Document | None = None) -> FlaskForm:
        return OrderForm(obj=doc)

    def _data(self, form: FlaskForm) -> svc.OrderData:
        return svc.OrderData(
            contact_id=form.contact_id.data, items=read_items(request.form), language=form.language.data,
            currency=form.currency.data, due_date=form.due_date.data,
            binder_id=form.binder_id.data, payment_terms=form.payment_terms.data, notes=form.notes.data,
        )

    def _prefill_new(self, form: FlaskForm, company_id: int) -> None:
        """From a binder: that binder and its client; from a client's card (``?contact_id=``): that client."""
        prefill_from_binder(form, company_id)
        if id_arg("contact_id") is not None:
            picked = post_action(lambda: pick_client(company_id, request.args["contact_id"]))
            if picked.ok and picked.value is not None:
                form.contact_id.data, form.contact_label.data = str(picked.value.id), picked.value.name

    @expose("/from-offer/<int:offer_id>", methods=["POST"])
    @has_access
    def from_offer(self, offer_id: int) -> ResponseReturnValue:
        """Create an order from an accepted offer (POST with CSRF)."""
        company_id = current_company_id()
        offer = found(offers_svc.get_offer(company_id, offer_id))
        back = redirect(url_for("OffersView.show", doc_id=offer.id))
        if not ConfirmForm().validate_on_submit():
            return back
        made = post_action(lambda: svc.create_from_offer(company_id, g.user.id, offer.id))
        if not made.ok or made.value is None:
            return back
        flash(gettext("Order %(number)s created from offer %(offer)s.", number=made.value.number, offer=offer.number),
              "success")
        return self._to_show(made.value)

    @expose("/<int:doc_id>/send", methods=["GET", "POST"])
    @has_access
    def send(self, doc_id: int) -> ResponseReturnValue:
        """"Wyślij e-mailem": the order's PDF from a verified company mailbox."""
        company_id = current_company_id()
        order = found(svc.get_order(company_id, doc_id))
        form = SendForm()
        form.mailbox_id.choices = mailbox_choices(company_id)
        if request.method == "GET":
            form.to.data = (order.contact.email if order.contact else None) or ""
            form.subject.data = gettext("Order %(number)s", number=order.number)
            form.body.data = gettext(
                "Good morning,\n\nplease find attached order %(number)s.\n\nKind regards,\n%(user)s\n%(company)s",
                number=order.number, user=str(g.user), company=g.user.company.name if g.user.company else "")
        if form.validate_on_submit():
            mail = DocumentMail(form.mailbox_id.data, form.to.data, form.subject.data, form.body.data)
            sent = form_action(form, lambda: svc.send_order(company_id, g.user.id, order.id, mail))
            if sent.ok:
                flash(gettext("The order was sent to %(to)s from %(sender)s.", to=sent.result.recipient,
                              sender=sent.result.sender), "success")
                return self._to_show(order)
        return self.render_template("orders/send.html", form=form, order=order)

    @expose("/<int:doc_id>/pdf")
    @has_access
    def pdf(self, doc_id: int) -> ResponseReturnValue:
        """The order's latest PDF."""
        return pdf_or_404(svc.order_pdf(current_company_id(), doc_id))
