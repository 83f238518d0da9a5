"""Company accounts: sign-up with a free licence, company data, logo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.extensions import appbuilder, db
from app.models.company import Company
from app.models.users import CrmUser
from app.security import roles
from app.services import DomainError, FieldChecks, clock, unit_of_work
from app.services import validators as v
from app.services.accounts.passwords import check_password
from app.services.images import process_image
from app.services.platform import legal, plans


@dataclass
class SignupData:
    """What the public "Załóż konto" form collects."""

    company_name: str
    nip: str
    first_name: str
    last_name: str
    email: str
    password: str
    #: the versions of the terms and the data-processing agreement the person accepted (LegalDocument ids)
    accepted_documents: tuple[int, ...] = ()
    #: the IP address the acceptance came from
    ip: Optional[str] = None


def email_taken(email: str, exclude_user_id: Optional[int] = None) -> bool:
    """True when a user (of any company) already signs in with ``email``."""
    stmt = select(CrmUser.id).where(
        (func.lower(CrmUser.email) == email.lower()) | (func.lower(CrmUser.username) == email.lower())
    )
    if exclude_user_id is not None:
        stmt = stmt.where(CrmUser.id != exclude_user_id)
    return db.session.execute(stmt).first() is not None


def nip_taken(nip: str, exclude_company_id: Optional[int] = None) -> bool:
    """True when a company account with this NIP already exists."""
    stmt = select(Company.id).where(Company.nip == nip)
    if exclude_company_id is not None:
        stmt = stmt.where(Company.id != exclude_company_id)
    return db.session.execute(stmt).first() is not None


def company_role(name: str) -> Any:
    """The FAB role of a company person by name; DomainError when `flask crm init` has not run."""
    role = appbuilder.sm.find_role(name)
    if role is None:
        raise DomainError(_l("Roles are not set up; run 'flask crm init'."))
    return role


class NipTaken(DomainError):
    """The NIP already has a company account (the sign-up page then offers a claim)."""

    def __init__(self, nip: str) -> None:
        super().__init__(_l("A company with this NIP already has an account."), "nip")
        self.nip = nip


@unit_of_work
def register_company(data: SignupData, today: Optional[dt.date] = None, *, confirmed: bool = True) -> CrmUser:
    """Create a company with a free trial licence and its owner; return the owner.

    Code (CLI, demo data, tests, an approved NIP claim) gets a usable account at once. The public
    sign-up passes ``confirmed=False``: the account stays unusable until the owner clicks the
    e-mailed link (app/services/accounts/signups.py), and its trial starts then.
    """
    name, nip, first, last, email = validate_signup(data)
    company = Company(
        name=name,
        nip=nip,
        email=email,
        signup_email=email,
        plan="trial",
        confirmed_at=clock.utc_now() if confirmed else None,
    )
    start_trial(company, today)
    db.session.add(company)
    db.session.flush()
    owner = new_user(company, first, last, email, data.password, roles.OWNER)
    db.session.add(owner)
    db.session.flush()
    if data.accepted_documents:
        legal.record_acceptance(company.id, owner, data.accepted_documents, data.ip)
    return owner


def _required(value: Optional[str]) -> str:
    """A value a validator was told is required (so it is never None)."""
    return value or ""


def validate_signup(data: SignupData) -> tuple[str, str, str, str, str]:
    """Check a sign-up (DomainError on the first problem); return name, NIP, first and last name, e-mail."""
    name = _required(v.clean_text(data.company_name, "company_name", _l("Company name"), 200, required=True))
    nip = v.clean_nip(data.nip)
    first = _required(v.clean_text(data.first_name, "first_name", _l("First name"), 64, required=True))
    last = _required(v.clean_text(data.last_name, "last_name", _l("Last name"), 64, required=True))
    email = _required(v.clean_email(data.email, required=True))
    check_password(data.password, [first, last, email, name])
    if nip_taken(nip):
        raise NipTaken(nip)
    if email_taken(email):
        raise DomainError(_l("This e-mail address is already used by another account."), "email")
    return name, nip, first, last, email


def start_trial(company: Company, today: Optional[dt.date] = None) -> None:
    """Give the company the free licence of TRIAL_DAYS days, counting ``today`` (the caller commits)."""
    today = today or dt.date.today()  # the same day Company.licence_days_left counts from
    company.plan = "trial"
    company.licence_valid_until = today + dt.timedelta(days=int(current_app.config["TRIAL_DAYS"]) - 1)


def new_user(company: Company, first: str, last: str, email: str, password: Optional[str], role: str) -> CrmUser:
    """A new active user of ``company`` with one role (no password: set later through a link)."""
    user = CrmUser(
        first_name=first,
        last_name=last,
        username=email,
        email=email,
        active=True,
        company_id=company.id,
    )
    user.roles = [company_role(role)]
    user.password = hash_password(password) if password else None
    return user


def hash_password(password: str) -> str:
    """Salted one-way hash (FAB's configured method, scrypt by default)."""
    return generate_password_hash(
        password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"), salt_length=16
    )


def get_company(company_id: int) -> Optional[Company]:
    """One company account by id, or None."""
    return db.session.get(Company, company_id)


@dataclass
class CompanyData:
    """Fields of the "Dane firmy" settings tab."""

    name: str
    nip: str
    regon: Optional[str] = None
    street: Optional[str] = None
    postal_code: Optional[str] = None
    city: Optional[str] = None
    iban: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None


@unit_of_work
def update_company(
    company: Company, data: CompanyData, logo: Optional[bytes] = None, remove_logo: bool = False
) -> Company:
    """Validate and save company data (and logo); nothing changes when any field is wrong."""
    checks = FieldChecks()
    clean: dict[str, Any] = dict(
        name=checks.run(v.clean_text, data.name, "name", _l("Company name"), 200, required=True),
        nip=checks.run(v.clean_nip, data.nip),
        regon=checks.run(v.clean_regon, data.regon),
        street=checks.run(v.clean_text, data.street, "street", _l("Street"), 200),
        postal_code=checks.run(v.clean_postal_code, data.postal_code),
        city=checks.run(v.clean_text, data.city, "city", _l("City"), 100),
        iban=checks.run(v.clean_iban, data.iban),
        email=checks.run(v.clean_email, data.email),
        phone=checks.run(v.clean_phone, data.phone),
    )
    if logo:
        image = checks.run(process_image, logo, current_app.config["LOGO_MAX_BYTES"], 400, field="logo")
        if image is not None:
            clean["logo"], clean["logo_mime"] = image
            checks.run(plans.check_storage, company.id, len(image[0]) - len(company.logo or b""), field="logo")
    elif remove_logo:
        clean["logo"] = clean["logo_mime"] = None
    if clean["nip"] and nip_taken(clean["nip"], exclude_company_id=company.id):
        checks.refuse(_l("A company with this NIP already has an account."), "nip")
    checks.raise_if_any()
    for key, value in clean.items():
        setattr(company, key, value)
    company.nip_lost_at = None  # a NIP moved away on a claim is fixed once a new one is saved
    return company
