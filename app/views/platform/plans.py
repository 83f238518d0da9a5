"""Plans: the public price list ("Cennik"), the platform admin's plan editor and hand changes of a licence."""

from __future__ import annotations

from flask import g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models.billing import Plan
from app.security.tenancy import all_tenants
from app.services.accounts import audit
from app.services.accounts import companies as companies_svc
from app.services.platform import legal, licences, plans
from app.views.base import CrmView, form_action, found
from app.views.platform.plan_forms import LicenceChangeForm, PlanForm


class PricingView(CrmView):
    """"Cennik": the plans, their limits and the terms; public, linked from the sign-in and sign-up pages."""

    route_base = "/cennik"

    @expose("/")
    def index(self) -> ResponseReturnValue:
        """The plans on sale and how the subscription works."""
        return self.render_template(
            "crm/pricing.html", plans=plans.all_plans(), storage_text=plans.storage_text,
            trial_plan=plans.get_plan(plans.TRIAL_LIMITS_PLAN), documents=legal.current_documents(),
            kind_labels=legal.KIND_LABELS, title=_l("Price list"),
        )


class AdminPlansView(CrmView):
    """The platform admin's list of plans and their editor (price and limits)."""

    route_base = "/admin/plans"
    crm_section = "admin"
    class_permission_name = "AdminPlans"
    method_permission_name = {"index": "list", "edit": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Every plan, on sale or not."""
        return self.render_template("admin/plans.html", plans=plans.all_plans(active_only=False),
                                    storage_text=plans.storage_text, title=_l("Plans"))

    @expose("/<int:plan_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, plan_id: int) -> ResponseReturnValue:
        """Edit one plan; every wrong field is shown at once and nothing changes."""
        plan = found(db.session.get(Plan, plan_id))
        form = PlanForm(obj=plan)  # a submitted form's values win over the plan's
        if form.validate_on_submit():
            data = plans.PlanData(
                name=form.name.data, price_gross=form.price_gross.data, max_employees=form.max_employees.data,
                max_mailboxes=form.max_mailboxes.data, max_emails_month=form.max_emails_month.data,
                max_storage_mb=form.max_storage_mb.data, active=form.active.data, sort_order=form.sort_order.data,
            )
            if form_action(form, lambda: plans.update_plan(g.user, plan_id, data), _l("The plan was saved.")).ok:
                return redirect(url_for(".index"))
            db.session.refresh(plan)
        return self.render_template("admin/plan_form.html", form=form, plan=plan, title=_l("Edit plan"))


class AdminLicenceView(CrmView):
    """The platform admin extends or shortens a company's licence by hand, with a reason (audit log)."""

    route_base = "/admin/licence"
    crm_section = "admin"
    class_permission_name = "AdminLicences"
    method_permission_name = {"index": "edit"}

    @expose("/<int:company_id>/", methods=["GET", "POST"])
    @has_access
    def index(self, company_id: int) -> ResponseReturnValue:
        """The licence of one company, its hand changes, the terms it accepted, and the change form."""
        with all_tenants():  # the platform admin looks at another company's account
            company = found(companies_svc.get_company(company_id))
        form = LicenceChangeForm()
        if not form.is_submitted():
            form.valid_until.data = company.licence_valid_until
        elif form.validate_on_submit():
            done = form_action(form, lambda: licences.change_licence(
                g.user, company_id, form.valid_until.data, form.reason.data), _l("The licence was changed."))
            if done.ok:
                return redirect(url_for(".index", company_id=company_id))
            db.session.refresh(company)
        else:
            form.valid_until.errors = [str(_l("Enter a correct date."))] if form.valid_until.errors else []
        return self.render_template(
            "admin/licence.html", company=company, form=form, changes=licences.licence_changes(company_id),
            acceptances=legal.acceptances(company_id), kind_labels=legal.KIND_LABELS, describe=audit.describe,
            plan_name=plans.plan_name(company.plan), next_plan_name=plans.plan_name(company.next_plan),
            title=_l("Licence of %(company)s", company=company.name),
        )
