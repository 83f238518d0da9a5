"""Demo company for `make run`: an owner, an employee and a little sample data.

Not one unit of work: each step is a service with its own unit, and the sample data is written in
the demo company's scope (``tenant_scope``), step by step, so a second run adds what is missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import select

from app.extensions import db
from app.models.company import Company
from app.models.contacts import ClientBase, Contact
from app.models.invoicing import Invoice
from app.models.sales import Product
from app.models.users import CrmUser
from app.security import roles
from app.security.tenancy import tenant_scope
from app.services import clock
from app.services.accounts import companies as tenancy
from app.services.accounts import employees
from app.services.contacts import bases, contacts, tags
from app.services.invoicing import invoices, ksef, payments
from app.services.invoicing import series as series_svc
from app.services.invoicing.invoices import InvoiceData, LineData
from app.services.platform import legal
from app.services.sales import products

DEMO_NIP = "5260250274"
DEMO_OWNER = "wlasciciel@demo.klientela.pl"
DEMO_EMPLOYEE = "pracownik@demo.klientela.pl"
DEMO_ADMIN = "admin@demo.klientela.pl"
DEMO_PASSWORD = "Zielony-Słoń-Tańczy-42!"
#: the KSeF token of the demo company; `make run` starts the local fake KSeF knowing it for DEMO_NIP
DEMO_KSEF_TOKEN = "demo-ksef-token-klientela-5260250274"


def create_demo() -> Optional[dict[str, str]]:
    """Create the demo company once; return the credentials, or None when it exists."""
    existing = db.session.execute(select(Company.id).where(Company.nip == DEMO_NIP)).scalar()
    if existing is not None:
        add_demo_contacts(existing)
        add_demo_ksef(existing)
        return None
    owner = tenancy.register_company(
        tenancy.SignupData(
            company_name="Demo Sp. z o.o.",
            nip=DEMO_NIP,
            first_name="Anna",
            last_name="Kowalska",
            email=DEMO_OWNER,
            password=DEMO_PASSWORD,
            accepted_documents=tuple(d.id for d in legal.current_documents()),  # as at a sign-up
        )
    )
    company = owner.company
    if company is None:  # register_company always creates the company with its owner
        raise RuntimeError("the demo owner has no company")
    tenancy.update_company(
        company,
        tenancy.CompanyData(
            name="Demo Sp. z o.o.", nip=DEMO_NIP, regon="012345675", street="ul. Marszałkowska 1",
            postal_code="00-001", city="Warszawa", iban="PL61109010140000071219812874",
            email="biuro@demo.klientela.pl", phone="+48221234567",
        ),
    )
    employees.add_employee(
        owner,
        employees.EmployeeData(
            first_name="Piotr", last_name="Nowak", email=DEMO_EMPLOYEE,
            role=roles.EMPLOYEE, position="Handlowiec", password=DEMO_PASSWORD,
        ),
    )
    add_demo_contacts(company.id)
    add_demo_products(company.id)
    add_demo_ksef(company.id)
    add_demo_invoices(company.id)
    return {"owner": DEMO_OWNER, "employee": DEMO_EMPLOYEE, "password": DEMO_PASSWORD}


DEMO_CONSENT: dict[str, Any] = {
    "consent_given_at": "2026-01-15",
    "consent_source": "Formularz zapisu na newsletter na stronie www",
    "consent_text": "Wyrażam zgodę na otrzymywanie informacji handlowych drogą elektroniczną od Demo Sp. z o.o.",
}


def add_demo_contacts(company_id: int) -> None:
    """Sample client bases, contacts and tags of the demo company; skipped when already there."""
    with tenant_scope(company_id):
        if db.session.execute(select(ClientBase.id)).first():
            return
        vip = tags.create_tag(company_id, "VIP", "#d9342b")
        hurt = tags.create_tag(company_id, "Hurtownia", "#1f6fd1")
        base = bases.create_base(company_id, "Klienci", "contacts")
        firms = [
            ("Hurtownia Żółw Sp. z o.o.", "4857083934", "938570837", "ul. Piotrkowska 100", "90-001", "Łódź",
             "biuro@zolw.pl", "426301234", "www.zolw.pl"),
            ("Stolarnia Dąb s.c.", "3952892645", "295289262", "ul. Leśna 7", "30-001", "Kraków",
             "kontakt@stolarnia-dab.pl", "126001122", None),
            ("Ślusarz Nowak", "8319167510", "731916753", "ul. Portowa 3", "80-001", "Gdańsk",
             "slusarz@nowak.pl", "601234567", None),
        ]
        ids: list[int] = []
        for name, nip, regon, street, postal, city, email, phone, www in firms:
            c = contacts.create_contact(company_id, base.id, contacts.ContactData(
                kind="company", name=name, nip=nip, regon=regon, street=street, postal_code=postal, city=city,
                email=email, phone=phone, website=www))
            ids.append(c.id)
        for first, last, position, employer, person_email, person_phone in [
            ("Jan", "Kowalski", "Prezes zarządu", ids[0], "jan.kowalski@zolw.pl", "601100200"),
            ("Małgorzata", "Wiśniewska", "Główna księgowa", ids[0], "m.wisniewska@zolw.pl", None),
            ("Tomasz", "Dąbrowski", "Właściciel", ids[1], "tomasz@stolarnia-dab.pl", "602300400"),
        ]:
            contacts.create_contact(company_id, base.id, contacts.ContactData(
                kind="person", first_name=first, last_name=last, position=position, employer_id=employer,
                email=person_email, phone=person_phone))
        tags.tag_contacts(company_id, [ids[0], ids[1]], vip.id)
        tags.tag_contacts(company_id, [ids[0]], hurt.id)
        mailing = bases.create_base(company_id, "Newsletter", "mailing")
        for first, last, email in [("Ewa", "Zielińska", "ewa.zielinska@example.pl"),
                                   ("Paweł", "Lewandowski", "pawel.l@example.pl"),
                                   ("Zofia", "Kamińska", "zofia.kaminska@example.pl")]:
            contacts.create_contact(company_id, mailing.id, contacts.ContactData(
                kind="person", first_name=first, last_name=last, email=email, **DEMO_CONSENT))


def add_demo_products(company_id: int) -> None:
    """A small price list ("Cennik") for the demo company; skipped when it has one."""
    with tenant_scope(company_id):
        if db.session.execute(select(Product.id)).first():
            return
        for data in products.demo_products():
            products.create_product(company_id, data)


def add_demo_invoices(company_id: int) -> None:
    """The default series and three invoices of the demo company (paid, overdue, draft); skipped when it has any."""
    with tenant_scope(company_id):
        if db.session.execute(select(Invoice.id).where(Invoice.company_id == company_id)).first():
            return
        owner = db.session.execute(select(CrmUser).where(CrmUser.email == DEMO_OWNER)).scalar_one()
        buyers = db.session.execute(
            select(Contact.id).where(Contact.company_id == company_id, Contact.kind == "company",
                                     Contact.nip.is_not(None)).order_by(Contact.id)).scalars().all()
        if len(buyers) < 2:
            return
        series_svc.default_series(company_id, "vat")
        db.session.commit()
        today = clock.local_today()

        def draft(buyer: int, days_ago: int, due_in: int, items: list[LineData]) -> int:
            day = today - dt.timedelta(days=days_ago)
            return invoices.create_draft(company_id, owner, InvoiceData(
                contact_id=buyer, issue_date=day, sale_date=day, due_date=day + dt.timedelta(days=due_in),
                payment_method="transfer", items=items)).id

        paid = draft(buyers[0], 20, 14, [
            LineData(name="Krzesło biurowe ergonomiczne", quantity="4", unit_price="549,00", rate="23"),
            LineData(name="Montaż i dostawa", unit="usł.", quantity="1", unit_price="150,00", rate="23")])
        invoice = invoices.issue(company_id, owner, paid)
        payments.add_payment(company_id, owner, paid, payments.PaymentData(
            amount=str(invoice.total_gross).replace(".", ","), paid_on=today - dt.timedelta(days=10)))
        overdue = draft(buyers[1], 45, 14, [
            LineData(name="Blat dębowy na wymiar", unit="m2", quantity="3,5", unit_price="420,00", rate="23"),
            LineData(name="Projekt zabudowy kuchennej", unit="usł.", quantity="1", unit_price="800,00", rate="8")])
        invoices.issue(company_id, owner, overdue)
        draft(buyers[-1], 0, 14, [LineData(name="Szafa przesuwna na wymiar", quantity="1", unit_price="3200,00",
                                           rate="23")])


def add_demo_ksef(company_id: int) -> None:
    """KSeF settings of the demo company: test environment, the token the local fake knows."""
    with tenant_scope(company_id):
        if ksef.has_token(company_id):
            return
        ksef.save_settings(company_id, ksef.SettingsData("test", DEMO_KSEF_TOKEN, False))
