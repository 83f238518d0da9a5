"""The settings panel behind the gear icon: a registry of tabs and the company/avatar tabs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import appbuilder, db
from app.models.company import Company
from app.services import DomainError
from app.services.accounts import companies as tenancy
from app.services.accounts import employees as employees_svc
from app.views.base import CrmView, current_company_id, file_bytes, show_domain_error
from app.views.forms import AvatarForm, CompanyForm


@dataclass(frozen=True)
class SettingsTab:
    """One tab of the settings panel: its label, icon, order and the view behind it."""

    label: Any
    icon: str
    order: int
    view: type
    endpoint: str = "index"
    permission: str = "can_index"

    @property
    def blueprint(self) -> str:
        """Blueprint name of the tab's view (its class name)."""
        return self.view.__name__

    def url(self) -> str:
        """Where the tab leads."""
        return url_for(f"{self.blueprint}.{self.endpoint}")

    def visible(self) -> bool:
        """True when the current user may open the tab."""
        return appbuilder.sm.has_access(self.permission, self.view.class_permission_name)


SETTINGS_TABS: list[SettingsTab] = []


def add_settings_tab(view: type, label: Any, icon: str, order: int, **kw: Any) -> None:
    """Register a view as a settings tab: this one declaration adds the tab."""
    appbuilder.add_view_no_menu(view)
    SETTINGS_TABS.append(SettingsTab(label=label, icon=icon, order=order, view=view, **kw))
    SETTINGS_TABS.sort(key=lambda t: t.order)


def visible_tabs() -> list[SettingsTab]:
    """Tabs the current user may open, in order."""
    return [t for t in SETTINGS_TABS if t.visible()]


def active_tab() -> Optional[SettingsTab]:
    """The tab the current request belongs to, if any."""
    for tab in SETTINGS_TABS:
        if request.blueprint == tab.blueprint:
            return tab
    return None


class SettingsView(CrmView):
    """The gear icon: opens the first tab the user may use."""

    route_base = "/settings"
    crm_section = "settings"
    class_permission_name = "Profile"

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Redirect to the first visible tab."""
        tabs = visible_tabs()
        if not tabs:
            return redirect(appbuilder.get_url_for_index)
        return redirect(tabs[0].url())


class CompanySettingsView(CrmView):
    """"Dane firmy": company name, NIP, REGON, address, IBAN, e-mail, phone, logo."""

    route_base = "/settings/company"
    crm_section = "settings"
    class_permission_name = "CompanySettings"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> Any:
        """Show and save the company data form."""
        company = db.session.get(Company, current_company_id())
        form = CompanyForm(obj=company)
        if form.validate_on_submit():
            data = tenancy.CompanyData(**{k: getattr(form, k).data for k in (
                "name", "nip", "regon", "street", "postal_code", "city", "iban", "email", "phone")})
            try:
                tenancy.update_company(
                    company, data, logo=file_bytes(form.logo), remove_logo=form.remove_logo.data
                )
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Company data saved."), "success")
                return redirect(url_for(".index"))
        return self.render_template("crm/settings_company.html", form=form, company=company)


class AvatarView(CrmView):
    """"Avatar": the signed-in user's picture shown in the header."""

    route_base = "/settings/avatar"
    crm_section = "settings"
    class_permission_name = "Avatar"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> Any:
        """Upload, replace or remove the avatar."""
        form = AvatarForm()
        user = g.user
        if form.validate_on_submit():
            data = file_bytes(form.avatar)
            try:
                if form.remove.data and not data:
                    employees_svc.remove_avatar(user)
                    flash(gettext("Avatar removed."), "success")
                else:
                    employees_svc.set_avatar(user, data or b"")
                    flash(gettext("Avatar saved."), "success")
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                return redirect(url_for(".index"))
        return self.render_template("crm/settings_avatar.html", form=form, user=user)
