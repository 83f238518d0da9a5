"""Sections of the left menu: one colour and icon each (colours live in static/css/palette.css)."""

from __future__ import annotations

from dataclasses import dataclass


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
    "Settings": Section("settings", "fa-gear"),
}


def section_for(menu_name: str) -> Section | None:
    """The section of a menu entry, by its identifier."""
    return SECTIONS.get(menu_name)
