"""The green "Oferty" section: list, "Nowa oferta" builder, PDF versions, status, e-mailing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import db
from app.models.sales import OFFER_STATUSES
from app.services import DomainError
from app.services.sales import offers as svc
from app.services.sales import orders as orders_svc
from app.services.sales import pricing, sales_pdf
from app.services.work import binders as binders_svc
from app.views.base import CrmView, current_company_id, id_arg, show_domain_error
from app.views.forms import ConfirmForm
from app.views.sales.sales_forms import (
    OfferForm,
    SendForm,
    items_for_form,
    items_of,
    parse_date,
    read_items,
    vat_choices,
)


def pdf_response(filename: str, data: bytes, inline: bool = True) -> Response:
    """A PDF download (inline in the browser by default), never cached."""
    disposition = "inline" if inline else "attachment"
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def builder_context(form: Any, items: list[dict], doc: Any = None) -> dict:
    """What the builder template needs besides the form."""
    return {"form": form, "items": items, "doc": doc, "vat_choices": vat_choices(), "rates": pricing.RATE_PERCENT}


def submit_builder(form: Any, save: Callable[[], Any]) -> tuple[Any, list[dict] | None]:
    """A valid POST of the builder: (what ``save()`` returned, or None after a refusal; the posted lines).

    (None, None) when nothing valid was posted. A refusal rolls back and is attached to its field.
    """
    if not form.validate_on_submit():
        return None, None
    items = items_for_form(read_items(request.form))
    try:
        return save(), items
    except DomainError as err:
        db.session.rollback()
        show_domain_error(form, err)
        return None, items


def prefill_from_document(form: Any, doc: Any) -> None:
    """The edit form of a saved offer or order: its client, binder and dates as the inputs show them."""
    form.contact_id.data, form.contact_label.data = str(doc.contact_id), doc.contact.name if doc.contact else ""
    form.binder_id.data = str(doc.binder_id or "")
    for name in ("valid_until", "reminder_on", "due_date"):
        if name in form:
            value = getattr(doc, name)
            form[name].data = value.isoformat() if value else ""


def change_status(doc: Any, set_status: Callable[[Any, str], Any], labels: dict) -> None:
    """The status buttons of an offer or order (POST with CSRF): change it, or say why not."""
    if not ConfirmForm().validate_on_submit():
        return
    try:
        set_status(doc, request.form.get("status", ""))
    except DomainError as err:
        db.session.rollback()
        flash(str(err), "danger")
    else:
        flash(gettext("Status changed: %(status)s.", status=labels[doc.status]), "success")


def prefill_from_binder(form: Any, company_id: int) -> None:
    """"Nowa oferta"/"Nowe zlecenie" opened from a binder: that binder and its client are chosen."""
    binder_id = id_arg("binder_id")
    if binder_id is None:
        return
    binder = binders_svc.get_binder(company_id, binder_id)
    if binder is None:
        return
    form.binder_id.data = str(binder.id)
    if binder.contact_id:
        try:
            contact = svc.pick_client(company_id, binder.contact_id)
        except DomainError:
            return
        form.contact_id.data, form.contact_label.data = str(contact.id), contact.name


class OffersView(CrmView):
    """List of offers, the builder, an offer's page with its PDFs."""

    route_base = "/offers"
    crm_section = "offers"
    class_permission_name = "Offers"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "pdf": "list", "add": "add", "edit": "edit",
        "status": "edit", "send": "edit", "delete": "delete",
    }

    def _get(self, offer_id: int) -> Any:
        offer = svc.get_offer(current_company_id(), offer_id)
        if offer is None:
            abort(404)
        return offer

    @expose("/")
    @has_access
    def index(self) -> Any:
        """All offers of the company, newest first, with search and a status filter."""
        q = (request.args.get("q") or "").strip()[:100]
        status = request.args.get("status") or ""
        return self.render_template(
            "offers/list.html", offers=svc.list_offers(current_company_id(), q, status), q=q, status=status,
            statuses=OFFER_STATUSES, status_labels=svc.STATUS_LABELS, money=pricing.format_money,
        )

    def _data(self, form: OfferForm) -> svc.OfferData:
        return svc.OfferData(
            contact_id=form.contact_id.data, items=read_items(request.form), template=form.template.data,
            language=form.language.data, currency=form.currency.data,
            valid_until=parse_date(form.valid_until.data, "valid_until"),
            reminder_on=parse_date(form.reminder_on.data, "reminder_on"),
            binder_id=form.binder_id.data, payment_terms=form.payment_terms.data, notes=form.notes.data,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """"Nowa oferta": client, format, reminder, items from the price list; "Zapisz" prints the PDF."""
        company_id = current_company_id()
        form = OfferForm(binders=binders_svc.binder_choices(company_id))
        if request.method == "GET":
            prefill_from_binder(form, company_id)
        if request.method == "GET" and id_arg("contact_id") is not None:
            try:
                contact = svc.pick_client(company_id, request.args["contact_id"])
                form.contact_id.data, form.contact_label.data = str(contact.id), contact.name
            except DomainError as err:
                flash(str(err), "danger")
        offer, posted = submit_builder(form, lambda: svc.create_offer(company_id, g.user.id, self._data(form)))
        if offer is not None:
            flash(gettext("Offer %(number)s saved; its PDF is in the attachments.", number=offer.number), "success")
            return redirect(url_for(".show", offer_id=offer.id))
        return self.render_template("offers/form.html", **builder_context(form, posted or []))

    @expose("/<int:offer_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, offer_id: int) -> Any:
        """Change an offer: "Zapisz" prints a new PDF version; earlier ones stay."""
        offer = self._get(offer_id)
        if offer.status not in svc.EDITABLE:
            flash(gettext("An accepted, rejected or expired offer cannot be changed."), "danger")
            return redirect(url_for(".show", offer_id=offer.id))
        form = OfferForm(obj=offer, binders=binders_svc.binder_choices(offer.company_id))
        if request.method == "GET":
            prefill_from_document(form, offer)
        saved, posted = submit_builder(form, lambda: svc.update_offer(offer, g.user.id, self._data(form)))
        if saved is not None:
            flash(gettext("Offer %(number)s saved as version %(v)s.", number=offer.number, v=offer.version), "success")
            return redirect(url_for(".show", offer_id=offer.id))
        items = posted if posted is not None else items_for_form(items_of(offer))
        return self.render_template("offers/form.html", **builder_context(form, items, offer))

    @expose("/<int:offer_id>")
    @has_access
    def show(self, offer_id: int) -> Any:
        """An offer: client, lines, totals per VAT rate, PDF versions, status buttons."""
        offer = self._get(offer_id)
        orders = orders_svc.orders_of_offer(offer)
        return self.render_template(
            "offers/show.html", offer=offer, totals=sales_pdf.document_totals(offer),
            words=pricing.amount_in_words(offer.total_gross, offer.currency),
            money=pricing.format_money, qty=pricing.format_quantity, vat_label=pricing.vat_label,
            status_labels=svc.STATUS_LABELS, template_labels=svc.TEMPLATE_LABELS,
            language_labels=svc.LANGUAGE_LABELS, transitions=svc.TRANSITIONS.get(offer.status, ()),
            editable=offer.status in svc.EDITABLE, confirm=ConfirmForm(),
            orders=orders, order_status_labels=orders_svc.STATUS_LABELS, can_order=orders_svc.can_order(offer, orders),
        )

    @expose("/<int:offer_id>/pdf/<int:version>")
    @has_access
    def pdf(self, offer_id: int, version: int) -> Any:
        """One PDF version of an offer."""
        found = svc.version_pdf(self._get(offer_id), version)
        if found is None:
            abort(404)
        return pdf_response(*found, inline=request.args.get("download") != "1")

    @expose("/<int:offer_id>/status", methods=["POST"])
    @has_access
    def status(self, offer_id: int) -> Any:
        """Mark an offer sent, accepted or rejected (POST with CSRF)."""
        offer = self._get(offer_id)
        change_status(offer, svc.set_status, svc.STATUS_LABELS)
        return redirect(url_for(".show", offer_id=offer.id))

    @expose("/<int:offer_id>/send", methods=["GET", "POST"])
    @has_access
    def send(self, offer_id: int) -> Any:
        """E-mail the offer's latest PDF to the client."""
        offer = self._get(offer_id)
        form = SendForm()
        if request.method == "GET":
            form.to.data = (offer.contact.email if offer.contact else None) or ""
            form.subject.data = gettext("Offer %(number)s", number=offer.number)
            form.body.data = gettext(
                "Good morning,\n\nplease find attached our offer %(number)s.\n\nKind regards,\n%(user)s\n%(company)s",
                number=offer.number, user=str(g.user), company=g.user.company.name if g.user.company else "",
            )
        if form.validate_on_submit():
            try:
                sender = svc.send_offer(offer, g.user, svc.SendData(form.to.data, form.subject.data, form.body.data))
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("The offer was sent to %(to)s from %(sender)s.", to=offer.sent_to, sender=sender), "success")
                return redirect(url_for(".show", offer_id=offer.id))
        return self.render_template("offers/send.html", form=form, offer=offer)

    @expose("/<int:offer_id>/delete", methods=["POST"])
    @has_access
    def delete(self, offer_id: int) -> Any:
        """Move an offer and its PDFs to the trash (POST with CSRF)."""
        offer = self._get(offer_id)
        if ConfirmForm().validate_on_submit():
            svc.delete_offer(offer, g.user.id)
            flash(gettext("Offer %(number)s moved to the trash.", number=offer.number), "success")
            return redirect(url_for(".index"))
        return redirect(url_for(".show", offer_id=offer.id))
