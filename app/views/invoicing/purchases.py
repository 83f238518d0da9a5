""""Faktury zakupowe": invoices where the company is the buyer, fetched from KSeF by the scheduler."""

from __future__ import annotations

from flask import Response, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l

from app.services.invoicing import ksef, purchases
from app.views.base import CrmView, current_company_id, found, post_action
from app.views.invoicing.ksef import KsefButtonForm


class PurchaseInvoicesView(CrmView):
    """List and search of purchase invoices; "Pobierz z KSeF" asks the scheduler to fetch."""

    route_base = "/invoices/purchases"
    crm_section = "invoices"
    class_permission_name = "PurchaseInvoices"

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Purchase invoices, newest first; ``q`` searches number, seller and NIP."""
        company_id = current_company_id()
        q = (request.args.get("q") or "")[:100]
        return self.render_template(
            "invoices/purchases.html", rows=purchases.list_purchases(company_id, q), q=q,
            in_progress=purchases.fetch_in_progress(company_id), settings=ksef.get_settings(company_id),
            fetch_form=KsefButtonForm())

    @expose("/fetch", methods=["POST"])
    @has_access
    def fetch(self) -> ResponseReturnValue:
        """"Pobierz z KSeF": the next scheduler tick fetches (no KSeF call in this request)."""
        if not KsefButtonForm().validate_on_submit():
            abort(400)
        post_action(lambda: purchases.request_fetch(current_company_id()),
                    _l("Fetching purchase invoices from KSeF has started; the list fills in a moment."))
        return redirect(url_for(".index"))

    @expose("/<int:purchase_id>/xml")
    @has_access
    def xml(self, purchase_id: int) -> ResponseReturnValue:
        """Download the XML of a purchase invoice as KSeF stores it."""
        row = found(purchases.get_purchase(current_company_id(), purchase_id))
        if not row.xml:
            abort(404)
        return Response(row.xml, mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{row.ksef_number}.xml"'})
