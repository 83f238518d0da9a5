"""The "Płatności" settings tab (owner) and PayU's notification endpoint (no login, no CSRF)."""

from __future__ import annotations

from typing import Callable

from flask import Response, abort, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import DataRequired

from app.services import formats
from app.services.platform import payments as svc
from app.services.platform import plans as plans_svc
from app.services.platform import subscription_invoices as invoices
from app.services.sales import pricing
from app.views.base import CrmView, cell, current_company_id, form_action, found, post_action

REQUIRED = _l("This field is required.")
PER_MONTH = _l("PLN / month")


class PayForm(FlaskForm):
    """"Opłać abonament": plan, number of months, payment method."""

    plan_code = SelectField(_l("Plan"), choices=[], validators=[DataRequired(REQUIRED)])
    months = SelectField(_l("Number of months"), choices=[(str(n), str(n)) for n in range(1, svc.MAX_MONTHS + 1)],
                         default="1", validators=[DataRequired(REQUIRED)])
    method = RadioField(_l("Payment method"), choices=[(k, v) for k, v in svc.METHOD_LABELS.items()],
                        default="blik", validators=[DataRequired(_l("Choose how you want to pay."))])


class PlanChangeForm(FlaskForm):
    """The plan of the next paid period."""

    plan_code = SelectField(_l("Plan from the next period"), choices=[], validators=[DataRequired(REQUIRED)])


def _plan_choices() -> list[tuple[str, str]]:
    return [(p.code, f"{p.name} · {pricing.format_money(p.price_gross)} {PER_MONTH}")
            for p in plans_svc.all_plans()]


def _plan_names() -> Callable[[str | None], str]:
    """A plan's name by its code, with every plan read once (the history names one per row)."""
    names = {p.code: p.name for p in plans_svc.all_plans(active_only=False)}
    return lambda code: names.get(code or "") or plans_svc.plan_name(code)


class PaymentsSettingsView(CrmView):
    """"Płatności": plan, paid until, payment history with invoices, "Opłać abonament", plan change."""

    route_base = "/settings/payments"
    crm_section = "settings"
    class_permission_name = "Payments"

    def _forms(self) -> tuple[PayForm, PlanChangeForm]:
        company = svc.company_of(current_company_id())
        pay = PayForm(prefix="pay")
        pay.plan_code.choices = _plan_choices()
        change = PlanChangeForm(prefix="change")
        change.plan_code.choices = _plan_choices()
        if request.method == "GET":
            current = company.next_plan or (company.plan if company.plan != plans_svc.TRIAL else None)
            if request.args.get("plan") in {code for code, _label in pay.plan_code.choices}:
                current = request.args["plan"]  # "Opłać" next to a plan on the price list or the blocking page
            pay.plan_code.data = current or (pay.plan_code.choices[0][0] if pay.plan_code.choices else None)
            change.plan_code.data = company.next_plan or company.plan
        return pay, change

    def _page(self, pay: PayForm, change: PlanChangeForm) -> ResponseReturnValue:
        company_id = current_company_id()
        company = svc.company_of(company_id)
        return self.render_template(
            "payments/settings.html", company=company, pay=pay, change=change,
            payments=svc.list_payments(company_id), enabled=svc.payments_enabled(),
            plan_label=plans_svc.plan_label(company), plan_name=_plan_names(),
            money=pricing.format_money, cell=cell, status_labels=svc.STATUS_LABELS,
            method_labels=svc.METHOD_LABELS, local_date=formats.local_date, active=company.licence_active(),
        )

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """The tab."""
        pay, change = self._forms()
        return self._page(pay, change)

    @expose("/pay", methods=["GET", "POST"])
    @has_access
    def pay(self) -> ResponseReturnValue:
        """Record the payment, create PayU's order and send the owner to PayU's payment page."""
        if request.method == "GET":  # e.g. back here after an expired form: the tab
            return redirect(url_for(".index"))
        pay, change = self._forms()
        if pay.validate_on_submit():
            done = form_action(pay, lambda: svc.start_payment(
                current_company_id(), g.user,
                svc.PayData(pay.plan_code.data, pay.months.data, pay.method.data),
                notify_url=url_for("PayuNotifyView.notify", _external=True),
                continue_url=lambda pid: url_for(".return_page", payment_id=pid, _external=True),
                customer_ip=request.remote_addr or "",
            ))
            if done.ok:
                # a page that sends the browser on (script, or the link): the CSP's form-action 'self'
                # forbids a form's redirect to another site, PayU's page included
                return self.render_template("payments/redirect.html", redirect_uri=done.result[1])
        return self._page(pay, change)

    @expose("/plan", methods=["GET", "POST"])
    @has_access
    def plan(self) -> ResponseReturnValue:
        """Choose the plan of the next paid period."""
        if request.method == "GET":
            return redirect(url_for(".index"))
        pay, change = self._forms()
        if change.validate_on_submit():
            done = post_action(lambda: svc.change_plan(current_company_id(), g.user, change.plan_code.data),
                               gettext("The plan will change at the start of the next paid period."))
            if done.ok:
                return redirect(url_for(".index"))
        return self._page(pay, change)

    @expose("/return/<int:payment_id>")
    @has_access
    def return_page(self, payment_id: int) -> ResponseReturnValue:
        """Where PayU sends the owner back: "płatność w toku" until the notification, then the new date."""
        company_id = current_company_id()
        payment = found(svc.get_payment(company_id, payment_id))
        company = svc.company_of(company_id)
        return self.render_template("payments/return.html", payment=payment, company=company,
                                    failed=bool(request.args.get("error")), status_labels=svc.STATUS_LABELS,
                                    plan_name=plans_svc.plan_name, money=pricing.format_money,
                                    local_date=formats.local_date)

    @expose("/status/<int:payment_id>")
    @has_access
    def status(self, payment_id: int) -> ResponseReturnValue:
        """The payment's state for the return page's polling (JSON)."""
        company_id = current_company_id()
        payment = found(svc.get_payment(company_id, payment_id))
        company = svc.company_of(company_id)
        return jsonify({
            "status": payment.status, "label": str(svc.STATUS_LABELS.get(payment.status, "")),
            "paid_until": formats.local_date(company.licence_valid_until) if payment.status == "completed" else None,
        })

    @expose("/invoice/<int:payment_id>")
    @has_access
    def invoice(self, payment_id: int) -> ResponseReturnValue:
        """Download the subscription invoice of one of the company's payments (PDF)."""
        name, data = found(invoices.invoice_pdf(current_company_id(), payment_id))
        return Response(data, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


class PayuNotifyView(BaseView):
    """PayU's notifications: public, no CSRF (PayU signs them); the body is read as raw bytes."""

    route_base = "/payu"
    default_view = "notify"

    @expose("/notify", methods=["POST"])
    def notify(self) -> ResponseReturnValue:
        """Verify and apply one notification; PayU retries until it gets 200."""
        if request.content_length is not None and request.content_length > 64 * 1024:
            abort(413)
        outcome = svc.handle_notification(request.get_data(cache=False), request.headers.get("OpenPayu-Signature"))
        return Response(outcome.result, status=outcome.http_status, mimetype="text/plain")
