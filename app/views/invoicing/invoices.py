"""The purple "Faktury" section: list, "Nowa faktura", an invoice's page, PDF/XML, payments, exports.

Two permission names: "Invoices" (see the list, invoices, PDFs and XML; every company user) and
"InvoiceIssue" (write, issue, cancel, correct, record payments; the owner and managers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from flask import Response, abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import appbuilder
from app.services import clock
from app.services.contacts.contacts import pickable_contact
from app.services.invoicing import corrections as corr_svc
from app.services.invoicing import invoices as svc
from app.services.invoicing import listing
from app.services.invoicing import payments as pay_svc
from app.services.invoicing import totals as tot
from app.services.mailing.documents import DocumentMail, mailbox_choices
from app.services.sales import pricing
from app.views import pickers
from app.views.base import CrmView, current_company_id, form_action, found, id_arg, post_action
from app.views.forms import ConfirmForm
from app.views.invoicing.forms import CorrectionForm, InvoiceForm, PaymentForm, lines_for_form, read_lines
from app.views.sales.documents import pdf_response
from app.views.sales.sales_forms import SendForm, parse_date

WRITE = "InvoiceIssue"


def can_issue() -> bool:
    """Whether the signed-in user may write and issue invoices."""
    return bool(appbuilder.sm.has_access("can_add", WRITE))


def _file(data: bytes, filename: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _common() -> dict:
    return {"money": pricing.format_money, "qty": pricing.format_quantity, "status_labels": svc.STATUS_LABELS,
            "ksef_labels": svc.KSEF_LABELS, "kind_titles": svc.KIND_TITLES, "payment_labels": svc.PAYMENT_LABELS,
            "is_overdue": pay_svc.is_overdue, "can_issue": can_issue()}


class InvoicesView(CrmView):
    """List, search, an invoice's page, its PDF and XML, unpaid invoices, exports (read only)."""

    route_base = "/invoices"
    crm_section = "invoices"
    class_permission_name = "Invoices"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "show": "list", "pdf": "list", "xml": "list", "unpaid": "list",
        "export_csv": "list", "export_zip": "list",
    }

    def _get(self, invoice_id: int) -> Any:
        return found(svc.get_invoice(current_company_id(), invoice_id))

    def _filters(self) -> dict:
        return {"q": (request.args.get("q") or "").strip()[:100], "status": request.args.get("status") or "",
                "month": (request.args.get("month") or "").strip()[:7], "contact_id": id_arg("contact_id")}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Invoices, newest first; search as you type by number, buyer, NIP; filters by status, month, buyer."""
        f = self._filters()
        page = id_arg("page") or 1
        done = post_action(lambda: listing.list_invoices(current_company_id(), f["q"], f["status"], f["month"],
                                                         f["contact_id"], page))
        if done.ok:
            rows, more = done.result
        else:  # a malformed month: the message is shown and the list comes without that filter
            f["month"] = ""
            rows, more = listing.list_invoices(current_company_id(), f["q"], f["status"], None, f["contact_id"], page)
        template = "invoices/_rows.html" if request.args.get("partial") else "invoices/list.html"
        return self.render_template(template, invoices=rows, more=more, page=page, filters=listing.FILTERS,
                                    **f, **_common())

    @expose("/unpaid")
    @has_access
    def unpaid(self) -> ResponseReturnValue:
        """Unpaid and overdue invoices with the sums left to pay."""
        summary = pay_svc.unpaid(current_company_id(), overdue_only=request.args.get("overdue") == "1")
        return self.render_template("invoices/unpaid.html", summary=summary,
                                    overdue_only=request.args.get("overdue") == "1", **_common())

    @expose("/<int:invoice_id>")
    @has_access
    def show(self, invoice_id: int) -> ResponseReturnValue:
        """An invoice: parties, lines, totals per rate, payments, PDF and XML, actions."""
        inv = self._get(invoice_id)
        totals = svc.document_totals(inv) if svc.after_items(inv) or svc.before_items(inv) else None
        both = tot.correction_totals(svc.to_document(inv)) if inv.kind == "correction" and totals else None
        return self.render_template(
            "invoices/show.html", invoice=inv, totals=totals, both=both,
            words=tot.amount_in_words(inv.total_gross, inv.currency) if totals else "",
            before=svc.before_items(inv), after=svc.after_items(inv), rate_label=svc.docs.RATE_LABELS.get,
            corrections=corr_svc.corrections_of(inv.company_id, inv.id), can_correct=corr_svc.can_correct(inv),
            editable=svc.editable(inv), cancellable=svc.cancellable(inv), payable=pay_svc.payable(inv),
            payment_form=PaymentForm(formdata=None, amount=pricing.format_money(inv.balance).replace("\u00a0", "")),
            correction_form=CorrectionForm(formdata=None), confirm=ConfirmForm(),
            kod_i=svc.kod_i(inv), **_common(),
        )

    @expose("/<int:invoice_id>/pdf")
    @has_access
    def pdf(self, invoice_id: int) -> ResponseReturnValue:
        """The invoice's PDF (a draft: a preview printed now)."""
        self._get(invoice_id)
        got = svc.preview_pdf(current_company_id(), invoice_id)
        if got is None:
            abort(404)
        return pdf_response(*got, inline=request.args.get("download") != "1")

    @expose("/<int:invoice_id>/xml")
    @has_access
    def xml(self, invoice_id: int) -> ResponseReturnValue:
        """The FA(3) XML exactly as stored (and sent to KSeF)."""
        inv = self._get(invoice_id)
        if not inv.xml:
            abort(404)
        return _file(inv.xml, svc.pdf_filename(inv)[:-4] + ".xml", "application/xml")

    @expose("/export.csv")
    @has_access
    def export_csv(self) -> ResponseReturnValue:
        """The month's invoices as CSV for the accountant."""
        month = request.args.get("month") or ""
        done = post_action(lambda: listing.export_csv(current_company_id(), month))
        if not done.ok:
            return redirect(url_for(".index"))
        return _file(done.result, f"faktury_{month}.csv", "text/csv")

    @expose("/export.zip")
    @has_access
    def export_zip(self) -> ResponseReturnValue:
        """The month's FA(3) files in one ZIP for the accountant."""
        month = request.args.get("month") or ""
        done = post_action(lambda: listing.export_xml_zip(current_company_id(), month))
        if not done.ok:
            return redirect(url_for(".index"))
        return _file(done.result, f"faktury_xml_{month}.zip", "application/zip")


class InvoiceEditView(CrmView):
    """Write side: new invoice/proforma, edit, issue, cancel, correction, from an order/offer/proforma, payments."""

    route_base = "/invoices"
    crm_section = "invoices"
    class_permission_name = WRITE
    method_permission_name: ClassVar[dict[str, str]] = {
        "add": "add", "edit": "add", "issue": "add", "cancel": "add", "delete": "add", "correct": "add",
        "from_order": "add", "from_offer": "add", "from_proforma": "add", "payment": "add", "send": "add",
    }

    def _get(self, invoice_id: int) -> Any:
        return found(svc.get_invoice(current_company_id(), invoice_id))

    def _data(self, form: InvoiceForm) -> svc.InvoiceData:
        return svc.InvoiceData(
            contact_id=form.contact_id.data, issue_date=form.issue_date.data,
            sale_date=form.sale_date.data, place_of_issue=form.place_of_issue.data,
            items=read_lines(request.form), currency=form.currency.data, exchange_rate=form.exchange_rate.data,
            exchange_table=form.exchange_table.data, exchange_date=form.exchange_date.data,
            payment_method=form.payment_method.data, due_date=form.due_date.data,
            exemption_basis=form.exemption_basis.data, notes=form.notes.data, binder_id=form.binder_id.data,
            series_id=form.series_id.data, reason=form.reason.data,
        )

    def _page(self, form: InvoiceForm, lines: list[dict], kind: str, invoice: Any = None) -> Any:
        binder_label = pickers.binder_label(current_company_id(), form.binder_id.data)
        return self.render_template("invoices/form.html", form=form, items=lines, kind=kind, invoice=invoice,
                                    binder_label=binder_label,
                                    rate_choices=[(k, str(v)) for k, v in svc.RATE_CHOICES], **_common())

    def _save(self, form: InvoiceForm, save: Any) -> tuple[Any, list[dict] | None]:
        if not form.validate_on_submit():
            return None, None
        lines = lines_for_form(read_lines(request.form))
        saved = form_action(form, save)
        if not saved.ok:
            return None, lines
        invoice = saved.result
        if request.form.get("then_issue") == "1":
            if not post_action(lambda: svc.issue(invoice.company_id, g.user, invoice.id)).ok:
                return invoice, None
            flash(gettext("Invoice %(number)s issued; its PDF is in the attachments.", number=invoice.number),
                  "success")
        else:
            flash(gettext("Saved."), "success")
        return invoice, None

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Nowa faktura" (or "Nowa proforma" with ?kind=proforma): buyer, dates, items, payment."""
        company_id = current_company_id()
        kind = "proforma" if request.args.get("kind") == "proforma" else "vat"
        form = InvoiceForm(company_id=company_id, kind=kind)
        if request.method == "GET":
            has_seller = post_action(lambda: svc.require_seller(company_id))
            if not has_seller.ok:
                return redirect(url_for("InvoicesView.index"))
            seller = has_seller.result
            today = clock.local_today()
            form.issue_date.data = form.sale_date.data = today.isoformat()
            form.due_date.data = (today + dt.timedelta(days=14)).isoformat()
            form.place_of_issue.data = seller.city or ""
            contact_id = id_arg("contact_id")
            if contact_id is not None:
                picked = post_action(lambda: pickable_contact(company_id, contact_id))
                if picked.ok:
                    form.contact_id.data, form.contact_label.data = str(picked.result.id), picked.result.name
        invoice, lines = self._save(form, lambda: svc.create_draft(company_id, g.user, self._data(form), kind=kind))
        if invoice is not None:
            return redirect(url_for("InvoicesView.show", invoice_id=invoice.id))
        return self._page(form, lines if lines is not None else [lines_for_form([svc.LineData()])[0]], kind)

    @expose("/<int:invoice_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, invoice_id: int) -> ResponseReturnValue:
        """Change a draft (or an issued invoice not in KSeF: same number, new XML and PDF)."""
        inv = self._get(invoice_id)
        if not svc.editable(inv):
            flash(gettext("This invoice cannot be changed: issue a correction."), "danger")
            return redirect(url_for("InvoicesView.show", invoice_id=inv.id))
        form = InvoiceForm(company_id=inv.company_id, kind=inv.kind)
        data = svc.form_data_of(inv)
        if request.method == "GET":
            for name in ("place_of_issue", "currency", "exchange_rate", "exchange_table", "payment_method",
                         "exemption_basis", "notes", "reason"):
                form[name].data = getattr(data, name) or ""
            for name in ("issue_date", "sale_date", "exchange_date", "due_date"):
                value = getattr(data, name)
                form[name].data = value.isoformat() if value else ""
            form.contact_id.data, form.contact_label.data = str(inv.buyer_contact_id or ""), inv.buyer_name
            form.binder_id.data = str(inv.binder_id or "")
            form.series_id.data = str(inv.series_id or "")
        saved, lines = self._save(form, lambda: svc.update_invoice(inv.company_id, g.user, inv.id, self._data(form)))
        if saved is not None:
            return redirect(url_for("InvoicesView.show", invoice_id=inv.id))
        return self._page(form, lines if lines is not None else lines_for_form(data.items), inv.kind, inv)

    def _post(self, invoice_id: int, action: Any, success: Any) -> Any:
        inv = self._get(invoice_id)
        if ConfirmForm().validate_on_submit():
            post_action(lambda: action(inv), success)
        return redirect(url_for("InvoicesView.show", invoice_id=inv.id))

    @expose("/<int:invoice_id>/issue", methods=["POST"])
    @has_access
    def issue(self, invoice_id: int) -> ResponseReturnValue:
        """"Wystaw": number, XML, PDF (POST with CSRF)."""
        inv = self._get(invoice_id)
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: svc.issue(inv.company_id, g.user, inv.id))
            if done.ok:
                flash(gettext("Invoice %(number)s issued; its PDF is in the attachments.", number=inv.number),
                      "success")
        return redirect(url_for("InvoicesView.show", invoice_id=inv.id))

    @expose("/<int:invoice_id>/send", methods=["GET", "POST"])
    @has_access
    def send(self, invoice_id: int) -> ResponseReturnValue:
        """"Wyślij e-mailem": the issued invoice's PDF from a verified company mailbox."""
        inv = self._get(invoice_id)
        company_id = current_company_id()
        form = SendForm()
        form.mailbox_id.choices = mailbox_choices(company_id)
        if request.method == "GET":
            form.to.data = (inv.buyer_contact.email if inv.buyer_contact else None) or ""
            form.subject.data = gettext("Invoice %(number)s", number=inv.number or "")
            form.body.data = gettext(
                "Good morning,\n\nplease find attached invoice %(number)s.\n\nKind regards,\n%(user)s\n%(company)s",
                number=inv.number or "", user=str(g.user), company=inv.seller_name)
        if form.validate_on_submit():
            mail = DocumentMail(form.mailbox_id.data, form.to.data, form.subject.data, form.body.data)
            sent = form_action(form, lambda: svc.send_invoice(company_id, g.user.id, inv.id, mail))
            if sent.ok:
                flash(gettext("The invoice was sent to %(to)s from %(sender)s.", to=sent.result.recipient,
                              sender=sent.result.sender), "success")
                return redirect(url_for("InvoicesView.show", invoice_id=inv.id))
        return self.render_template("invoices/send.html", form=form, invoice=inv, **_common())

    @expose("/<int:invoice_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, invoice_id: int) -> ResponseReturnValue:
        """Cancel an issued invoice not in KSeF; it keeps its number (POST with CSRF)."""
        return self._post(invoice_id, lambda inv: svc.cancel(inv.company_id, g.user, inv.id),
                          gettext("The invoice was cancelled; its number stays in the series."))

    @expose("/<int:invoice_id>/delete", methods=["POST"])
    @has_access
    def delete(self, invoice_id: int) -> ResponseReturnValue:
        """Delete a draft (it has no number); issued invoices are never deleted."""
        inv = self._get(invoice_id)
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: svc.delete_draft(inv.company_id, g.user, inv.id), gettext("Draft deleted."))
            if done.ok:
                return redirect(url_for("InvoicesView.index"))
        return redirect(url_for("InvoicesView.show", invoice_id=inv.id))

    @expose("/<int:invoice_id>/correct", methods=["POST"])
    @has_access
    def correct(self, invoice_id: int) -> ResponseReturnValue:
        """"Korekta": a correction draft with the reason; its lines after are edited next."""
        inv = self._get(invoice_id)
        form = CorrectionForm()
        if form.validate_on_submit():
            done = post_action(lambda: corr_svc.create_correction(inv.company_id, g.user, inv.id, form.reason.data))
            if done.ok:
                flash(gettext("Correct the items below and issue the correction."), "success")
                return redirect(url_for(".edit", invoice_id=done.result.id))
        return redirect(url_for("InvoicesView.show", invoice_id=inv.id))

    @expose("/<int:invoice_id>/from-proforma", methods=["POST"])
    @has_access
    def from_proforma(self, invoice_id: int) -> ResponseReturnValue:
        """"Wystaw fakturę z proformy": a VAT invoice draft copied from the proforma."""
        inv = self._get(invoice_id)
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: corr_svc.invoice_from_proforma(inv.company_id, g.user, inv.id))
            if done.ok:
                return redirect(url_for(".edit", invoice_id=done.result.id))
        return redirect(url_for("InvoicesView.show", invoice_id=inv.id))

    @expose("/from-order/<int:order_id>", methods=["POST"])
    @has_access
    def from_order(self, order_id: int) -> ResponseReturnValue:
        """"Wystaw fakturę" on an order: a draft with the order's buyer and lines."""
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: svc.draft_from_order(current_company_id(), g.user, order_id))
            if done.ok:
                return redirect(url_for(".edit", invoice_id=done.result.id))
        return redirect(url_for("OrdersView.show", doc_id=order_id))

    @expose("/from-offer/<int:offer_id>", methods=["POST"])
    @has_access
    def from_offer(self, offer_id: int) -> ResponseReturnValue:
        """"Wystaw fakturę" on an accepted offer: a draft with the offer's buyer and lines."""
        if ConfirmForm().validate_on_submit():
            done = post_action(lambda: svc.draft_from_offer(current_company_id(), g.user, offer_id))
            if done.ok:
                return redirect(url_for(".edit", invoice_id=done.result.id))
        return redirect(url_for("OffersView.show", doc_id=offer_id))

    @expose("/<int:invoice_id>/payment", methods=["POST"])
    @has_access
    def payment(self, invoice_id: int) -> ResponseReturnValue:
        """Record a full or partial payment (amount, date, method)."""
        inv = self._get(invoice_id)
        form = PaymentForm()
        if form.validate_on_submit():
            post_action(lambda: pay_svc.add_payment(inv.company_id, g.user, inv.id, pay_svc.PaymentData(
                amount=form.amount.data, paid_on=parse_date(form.paid_on.data, "paid_on"), method=form.method.data,
                note=form.note.data)), gettext("Payment recorded."))
        return redirect(url_for("InvoicesView.show", invoice_id=inv.id))


def contact_balance(contact_id: int) -> Any:
    """The contact page's box: what the client still owes (None for a user who cannot see invoices)."""
    if not appbuilder.sm.has_access("can_list", "Invoices"):
        return None
    return pay_svc.contact_balance(current_company_id(), contact_id)
