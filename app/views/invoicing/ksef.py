"""KSeF views: the owner's "KSeF" settings tab, "Wyślij do KSeF", the UPO download, "Kolejka KSeF"."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import Length

from app.extensions import appbuilder
from app.services.invoicing import ksef
from app.views.base import CrmView, current_company_id, form_action, found, post_action


class KsefSettingsForm(FlaskForm):
    """The "KSeF" settings tab: environment, token (write-only), automatic sending."""

    environment = SelectField(_l("KSeF environment"), choices=[(k, v) for k, v in ksef.ENVIRONMENT_LABELS.items()])
    token = PasswordField(_l("KSeF token"), validators=[Length(max=500)])
    auto_send = BooleanField(_l("Send issued invoices automatically"))


class KsefButtonForm(FlaskForm):
    """A button that posts (CSRF only)."""


class KsefSettingsView(CrmView):
    """Settings tab "KSeF" (owner only)."""

    route_base = "/settings/ksef"
    crm_section = "settings"
    class_permission_name = "KsefSettings"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> ResponseReturnValue:
        """Show and save the KSeF settings; the token is never shown again."""
        company_id = current_company_id()
        settings = ksef.get_settings(company_id)
        form = KsefSettingsForm(obj=settings)
        if form.validate_on_submit():
            data = ksef.SettingsData(form.environment.data, form.token.data, form.auto_send.data)
            if form_action(form, lambda: ksef.save_settings(company_id, data), _l("KSeF settings saved.")).ok:
                return redirect(url_for(".index"))
        form.token.data = ""
        return self.render_template("invoices/ksef_settings.html", form=form, settings=settings,
                                    check_form=KsefButtonForm())

    @expose("/check", methods=["POST"])
    @has_access
    def check(self) -> ResponseReturnValue:
        """"Sprawdź połączenie": authenticate with KSeF (short time-out) and say what happened."""
        if not KsefButtonForm().validate_on_submit():
            abort(400)
        result = ksef.check_connection(current_company_id())
        flash(result.message, "success" if result.ok else "danger")
        return redirect(url_for(".index"))


def invoice_url(invoice_id: int) -> str:
    """The invoice page."""
    return url_for("InvoicesView.show", invoice_id=invoice_id)


class KsefView(CrmView):
    """Sending to KSeF, the UPO and the queue (owner and managers)."""

    route_base = "/invoices/ksef"
    crm_section = "invoices"
    class_permission_name = "KsefSending"

    @expose("/send/<int:invoice_id>", methods=["POST"])
    @has_access
    def send(self, invoice_id: int) -> ResponseReturnValue:
        """"Wyślij do KSeF": put the invoice in the queue (the scheduler sends it)."""
        company_id = current_company_id()
        invoice = found(ksef._invoice(company_id, invoice_id))
        if not KsefButtonForm().validate_on_submit():
            abort(400)
        post_action(lambda: ksef.enqueue(company_id, invoice.id),
                    _l("The invoice is in the KSeF queue; it will be sent in a moment."))
        return redirect(invoice_url(invoice.id))

    @expose("/upo/<int:invoice_id>")
    @has_access
    def upo(self, invoice_id: int) -> ResponseReturnValue:
        """Download the UPO XML of an accepted invoice."""
        name, data = found(ksef.upo(current_company_id(), invoice_id))
        return Response(data, mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @expose("/queue")
    @has_access
    def queue(self) -> ResponseReturnValue:
        """"Kolejka KSeF": invoices waiting, being sent or rejected."""
        rows = ksef.queue(current_company_id())
        return self.render_template("invoices/ksef_queue.html", rows=rows, labels=ksef.KSEF_STATUS_LABELS)


def ksef_panel(invoice: Any) -> dict[str, Any]:
    """Template global for ``invoices/_ksef.html``: status, queue row, what the user may do."""
    panel = ksef.status_view(current_company_id(), invoice)
    panel["may_send"] = appbuilder.sm.has_access("can_send", "KsefSending")
    panel["may_upo"] = appbuilder.sm.has_access("can_upo", "KsefSending")
    return panel
