"""The platform admin's panel: company accounts, their licence state, NIP claims. No business data."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models.company import Company
from app.models.signups import NipClaim
from app.services import formats
from app.services.accounts import nip_claims
from app.services.platform import restores, subscription_invoices
from app.views.accounts.links import invitation_link
from app.views.accounts.signup_forms import ClaimApproveForm, ClaimRejectForm
from app.views.base import CrmView, cell_formatters, form_action, found

PLAN_LABELS = {"trial": _l("Free trial"), "applarge": "AppLarge", "applarge_plus": "AppLarge+"}


class FilterNotEqualFunction(BaseFilter):
    """A base filter whose value is computed per query (FAB has only the "equal" kind of these)."""

    name = "Not equal to a function's value"
    arg_name = "neqf"

    def apply(self, query: Any, func: Any) -> Any:
        """Filter the query to rows whose column differs from ``func()``."""
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field != func())


class AdminCompaniesView(ModelView):
    """All company accounts (the one named cross-tenant place: Company is the tenant itself)."""

    datamodel = SQLAInterface(Company)
    route_base = "/admin/companies"
    class_permission_name = "AdminCompanies"
    method_permission_name = {"list": "list", "show": "list", "api_read": "list"}
    base_permissions = ["can_list"]
    crm_section = "admin"
    show_template = "admin/company_show.html"
    #: the platform operator's own row (it issues the subscription invoices) is not a customer account
    base_filters = [["id", FilterNotEqualFunction, lambda: subscription_invoices.operator_company_id() or 0]]
    list_title = _l("Company accounts")
    show_title = _l("Company account")
    list_columns = ["name", "nip", "plan", "licence_valid_until", "licence_state", "created_at", "confirmed_at"]
    show_columns = ["name", "nip", "regon", "city", "email", "phone", "plan", "licence_valid_until", "licence_state",
                    "created_at", "confirmed_at", "nip_lost_at"]
    search_columns = ["name", "nip", "plan", "licence_valid_until"]
    order_columns = ["name", "nip", "plan", "licence_valid_until", "created_at"]
    base_order = ("created_at", "desc")
    label_columns = {
        "name": _l("Company name"),
        "nip": _l("NIP"),
        "regon": _l("REGON"),
        "city": _l("City"),
        "email": _l("E-mail"),
        "phone": _l("Phone"),
        "plan": _l("Plan"),
        "licence_valid_until": _l("Licence valid until"),
        "licence_state": _l("Licence state"),
        "created_at": _l("Created"),
        "confirmed_at": _l("E-mail confirmed"),
        "nip_lost_at": _l("NIP moved to another account"),
    }
    formatters_columns = {
        **cell_formatters(*show_columns),
        "plan": lambda p: str(PLAN_LABELS.get(p, p)),
        "phone": formats.phone,
    }

    def get_action_permission_name(self, name: str) -> str:
        """An unknown action name is a 404 (Flask-AppBuilder would fail on it with a 500)."""
        if name not in self.actions:
            abort(404)
        return super().get_action_permission_name(name)


class AdminNipClaimsView(CrmView):
    """Claims of a NIP another account holds: the platform admin checks, approves or rejects them."""

    route_base = "/admin/nip-claims"
    crm_section = "admin"
    class_permission_name = "AdminNipClaims"
    method_permission_name = {"index": "list", "show": "list", "approve": "edit", "reject": "edit"}

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """All claims, those waiting for a decision first."""
        return self.render_template("admin/nip_claims.html", claims=nip_claims.list_claims(),
                                    statuses=nip_claims.STATUS_LABELS, title=_l("NIP claims"))

    @expose("/<int:claim_id>")
    @has_access
    def show(self, claim_id: int) -> ResponseReturnValue:
        """One claim with the account that holds the NIP, and the decision forms."""
        return self._show(claim_id, ClaimApproveForm(formdata=None), ClaimRejectForm(formdata=None))

    def _show(self, claim_id: int, approve_form: ClaimApproveForm, reject_form: ClaimRejectForm) -> ResponseReturnValue:
        claim = found(db.session.get(NipClaim, claim_id))
        holder = nip_claims.holder_of(claim.nip)
        owners = nip_claims.company_owners(holder.id) if holder is not None else []
        return self.render_template(
            "admin/nip_claim.html", claim=claim, holder=holder, owners=owners, statuses=nip_claims.STATUS_LABELS,
            proofs=nip_claims.PROOF_LABELS, approve_form=approve_form, reject_form=reject_form,
            new_company=restores.company_account(claim.new_company_id) if claim.new_company_id else None,
            title=_l("NIP claim"),
        )

    @expose("/<int:claim_id>/approve", methods=["POST"])
    @has_access
    def approve(self, claim_id: int) -> ResponseReturnValue:
        """Approve: the NIP moves to a new account of the claimant."""
        form = ClaimApproveForm()
        if not form.validate_on_submit():
            return self._show(claim_id, form, ClaimRejectForm(formdata=None))
        proof = nip_claims.OwnershipProof(nip_claims.PROOF_ADMIN_CHECK, form.note.data or "")
        company = form_action(form, lambda: nip_claims.approve(g.user, claim_id, proof, invitation_link)).value
        if company is None:
            return self._show(claim_id, form, ClaimRejectForm(formdata=None))
        flash(gettext("The NIP now belongs to the new account %(company)s; both parties have been e-mailed.",
                      company=company.name), "success")
        return redirect(url_for(".show", claim_id=claim_id))

    @expose("/<int:claim_id>/reject", methods=["POST"])
    @has_access
    def reject(self, claim_id: int) -> ResponseReturnValue:
        """Reject with a reason the claimant reads."""
        form = ClaimRejectForm()
        if not form.validate_on_submit():
            return self._show(claim_id, ClaimApproveForm(formdata=None), form)
        done = form_action(form, lambda: nip_claims.reject(g.user, claim_id, form.reason.data or ""),
                           _l("The claim was rejected; the claimant has been e-mailed."))
        if not done.ok:
            return self._show(claim_id, ClaimApproveForm(formdata=None), form)
        return redirect(url_for(".show", claim_id=claim_id))
