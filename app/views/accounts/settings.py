"""The settings panel behind the gear icon: a registry of tabs and the company/avatar tabs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import appbuilder
from app.services.accounts import companies as tenancy
from app.services.accounts import employees as employees_svc
from app.services.platform import legal
from app.views.base import CrmView, current_company_id, file_bytes, form_action, found
from app.views.forms import AvatarForm, CompanyForm


@dataclass(frozen=True)
class SettingsTab:
    """One tab of the settings panel: its label, icon, order and the view behind it."""

    label: Any
    icon: str
    order: int
    view: type[CrmView]
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


def add_settings_tab(view: type[CrmView], label: Any, icon: str, order: int, **kw: Any) -> None:
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
    def index(self) -> ResponseReturnValue:
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
    def index(self) -> ResponseReturnValue:
        """Show and save the company data form."""
        company = found(tenancy.get_company(current_company_id()))
        form = CompanyForm(obj=company)
        if form.validate_on_submit():
            data = tenancy.CompanyData(**{k: getattr(form, k).data for k in (
                "name", "nip", "regon", "street", "postal_code", "city", "iban", "email", "phone")})
            done = form_action(
                form,
                lambda: tenancy.update_company(company, data, logo=file_bytes(form.logo),
                                               remove_logo=form.remove_logo.data),
                gettext("Company data saved."),
            )
            if done.ok:
                return redirect(url_for(".index"))
        return self.render_template("crm/settings_company.html", form=form, company=company,
                                    acceptances=legal.acceptances(company.id), kind_labels=legal.KIND_LABELS)


class AvatarView(CrmView):
    """"Avatar": the signed-in user's picture shown in the header."""

    route_base = "/settings/avatar"
    crm_section = "settings"
    class_permission_name = "Avatar"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> ResponseReturnValue:
        """Upload, replace or remove the avatar."""
        form = AvatarForm()
        user = g.user
        if form.validate_on_submit():
            data = file_bytes(form.avatar)
            if form.remove.data and not data:
                done = form_action(form, lambda: employees_svc.remove_avatar(user), gettext("Avatar removed."))
            else:
                done = form_action(form, lambda: employees_svc.set_avatar(user, data or b""), gettext("Avatar saved."))
            if done.ok:
                return redirect(url_for(".index"))
        return self.render_template("crm/settings_avatar.html", form=form, user=user)
