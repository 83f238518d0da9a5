"""Roles as code: which view permissions each role holds. Synced by ``flask crm init``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OWNER = "Owner"
MANAGER = "Manager"
EMPLOYEE = "Employee"
PLATFORM_ADMIN = "PlatformAdmin"

#: roles an owner may give to people of the company, in the order the form shows them
COMPANY_ROLES = (OWNER, MANAGER, EMPLOYEE)

ROLE_LABELS = {
    OWNER: _l("Owner"),
    MANAGER: _l("Manager"),
    EMPLOYEE: _l("Employee"),
    PLATFORM_ADMIN: _l("Platform administrator"),
}

#: class permission names of views every company user works with
TENANT_COMMON = frozenset(
    {
        "Dashboard",
        "Profile",
        "Avatar",
        "Section",
        "ClientBases",
        "Contacts",
        "ContactImport",
        "ContactExport",
        "ContactDuplicates",
        "Tags",
        "AccountSecurity",
        "Tasks",
        "Binders",
        "Attachments",
        "Notifications",
        "Offers",
        "Orders",
        "Products",
        "Invoices",
        "Support",
        "ApiTokens",
        "ApiDocs",
        "Campaigns",
    }
)
#: views of the Owner and Managers: company-wide work settings, issuing invoices, sending to KSeF, purchase invoices,
#: the company's mailboxes ("Mailing"); RODO requests of the company's clients (export and anonymisation of a person)
MANAGEMENT = frozenset({"TaskCategories", "InvoiceIssue", "KsefSending", "PurchaseInvoices", "ContactRodo", "Mailboxes"})
#: views only the owner may use: company data and the people of the company
OWNER_ONLY = frozenset({
    "CompanySettings", "Employees", "SecuritySettings", "Trash", "InvoiceSeries", "KsefSettings", "CompanyExport",
    "AccountClosing", "Payments",
})
#: the platform admin's own panel; no tenant business view
PLATFORM = frozenset({"AdminCompanies", "AdminRestore", "AdminBackups", "AdminNipClaims", "AdminPlans", "AdminLicences",
                      "AdminLegal", "AdminSupport", "Profile", "AccountSecurity"})

ROLE_VIEWS: dict[str, frozenset[str]] = {
    OWNER: TENANT_COMMON | OWNER_ONLY | MANAGEMENT,
    MANAGER: TENANT_COMMON | MANAGEMENT,
    EMPLOYEE: TENANT_COMMON,
    PLATFORM_ADMIN: PLATFORM,
}

