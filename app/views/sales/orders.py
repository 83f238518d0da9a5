"""The teal "Zlecenia" section: orders from accepted offers or from scratch, status, PDF."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import db
from app.models.sales import ORDER_STATUSES
from app.services import DomainError
from app.services.sales import offers as offers_svc
from app.services.sales import orders as svc
from app.services.sales import pricing, sales_pdf
from app.services.work import binders as binders_svc
from app.views.base import CrmView, current_company_id
from app.views.forms import ConfirmForm
from app.views.sales.offers import (
    builder_context,
    change_status,
    pdf_response,
    prefill_from_binder,
    prefill_from_document,
    submit_builder,
)
from app.views.sales.sales_forms import (
    OrderForm,
    items_for_form,
    items_of,
    parse_date,
    read_items,
)


class OrdersView(CrmView):
    """List, create (from an offer or from scratch), edit, status and PDF of orders."""

    route_base = "/orders"
    crm_section = "orders"
    class_permission_name = "Orders"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "pdf": "list", "add": "add", "from_offer": "add", "edit": "edit",
        "status": "edit", "delete": "delete",
    }

    def _get(self, order_id: int) -> Any:
        order = svc.get_order(current_company_id(), order_id)
        if order is None:
            abort(404)
        return order

    @expose("/")
    @has_access
    def index(self) -> Any:
        """All orders, newest first, with search and a status filter."""
        q = (request.args.get("q") or "").strip()[:100]
        status = request.args.get("status") or ""
        return self.render_template(
            "orders/list.html", orders=svc.list_orders(current_company_id(), q, status), q=q, status=status,
            statuses=ORDER_STATUSES, status_labels=svc.STATUS_LABELS, money=pricing.format_money,
        )

    def _data(self, form: OrderForm) -> svc.OrderData:
        return svc.OrderData(
            contact_id=form.contact_id.data, items=read_items(request.form), language=form.language.data,
            currency=form.currency.data, due_date=parse_date(form.due_date.data, "due_date"),
            binder_id=form.binder_id.data, payment_terms=form.payment_terms.data, notes=form.notes.data,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """"Nowe zlecenie" from scratch."""
        company_id = current_company_id()
        form = OrderForm(binders=binders_svc.binder_choices(company_id))
        if request.method == "GET":
            prefill_from_binder(form, company_id)
        order, posted = submit_builder(form, lambda: svc.create_order(company_id, g.user.id, self._data(form)))
        if order is not None:
            flash(gettext("Order %(number)s saved; its PDF is in the attachments.", number=order.number), "success")
            return redirect(url_for(".show", order_id=order.id))
        return self.render_template("orders/form.html", **builder_context(form, posted or []))

    @expose("/from-offer/<int:offer_id>", methods=["POST"])
    @has_access
    def from_offer(self, offer_id: int) -> Any:
        """Create an order from an accepted offer (POST with CSRF)."""
        offer = offers_svc.get_offer(current_company_id(), offer_id)
        if offer is None:
            abort(404)
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for("OffersView.show", offer_id=offer.id))
        try:
            order = svc.create_from_offer(offer, g.user.id)
        except DomainError as err:
            db.session.rollback()
            flash(str(err), "danger")
            return redirect(url_for("OffersView.show", offer_id=offer.id))
        flash(gettext("Order %(number)s created from offer %(offer)s.", number=order.number, offer=offer.number), "success")
        return redirect(url_for(".show", order_id=order.id))

    @expose("/<int:order_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, order_id: int) -> Any:
        """Change an order; a new PDF is printed."""
        order = self._get(order_id)
        if order.status not in svc.EDITABLE:
            flash(gettext("A finished or cancelled order cannot be changed."), "danger")
            return redirect(url_for(".show", order_id=order.id))
        form = OrderForm(obj=order, binders=binders_svc.binder_choices(order.company_id))
        if request.method == "GET":
            prefill_from_document(form, order)
        saved, posted = submit_builder(form, lambda: svc.update_order(order, g.user.id, self._data(form)))
        if saved is not None:
            flash(gettext("Changes saved."), "success")
            return redirect(url_for(".show", order_id=order.id))
        items = posted if posted is not None else items_for_form(items_of(order))
        return self.render_template("orders/form.html", **builder_context(form, items, order))

    @expose("/<int:order_id>")
    @has_access
    def show(self, order_id: int) -> Any:
        """An order: client, lines, totals, status buttons, PDF."""
        order = self._get(order_id)
        return self.render_template(
            "orders/show.html", order=order, totals=sales_pdf.document_totals(order),
            words=pricing.amount_in_words(order.total_gross, order.currency),
            money=pricing.format_money, qty=pricing.format_quantity, vat_label=pricing.vat_label,
            status_labels=svc.STATUS_LABELS, transitions=svc.TRANSITIONS.get(order.status, ()),
            editable=order.status in svc.EDITABLE, confirm=ConfirmForm(),
        )

    @expose("/<int:order_id>/pdf")
    @has_access
    def pdf(self, order_id: int) -> Any:
        """The order's latest PDF."""
        found = svc.order_pdf(self._get(order_id))
        if found is None:
            abort(404)
        return pdf_response(*found, inline=request.args.get("download") != "1")

    @expose("/<int:order_id>/status", methods=["POST"])
    @has_access
    def status(self, order_id: int) -> Any:
        """Move an order to another status (POST with CSRF)."""
        order = self._get(order_id)
        change_status(order, svc.set_status, svc.STATUS_LABELS)
        return redirect(url_for(".show", order_id=order.id))

    @expose("/<int:order_id>/delete", methods=["POST"])
    @has_access
    def delete(self, order_id: int) -> Any:
        """Move an order and its PDF to the trash (POST with CSRF)."""
        order = self._get(order_id)
        if ConfirmForm().validate_on_submit():
            svc.delete_order(order, g.user.id)
            flash(gettext("Order %(number)s moved to the trash.", number=order.number), "success")
            return redirect(url_for(".index"))
        return redirect(url_for(".show", order_id=order.id))
