""""Cennik": the price list page of the green "Oferty" section, with CSV import and search JSON."""

from __future__ import annotations

from typing import ClassVar

from flask import Response, flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.models.sales import UNITS
from app.services.sales import pricing
from app.services.sales import products as svc
from app.views.base import CrmView, current_company_id, file_bytes, form_action, found, post_action
from app.views.forms import ConfirmForm
from app.views.sales.sales_forms import ImportForm, ProductForm


def _data(form: ProductForm) -> svc.ProductData:
    return svc.ProductData(
        name=form.name.data, unit=form.unit.data, net_price=form.net_price.data,
        currency=form.currency.data, vat_rate=form.vat_rate.data, code=form.code.data,
    )


class ProductsView(CrmView):
    """Products and services with unit, net price, currency, VAT rate and code."""

    route_base = "/offers/products"
    crm_section = "offers"
    class_permission_name = "Products"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list", "search": "list", "add": "add", "edit": "edit", "delete": "delete", "import_csv": "add",
    }

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The price list, searchable, with the CSV import form."""
        q = (request.args.get("q") or "").strip()[:100]
        return self.render_template(
            "offers/products.html", products=svc.list_products(current_company_id(), q, limit=1000), q=q,
            import_form=ImportForm(), confirm=ConfirmForm(), money=pricing.format_money, vat_label=pricing.vat_label,
        )

    @expose("/api/search")
    @has_access
    def search(self) -> Response:
        """JSON for the builder's search-as-you-type."""
        return jsonify(svc.search_json(current_company_id(), (request.args.get("q") or "")[:100]))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """Add a product or service."""
        form = ProductForm()
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.create_product(current_company_id(), _data(form)))
            if done.ok and done.value is not None:
                flash(gettext("%(name)s added to the price list.", name=done.value.name), "success")
                return redirect(url_for(".index"))
        return self.render_template("offers/product_form.html", form=form, product=None, units=UNITS)

    @expose("/<int:product_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, product_id: int) -> ResponseReturnValue:
        """Change a product (offers already made keep their own copy)."""
        company_id = current_company_id()
        product = found(svc.get_product(company_id, product_id))
        form = ProductForm(obj=product)
        if form.validate_on_submit():
            if form_action(form, lambda: svc.update_product(company_id, product.id, _data(form)),
                           gettext("Changes saved.")).ok:
                return redirect(url_for(".index"))
        return self.render_template("offers/product_form.html", form=form, product=product, units=UNITS)

    @expose("/<int:product_id>/delete", methods=["POST"])
    @has_access
    def delete(self, product_id: int) -> ResponseReturnValue:
        """Move a product to the trash (POST with CSRF)."""
        company_id = current_company_id()
        product = found(svc.get_product(company_id, product_id))
        if ConfirmForm().validate_on_submit():
            post_action(lambda: svc.delete_product(company_id, g.user.id, product.id),
                        gettext("%(name)s removed from the price list.", name=product.name))
        return redirect(url_for(".index"))

    @expose("/import", methods=["POST"])
    @has_access
    def import_csv(self) -> ResponseReturnValue:
        """Import products from a CSV file; bad rows are listed, good rows saved."""
        form = ImportForm()
        if not form.validate_on_submit():
            return redirect(url_for(".index"))
        done = post_action(lambda: svc.import_csv(current_company_id(), file_bytes(form.file) or b""))
        result = done.value
        if result is not None:
            flash(gettext("Import finished: %(added)s added, %(updated)s updated, %(bad)s rows skipped.",
                          added=result.added, updated=result.updated, bad=len(result.errors)),
                  "success" if not result.errors else "warning")
            for line, message in result.errors[:20]:
                flash(gettext("Row %(line)s: %(error)s", line=line, error=message), "warning")
        return redirect(url_for(".index"))
