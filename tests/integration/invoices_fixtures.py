"""Shared data for invoice tests: a company with NIP, address, account, a client, a mailing contact."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.extensions import db
from app.models import Company, Contact
from app.security.tenancy import tenant_scope
from tests.integration.sales_fixtures import seed_sales


def seed_invoicing(app: Any, info: dict, suffix: str = "") -> dict:
    """seed_sales plus the company's bank account and a person buyer without NIP."""
    data = seed_sales(app, info, suffix)
    with app.app_context(), tenant_scope(info["company_id"]):
        company = db.session.get(Company, info["company_id"])
        company.iban = "PL61109010140000071219812874"
        client = db.session.get(Contact, data["client_id"])
        person = Contact(base_id=client.base_id, kind="person", name=f"Jan Kowalski{suffix}", name_sort="kowalski",
                         first_name="Jan", last_name="Kowalski", city="Kraków", street="ul. Floriańska 3",
                         postal_code="31-019")
        db.session.add(person)
        db.session.commit()
        data["person_id"] = person.id
        db.session.remove()
    return data


def invoice_form(seed: dict, **overrides: Any) -> dict:
    """POST data of "Nowa faktura": three lines at 23 %, 8 % and zw."""
    today = dt.date.today()
    data = {
        "contact_id": str(seed["client_id"]), "contact_label": "x", "series_id": "",
        "issue_date": today.isoformat(), "sale_date": today.isoformat(), "place_of_issue": "Łódź",
        "currency": "PLN", "exchange_rate": "", "exchange_table": "", "exchange_date": "",
        "payment_method": "transfer", "due_date": (today + dt.timedelta(days=14)).isoformat(),
        "exemption_basis": "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT", "binder_id": "", "notes": "", "reason": "",
        "item_name": ["Wdrożenie systemu", "Montaż", "Szkolenie"],
        "item_unit": ["usł.", "m²", "dzień"],
        "item_quantity": ["1", "3,5", "2"],
        "item_unit_price": ["4500,00", "35.50", "1800"],
        "item_discount": ["10", "0", "0"],
        "item_rate": ["23", "8", "zw"],
        "item_annex15": ["0", "0", "0"],
    }
    data.update(overrides)
    return data


def create(client: Any, seed: dict, issue: bool = False, kind: str = "", **over: Any) -> int:
    """Post the form (and "Wystaw" when ``issue``); return the invoice id."""
    data = invoice_form(seed, **over)
    if issue:
        data["then_issue"] = "1"
    url = "/invoices/add" + (f"?kind={kind}" if kind else "")
    resp = client.post(url, data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(re.search(r"/invoices/(\d+)", resp.headers["Location"]).group(1))
