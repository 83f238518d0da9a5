"""The platform admin's panel: company accounts and their licence state. No business data."""

from __future__ import annotations

from flask import abort
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.models.company import Company
from app.views.base import cell_formatters


class AdminCompaniesView(ModelView):
    """All company accounts (the one named cross-tenant place: Company is the tenant itself)."""

    datamodel = SQLAInterface(Company)
    route_base = "/admin/companies"
    class_permission_name = "AdminCompanies"
    method_permission_name = {"list": "list", "show": "list", "api_read": "list"}
    base_permissions = ["can_list"]
    crm_section = "admin"
    list_title = _l("Company accounts")
    show_title = _l("Company account")
    list_columns = ["name", "nip", "plan", "licence_valid_until", "licence_state", "created_at"]
    show_columns = ["name", "nip", "regon", "city", "email", "phone", "plan", "licence_valid_until", "licence_state", "created_at"]
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
    }
    formatters_columns = {
        **cell_formatters(*show_columns),
        "plan": lambda p: str(PLAN_LABELS.get(p, p)),
    }


    def get_action_permission_name(self, name: str) -> str:
        """An unknown action name is a 404 (Flask-AppBuilder would fail on it with a 500)."""
        if name not in self.actions:
            abort(404)
        return super().get_action_permission_name(name)


PLAN_LABELS = {"trial": _l("Free trial"), "applarge": "AppLarge", "applarge_plus": "AppLarge+"}

