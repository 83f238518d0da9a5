"""Shared data for offer/order tests: a company with a client, a mailing contact, products, a binder."""

from __future__ import annotations

import subprocess
import tempfile
from decimal import Decimal as D
from typing import Any

from app.extensions import db
from app.models import ClientBase, Company, Contact, Product
from app.models.binders import Binder
from app.security.tenancy import tenant_scope


def seed_sales(app: Any, info: dict, suffix: str = "") -> dict:
    """Create a standard base with a client, a mailing base contact, four products and a binder."""
    with app.app_context():
        with tenant_scope(info["company_id"]):
            company = db.session.get(Company, info["company_id"])
            company.street, company.postal_code, company.city = "ul. Żółkiewskiego 5", "00-950", "Łódź"
            base = ClientBase(name="Klienci" + suffix, kind="contacts")
            mailing = ClientBase(name="Newsletter" + suffix, kind="mailing")
            db.session.add_all([base, mailing])
            db.session.flush()
            client = Contact(base_id=base.id, kind="company", name=f"Źródło Wód Gęślą Jaźń Sp. z o.o.{suffix}",
                             name_sort="zrodlo", nip="5260250274", city="Gdańsk", street="ul. Długa 1",
                             postal_code="80-001", email="biuro@zrodlo.pl")
            lead = Contact(base_id=mailing.id, kind="person", name=f"Subskrybent{suffix}", name_sort="subskrybent",
                           email="sub@example.com")
            db.session.add_all([client, lead])
            products = [
                Product(name="Wdrożenie systemu" + suffix, code="WDR" + suffix, unit="usł.", net_price=D("4500.00"), vat_rate="23"),
                Product(name="Szkolenie żółtodziobów" + suffix, code="SZK" + suffix, unit="dzień", net_price=D("1800.00"), vat_rate="zw"),
                Product(name="Podręcznik" + suffix, code="PDR" + suffix, unit="szt.", net_price=D("59.90"), vat_rate="5"),
                Product(name="Montaż" + suffix, code="MNT" + suffix, unit="m²", net_price=D("35.50"), vat_rate="8"),
            ]
            db.session.add_all(products)
            db.session.flush()
            binder = Binder(name="Inwestycja Gdańsk" + suffix, contact_id=client.id)
            db.session.add(binder)
            db.session.commit()
            out = dict(client_id=client.id, mailing_contact_id=lead.id, binder_id=binder.id,
                       product_ids=[p.id for p in products], **info)
        db.session.remove()
    return out


def pdf_text(data: bytes) -> str:
    """Text of a PDF through pdftotext (poppler-utils)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True, check=True, text=True).stdout


def offer_form(seed: dict, **overrides: Any) -> dict:
    """POST data of the builder: three lines from the price list and one free line."""
    p = seed["product_ids"]
    data = {
        "contact_id": str(seed["client_id"]), "contact_label": "x", "template": "full", "language": "pl",
        "currency": "PLN", "valid_until": "", "reminder_on": "", "binder_id": str(seed["binder_id"]),
        "payment_terms": "Przelew 14 dni", "notes": "Dziękujemy za zapytanie.",
        "item_product_id": [str(p[0]), str(p[1]), str(p[2]), ""],
        "item_name": ["Wdrożenie systemu", "Szkolenie żółtodziobów", "Podręcznik", "Dojazd – ręcznie wpisany"],
        "item_code": ["WDR", "SZK", "PDR", ""],
        "item_unit": ["usł.", "dzień", "szt.", "km"],
        "item_quantity": ["1", "2", "3", "120,5"],
        "item_unit_price": ["4500.00", "1800", "59,90", "1,15"],
        "item_discount": ["10", "0", "0", "0"],
        "item_vat_rate": ["23", "zw", "5", "23"],
    }
    data.update(overrides)
    return data
