"""Demo company for `make run`: an owner, an employee and a little sample data."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from app.extensions import db
from app.models.company import Company
from app.security import roles
from app.services import employees, tenancy

DEMO_NIP = "5260250274"
DEMO_OWNER = "wlasciciel@demo.klientela.pl"
DEMO_EMPLOYEE = "pracownik@demo.klientela.pl"
DEMO_ADMIN = "admin@demo.klientela.pl"
DEMO_PASSWORD = "Zielony-Słoń-Tańczy-42!"


def create_demo() -> Optional[dict]:
    """Create the demo company once; return the credentials, or None when it exists."""
    if db.session.execute(select(Company.id).where(Company.nip == DEMO_NIP)).first():
        return None
    owner = tenancy.register_company(
        tenancy.SignupData(
            company_name="Demo Sp. z o.o.",
            nip=DEMO_NIP,
            first_name="Anna",
            last_name="Kowalska",
            email=DEMO_OWNER,
            password=DEMO_PASSWORD,
        )
    )
    company = owner.company
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
    return {"owner": DEMO_OWNER, "employee": DEMO_EMPLOYEE, "password": DEMO_PASSWORD}
