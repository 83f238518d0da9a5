"""register_views(): every view, API and settings tab, in menu order. The one place."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

from app.views.menu import SECTIONS


def register_views(appbuilder: AppBuilder) -> None:
    """Register all views with FAB; menu identifiers are English, labels Polish."""
    from app.views.admin import AdminCompaniesView
    from app.views.auth import InvitationView, SignupView
    from app.views.dashboard import LicenceView
    from app.views.employees import EmployeesView, ProfileView
    from app.views.media import MediaView
    from app.views.sections import PENDING_SECTIONS, section_view
    from app.views.settings import (
        AvatarView,
        CompanySettingsView,
        SettingsView,
        add_settings_tab,
    )

    def menu(view: type, name: str, label: object) -> None:
        instance = appbuilder.add_view(view, name, label=label, icon=SECTIONS[name].icon)
        instance.crm_menu_names = (name,)

    # Left main menu, in order.
    for cls_name, route, name, section, title, lead in PENDING_SECTIONS:
        menu(section_view(cls_name, route, section, title, lead), name, title)
    menu(AdminCompaniesView, "AdminCompanies", _l("Company accounts"))

    # Public pages and pages without a menu entry.
    appbuilder.add_view_no_menu(SignupView)
    appbuilder.add_view_no_menu(LicenceView)
    appbuilder.add_view_no_menu(InvitationView)
    appbuilder.add_view_no_menu(SettingsView)
    appbuilder.add_view_no_menu(ProfileView)
    appbuilder.add_view_no_menu(MediaView)

    # Settings panel tabs (the gear icon), one declaration each.
    add_settings_tab(CompanySettingsView, _l("Company data"), "fa-building", 10)
    add_settings_tab(AvatarView, _l("Avatar"), "fa-user-circle", 20)
    add_settings_tab(EmployeesView, _l("Employees"), "fa-user-tie", 30, permission="can_list")
