"""Settings tab "Serie numeracji" (owner): numbering series of invoices, corrections and proformas."""

from __future__ import annotations

from typing import ClassVar

from flask import redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.services.invoicing import series as svc
from app.views.base import CrmView, current_company_id, form_action, found
from app.views.invoicing.forms import SeriesForm


class InvoiceSeriesView(CrmView):
    """List, add and edit numbering series."""

    route_base = "/settings/invoice-series"
    crm_section = "settings"
    class_permission_name = "InvoiceSeries"
    method_permission_name: ClassVar[dict[str, str]] = {"index": "list", "add": "add", "edit": "edit"}

    @staticmethod
    def _data(form: SeriesForm) -> svc.SeriesData:
        return svc.SeriesData(name=form.name.data, kind=form.kind.data, pattern=form.pattern.data,
                              reset=form.reset.data, is_default=form.is_default.data)

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The company's series with an example of the next number's shape."""
        return self.render_template("invoices/series.html", series=svc.list_series(current_company_id()),
                                    kind_labels=svc.KIND_LABELS, reset_labels=svc.RESET_LABELS,
                                    defaults=svc.DEFAULTS)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """"Dodaj serię"."""
        form = SeriesForm()
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.create_series(current_company_id(), self._data(form)),
                               gettext("Series saved."))
            if done.ok:
                return redirect(url_for(".index"))
        return self.render_template("invoices/series_form.html", form=form, series=None)

    @expose("/<int:series_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, series_id: int) -> ResponseReturnValue:
        """"Edycja" of a series (kind, pattern and reset are fixed once documents were numbered)."""
        series = found(svc.get_series(current_company_id(), series_id))
        form = SeriesForm(obj=series)
        if form.validate_on_submit():
            done = form_action(form, lambda: svc.update_series(current_company_id(), series.id, self._data(form)),
                               gettext("Series saved."))
            if done.ok:
                return redirect(url_for(".index"))
        return self.render_template("invoices/series_form.html", form=form, series=series)
