"""Sections of the left menu: one colour and icon each (colours live in static/css/palette.css)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Section:
    """A main-menu section: CSS key (palette colour) and Font Awesome icon."""

    key: str
    icon: str


SECTIONS: dict[str, Section] = {
    "Dashboard": Section("dashboard", "fa-gauge-high"),
    "ClientBases": Section("clients", "fa-users"),
    "Tasks": Section("tasks", "fa-list-check"),
    "Binders": Section("binders", "fa-folder-open"),
    "Offers": Section("offers", "fa-file-signature"),
    "Orders": Section("orders", "fa-clipboard-list"),
    "Invoices": Section("invoices", "fa-file-invoice-dollar"),
    "PurchaseInvoices": Section("invoices", "fa-file-import"),
    "Emailing": Section("emailing", "fa-envelope"),
    "AdminCompanies": Section("admin", "fa-building-shield"),
    "AdminRestore": Section("admin", "fa-trash-arrow-up"),
    "AdminBackups": Section("admin", "fa-box-archive"),
    "AdminNipClaims": Section("admin", "fa-id-card"),
    "AdminSupport": Section("admin", "fa-life-ring"),
    "AdminPlans": Section("admin", "fa-tags"),
    "AdminLegal": Section("admin", "fa-file-contract"),
    "Settings": Section("settings", "fa-gear"),
}


def section_for(menu_name: str) -> Section | None:
    """The section of a menu entry, by its identifier."""
    return SECTIONS.get(menu_name)


# The page name in the browser tab ("<page> · Klientela"), by view (blueprint) or view.endpoint;
# a view may still pass its own ``title`` to the template (a contact's import, an error page).
PAGE_TITLES: dict[str, Any] = {
    "DashboardIndexView": _l("Dashboard"),
    "LicenceView": _l("Licence"),
    "NotificationsView": _l("Notifications"),
    "ClientBasesView": _l("Client bases"),
    "ContactsView": _l("Contacts"),
    "ContactImportView": _l("Contacts"),
    "ContactExportView": _l("Contacts"),
    "DuplicatesView": _l("Contacts"),
    "TasksView": _l("Tasks"),
    "BindersView": _l("Binders"),
    "AttachmentsView": _l("Attachments"),
    "OffersView": _l("Offers"),
    "ProductsView": _l("Price list"),
    "OrdersView": _l("Orders"),
    "InvoicesView": _l("Invoices"),
    "InvoiceEditView": _l("Invoices"),
    "PurchaseInvoicesView": _l("Purchase invoices"),
    "KsefView": _l("KSeF"),
    "SettingsView": _l("Settings"),
    "ProfileView": _l("My profile"),
    "AccountSecurityView": _l("Security"),
    "EmployeeSecurityView": _l("Security"),
    "SignupView": _l("Create an account"),
    "InvitationView": _l("Set your password"),
    "PasswordResetView": _l("Forgot your password?"),
    "PasswordResetView.reset": _l("Set a new password"),
    "CrmAuthDBView": _l("Sign in"),
    "AdminCompaniesView": _l("Company accounts"),
    "AdminNipClaimsView": _l("NIP claims"),
    "AdminRestoreView": _l("Restoring deleted data"),
    "RestoreConfirmView": _l("Restoring deleted data"),
    "AdminBackupsView": _l("Backups"),
    "AdminSupportView": _l("Support requests"),
    "SupportView": _l("Requests to support"),
    "CompanyExportView": _l("Data export"),
    "AccountClosingView": _l("Closing the account"),
    "ContactRodoView": _l("Contacts"),
    "AdminPlansView": _l("Plans"),
    "AdminLicenceView": _l("Licence"),
    "AdminLegalView": _l("Terms and agreements"),
    "PricingView": _l("Price list"),
    "TermsAcceptView": _l("New terms to accept"),
}


def page_title(blueprint: str | None, endpoint: str | None) -> Any:
    """The page name of a view endpoint ("ContactsView.show" -> "Kontakty"), or None for an unknown page."""
    if not blueprint:
        return None
    return PAGE_TITLES.get(endpoint or "") or PAGE_TITLES.get(blueprint)
