"""register_views(): every view, API and settings tab, in menu order. The one place."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

from app.security import licence
from app.services.mailing import campaigns as campaigns_svc
from app.services.sales import offers as offers_svc
from app.services.sales import orders as orders_svc
from app.services.work import binders as binders_svc
from app.services.work import reminders as reminders_svc
from app.services.work import tasks as tasks_svc
from app.views.menu import SECTIONS


def register_views(appbuilder: AppBuilder) -> None:
    """Register all views with FAB; menu identifiers are English, labels Polish."""
    # the view modules are imported here, inside the composition root, so that importing
    # app.views (e.g. for a helper) never builds FAB views before an app and AppBuilder exist
    from app.api import register_apis
    from app.services.sales import pricing
    from app.views.accounts.api_tokens import ApiTokensView
    from app.views.accounts.auth import InvitationView, SignupView
    from app.views.accounts.employees import EmployeesView, ProfileView
    from app.views.accounts.export import AccountClosingView, CompanyExportView
    from app.views.accounts.payments import PaymentsSettingsView, PayuNotifyView
    from app.views.accounts.security import (
        AccountSecurityView,
        AuthTokenApi,
        EmployeeSecurityView,
        MeApi,
        PasswordResetView,
        PasswordStrengthView,
        SecuritySettingsView,
    )
    from app.views.accounts.settings import (
        AvatarView,
        CompanySettingsView,
        SettingsView,
        add_settings_tab,
    )
    from app.views.contacts.contact_io import (
        ContactExportView,
        ContactImportView,
        DuplicatesView,
    )
    from app.views.contacts.contacts import ClientBasesView, ContactsView
    from app.views.contacts.rodo import ContactRodoView
    from app.views.contacts.tags import TagsView
    from app.views.dashboard import LicenceView
    from app.views.invoicing.invoices import InvoiceEditView, InvoicesView, contact_balance
    from app.views.invoicing.ksef import KsefSettingsView, KsefView, ksef_panel
    from app.views.invoicing.purchases import PurchaseInvoicesView
    from app.views.invoicing.series import InvoiceSeriesView
    from app.views.mailing.campaigns import CampaignsView, UnsubscribeView
    from app.views.mailing.mailboxes import MailboxesView
    from app.views.mailing.mailboxes_documents import register_template_globals
    from app.views.media import MediaView
    from app.views.platform.admin import AdminCompaniesView, AdminNipClaimsView
    from app.views.platform.backups import AdminBackupsView
    from app.views.platform.legal import AdminLegalView, LegalView, TermsAcceptView
    from app.views.platform.plans import AdminLicenceView, AdminPlansView, PricingView
    from app.views.platform.restores import AdminRestoreView, RestoreConfirmView, TrashView
    from app.views.platform.support import AdminSupportView, SupportView
    from app.views.sales.offers import OffersView
    from app.views.sales.orders import OrdersView
    from app.views.sales.products import ProductsView
    from app.views.sections import PENDING_SECTIONS, section_view
    from app.views.work.binders import AttachmentsView, BindersView
    from app.views.work.notifications import NotificationsView
    from app.views.work.tasks import TaskCategoriesView, TasksView

    def menu(view: type, name: str, label: object) -> None:
        instance = appbuilder.add_view(view, name, label=label, icon=SECTIONS[name].icon)
        instance.crm_menu_names = (name,)

    # Left main menu, in order.
    menu(ClientBasesView, "ClientBases", _l("Client bases"))
    menu(TasksView, "Tasks", _l("Tasks"))
    menu(BindersView, "Binders", _l("Binders"))
    menu(OffersView, "Offers", _l("Offers"))
    menu(OrdersView, "Orders", _l("Orders"))
    menu(InvoicesView, "Invoices", _l("Invoices"))
    menu(CampaignsView, "Emailing", _l("Emailing"))
    for cls_name, route, name, section, title, lead in PENDING_SECTIONS:
        menu(section_view(cls_name, route, section, title, lead), name, title)
    menu(PurchaseInvoicesView, "PurchaseInvoices", _l("Purchase invoices"))
    menu(AdminCompaniesView, "AdminCompanies", _l("Company accounts"))
    menu(AdminNipClaimsView, "AdminNipClaims", _l("NIP claims"))
    menu(AdminPlansView, "AdminPlans", _l("Plans"))
    menu(AdminLegalView, "AdminLegal", _l("Terms and agreements"))
    menu(AdminRestoreView, "AdminRestore", _l("Restoring deleted data"))
    menu(AdminBackupsView, "AdminBackups", _l("Backups"))
    menu(AdminSupportView, "AdminSupport", _l("Support requests"))

    # Public pages and pages without a menu entry.
    appbuilder.add_view_no_menu(SignupView)
    _limit_security_endpoints(appbuilder, SignupView, config_key="SIGNUP_RATE_LIMIT")
    appbuilder.add_view_no_menu(LicenceView)
    appbuilder.add_view_no_menu(PricingView)  # "Cennik" of the plans, public
    appbuilder.add_view_no_menu(LegalView)
    appbuilder.add_view_no_menu(TermsAcceptView)
    appbuilder.add_view_no_menu(AdminLicenceView)
    appbuilder.add_view_no_menu(InvitationView)
    appbuilder.add_view_no_menu(SettingsView)
    appbuilder.add_view_no_menu(ProfileView)
    appbuilder.add_view_no_menu(MediaView)
    appbuilder.add_view_no_menu(ProductsView)  # "Cennik", a page of the green Offers section
    appbuilder.add_view_no_menu(AttachmentsView)
    appbuilder.add_view_no_menu(NotificationsView)
    appbuilder.add_view_no_menu(SupportView)  # the user menu's "Zgłoś modyfikację lub problem"
    appbuilder.add_view_no_menu(AccountSecurityView)
    appbuilder.add_view_no_menu(EmployeeSecurityView)
    appbuilder.add_view_no_menu(PasswordResetView)
    appbuilder.add_view_no_menu(PasswordStrengthView)
    appbuilder.add_view_no_menu(RestoreConfirmView)
    _public_webhook(appbuilder.add_view_no_menu(PayuNotifyView))  # PayU signs it: no login, no CSRF
    licence.allow(endpoint="PayuNotifyView.notify", owner_only=False)  # never behind the licence block
    # the one-click unsubscribe POST of mail clients (RFC 8058) carries no CSRF token: the signed token is the proof
    _public_webhook(appbuilder.add_view_no_menu(UnsubscribeView))
    for endpoint in ("UnsubscribeView.page", "UnsubscribeView.confirm", "UnsubscribeView.image"):
        licence.allow(endpoint=endpoint, owner_only=False)  # a recipient's unsubscribe never waits for a licence
    appbuilder.add_api(AuthTokenApi)
    appbuilder.add_api(MeApi)
    appbuilder.add_view_no_menu(ApiTokensView)
    _limit_security_endpoints(appbuilder, PasswordResetView, PasswordStrengthView, AuthTokenApi, RestoreConfirmView)
    appbuilder.add_view_no_menu(InvoiceEditView)  # write side of the purple "Faktury" section
    appbuilder.add_view_no_menu(ContactsView)
    appbuilder.add_view_no_menu(ContactImportView)
    appbuilder.add_view_no_menu(ContactExportView)
    appbuilder.add_view_no_menu(DuplicatesView)
    appbuilder.add_view_no_menu(ContactRodoView)
    appbuilder.add_view_no_menu(KsefView)  # send, UPO, "Kolejka KSeF" (purple Invoices section)
    current_app.add_template_global(ksef_panel, "ksef_panel")

    register_plugins()

    # The client's unpaid invoices on the contact page (invoices/_contact_balance.html).
    current_app.jinja_env.globals.update(contact_invoice_balance=contact_balance, balance_money=pricing.format_money)
    # the card's "E-mail campaigns" rows (crm/_card_rows.html) show a recipient's status in Polish
    current_app.jinja_env.globals.update(campaign_recipient_labels=campaigns_svc.RECIPIENT_STATUS_LABELS)
    # The messages that carried a document, on its page (mailing/mailbox_sent.html).
    register_template_globals()

    # Settings panel tabs (the gear icon), one declaration each.
    add_settings_tab(CompanySettingsView, _l("Company data"), "fa-building", 10)
    add_settings_tab(AvatarView, _l("Avatar"), "fa-user-circle", 20)
    add_settings_tab(EmployeesView, _l("Employees"), "fa-user-tie", 30, permission="can_list")
    add_settings_tab(SecuritySettingsView, _l("Security"), "fa-shield-halved", 35, permission="can_list")
    add_settings_tab(MailboxesView, _l("Mailing"), "fa-envelope", 40, permission="can_list")
    add_settings_tab(InvoiceSeriesView, _l("Numbering series"), "fa-file-invoice", 45, permission="can_list")
    add_settings_tab(TaskCategoriesView, _l("Task categories"), "fa-list-check", 50, permission="can_list")
    add_settings_tab(KsefSettingsView, _l("KSeF"), "fa-cloud-arrow-up", 60)
    add_settings_tab(PaymentsSettingsView, _l("Subscription and payments"), "fa-credit-card", 70)
    add_settings_tab(TrashView, _l("Trash"), "fa-trash-can", 80, permission="can_list")
    add_settings_tab(TagsView, _l("Tags"), "fa-tags", 90, permission="can_list")
    add_settings_tab(CompanyExportView, _l("Data export"), "fa-file-zipper", 84, permission="can_list")
    add_settings_tab(AccountClosingView, _l("Closing the account"), "fa-door-closed", 86, permission="can_edit")

    # The REST API (app/api/), after every view: it shares their permission names.
    register_apis(appbuilder, MeApi)


def register_plugins() -> None:
    """What each domain adds to another's pages: documents shown in a binder, documents with reminders."""
    binders_svc.register_rows("offers", offers_svc.binder_items)
    binders_svc.register_rows("orders", orders_svc.binder_items)
    binders_svc.register_rows("tasks", tasks_svc.binder_rows)
    reminders_svc.register_target("task", tasks_svc.reminder_message)
    reminders_svc.register_target("offer", offers_svc.reminder_message)


def _public_webhook(view: Any) -> None:
    """A machine-to-machine endpoint that proves itself with a signature: CSRF does not apply."""
    from app.extensions import csrf

    csrf.exempt(view.blueprint)


def _limit_security_endpoints(
    appbuilder: AppBuilder, *views: type, config_key: str = "SECURITY_RATE_LIMIT"
) -> None:
    """Rate-limit POSTs of public endpoints (the limit in ``config_key``, per client IP)."""
    for view in views:
        instance: Any = next(v for v in appbuilder.baseviews if isinstance(v, view))
        appbuilder.sm.limiter.limit(
            lambda: current_app.config[config_key], methods=["POST"]
        )(instance.blueprint)
