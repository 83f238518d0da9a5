"""Contacts: the rules of a company or person contact, and the pickers other sections use.

Bases live in ``bases.py``, the list and search engine in ``search.py``. The company and the
soft-delete filter of every query come from the global tenancy hook; outside a request, run
inside ``tenant_scope(company_id)``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models.contacts import CONTACT_KINDS, ClientBase, Contact
from app.models.mixins import utcnow
from app.services import DomainError, FieldChecks, inputs, trash, unit_of_work
from app.services import validators as v
from app.services.accounts import employees
from app.services.contacts.bases import get_base, require_base
from app.services.contacts.search import normalize, search_clause

#: at most this many contacts are offered by an as-you-type picker
PICK_LIMIT = 50

CONTACT_KIND_LABELS = {"company": _l("Company"), "person": _l("Person")}

#: longest accepted value of each free-text field of a contact (the form and the CSV import alike)
TEXT_LIMITS = {"name": 200, "first_name": 64, "last_name": 64, "position": 100, "street": 200,
               "city": 100, "notes": 5000}


def sort_key(kind: str, name: str, first_name: str | None = None, last_name: str | None = None) -> str:
    """The name_sort value: persons sort by last name, companies by name."""
    if kind == "person":
        return normalize(f"{last_name or ''} {first_name or ''}")[:200]
    return normalize(name)[:200]


# --------------------------------------------------------------------------- contacts

@dataclass
class ContactData:
    """Fields of the company and person forms (raw strings, as typed)."""

    kind: str = "company"
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    nip: str | None = None
    regon: str | None = None
    krs: str | None = None
    pesel: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    notes: str | None = None
    employer_id: Any | None = None
    owner_id: Any | None = None
    consent_given_at: Any | None = None
    consent_source: str | None = None
    consent_text: str | None = None
    extra: dict = field(default_factory=dict)


def get_contact(company_id: int, contact_id: int) -> Contact | None:
    """A live contact of this company by id, or None.

    ``Session.get`` answers from the identity map when the request already loaded the contact (the
    edit page and its service share one SELECT); the identity map skips the tenancy hook, hence
    the explicit checks.
    """
    # one statement: the tags, the base, the account manager and the employer joined to the contact
    contact = db.session.get(Contact, contact_id, options=[
        joinedload(Contact.tags), joinedload(Contact.base), joinedload(Contact.owner), joinedload(Contact.employer)])
    if contact is None or contact.company_id != company_id or contact.deleted_at is not None:
        return None
    return contact


def search_employers(company_id: int, base_id: int, q: str | None, limit: int = 20) -> list[Contact]:
    """Company contacts of one base for the as-you-type "works for" picker (searched like contacts)."""
    limit = max(1, min(int(limit or 20), PICK_LIMIT))
    stmt = (
        select(Contact)
        .where(Contact.base_id == base_id, Contact.kind == "company")
        .order_by(Contact.name_sort, Contact.id)
        .limit(limit)
    )
    clause = search_clause(q)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(db.session.execute(stmt).scalars())


def people_of(company_id: int, contact_id: int, limit: int = 100) -> list[Contact]:
    """Persons who work for a company contact, by name."""
    return list(
        db.session.execute(
            select(Contact)
            .where(Contact.employer_id == contact_id)
            .order_by(Contact.name_sort, Contact.id)
            .limit(limit)
        ).scalars()
    )


def _opt_int(value: Any, field_name: str) -> int | None:
    """An optional id chosen from a dropdown; DomainError on ``field_name`` when it is broken."""
    return inputs.parse_id(value, field_name, _l("Choose a value from the list."))


def clean_krs(value: str | None) -> str | None:
    """Return a KRS number as 10 digits (zero-padded), None when empty, or raise DomainError."""
    raw = re.sub(r"[\s-]", "", value or "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise DomainError(_l("KRS number must have up to 10 digits."), "krs")
    return raw.zfill(10)


_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]{2,}(/\S*)?$", re.IGNORECASE)


def clean_website(value: str | None) -> str | None:
    """Return a website address with its http(s):// scheme, None when empty, or raise DomainError."""
    raw = v.clean_text(value, "website", _l("Website"), 200)
    if raw is None:
        return None
    if not re.match(r"^https?://", raw, re.IGNORECASE):
        raw = "https://" + raw
    if not _URL.match(raw):
        raise DomainError(_l("Website address is not valid, e.g. www.firma.pl."), "website")
    return raw


def _clean_consent_date(value: Any) -> dt.datetime | None:
    """The date a marketing consent was given (not in the future), None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime.combine(value, dt.time())
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise DomainError(_l("Enter the date the consent was given."), "consent_given_at") from None
    if when > utcnow() + dt.timedelta(days=1):
        raise DomainError(_l("The consent date cannot be in the future."), "consent_given_at")
    return when


def _clean_company(checks: FieldChecks, data: ContactData) -> dict[str, Any]:
    """The company-only fields (every refusal recorded in ``checks``)."""
    return {
        "name": checks.run(v.clean_text, data.name, "name", _l("Company name"), TEXT_LIMITS["name"], required=True),
        "first_name": None, "last_name": None, "position": None, "pesel": None, "employer_id": None,
        "nip": checks.run(v.clean_nip, data.nip) if data.nip and data.nip.strip() else None,
        "regon": checks.run(v.clean_regon, data.regon),
        "krs": checks.run(clean_krs, data.krs),
        "website": checks.run(clean_website, data.website),
    }


def _clean_employer(company_id: int, base: ClientBase, value: Any, contact_id: int | None) -> int | None:
    """The company a person works for: a company contact of the same base (never the person)."""
    employer_id = _opt_int(value, "employer_id")
    if employer_id is not None:
        employer = get_contact(company_id, employer_id)
        if employer is None or employer.base_id != base.id or employer.kind != "company" or employer_id == contact_id:
            raise DomainError(_l("Choose a company from the same client base."), "employer_id")
    return employer_id


def _clean_person(
    checks: FieldChecks, company_id: int, base: ClientBase, data: ContactData, contact_id: int | None
) -> dict[str, Any]:
    """The person-only fields (every refusal recorded in ``checks``)."""
    first = checks.run(v.clean_text, data.first_name, "first_name", _l("First name"), TEXT_LIMITS["first_name"],
                       required=True)
    last = checks.run(v.clean_text, data.last_name, "last_name", _l("Last name"), TEXT_LIMITS["last_name"],
                      required=True)
    return {
        "first_name": first, "last_name": last, "name": f"{first} {last}",
        "position": checks.run(v.clean_text, data.position, "position", _l("Position"), TEXT_LIMITS["position"]),
        "pesel": checks.run(v.clean_pesel, data.pesel),
        "nip": None, "regon": None, "krs": None, "website": None,
        "employer_id": checks.run(_clean_employer, company_id, base, data.employer_id, contact_id),
    }


def _clean_owner(company_id: int, value: Any) -> int | None:
    """The account manager: an active employee of the company, or None."""
    owner_id = _opt_int(value, "owner_id")
    if owner_id is not None and owner_id not in {u.id for u in employees.active_people(company_id)}:
        raise DomainError(_l("Choose an active employee of your company."), "owner_id")
    return owner_id


def _clean_consent(checks: FieldChecks, data: ContactData) -> dict[str, Any]:
    """The marketing consent a mailing-base contact needs: date, how, and its text."""
    out = {
        "consent_given_at": checks.run(_clean_consent_date, data.consent_given_at),
        "consent_source": checks.run(v.clean_text, data.consent_source, "consent_source",
                                     _l("How the consent was given"), 200),
        "consent_text": checks.run(v.clean_text, data.consent_text, "consent_text", _l("Consent text"), 5000),
    }
    missing = {
        "consent_given_at": _l("A mailing base contact needs the date of the marketing consent."),
        "consent_source": _l("Say how the marketing consent was given."),
        "consent_text": _l("Enter the text of the marketing consent."),
    }
    for name, message in missing.items():
        if not out[name] and name not in checks.errors:
            checks.refuse(message, name)
    return out


def _clean_contact(company_id: int, base: ClientBase, data: ContactData, contact_id: int | None) -> dict[str, Any]:
    """Every field of the form validated for a contact of ``base``: the columns to write.

    All fields are checked in one pass; the refusals come together as one ``FieldErrors``.
    """
    kind = data.kind
    if kind not in CONTACT_KINDS:
        raise DomainError(_l("Choose whether you add a company or a person."), "kind")
    checks = FieldChecks()
    out: dict[str, Any] = {"kind": kind}
    if kind == "company":
        out.update(_clean_company(checks, data))
    else:
        out.update(_clean_person(checks, company_id, base, data, contact_id))
    out["street"] = checks.run(v.clean_text, data.street, "street", _l("Street and number"), TEXT_LIMITS["street"])
    out["postal_code"] = checks.run(v.clean_postal_code, data.postal_code)
    out["city"] = checks.run(v.clean_text, data.city, "city", _l("City"), TEXT_LIMITS["city"])
    out["city_norm"] = normalize(out["city"])[:100] or None
    out["email"] = checks.run(v.clean_email, data.email, required=base.is_mailing)
    out["phone"] = checks.run(v.clean_phone, data.phone)
    out["notes"] = checks.run(v.clean_text, data.notes, "notes", _l("Notes"), TEXT_LIMITS["notes"])
    out["owner_id"] = checks.run(_clean_owner, company_id, data.owner_id)
    if base.is_mailing:
        out.update(_clean_consent(checks, data))
    else:
        out["consent_given_at"] = out["consent_source"] = out["consent_text"] = None
    checks.raise_if_any()
    out["name_sort"] = sort_key(kind, out["name"], out["first_name"], out["last_name"])
    return out


@unit_of_work
def create_contact(company_id: int, base_id: int, data: ContactData) -> Contact:
    """Add a company or a person to a base (every field validated; refusals say why)."""
    base = require_base(company_id, base_id)
    contact = Contact(company_id=company_id, base_id=base.id, **_clean_contact(company_id, base, data, None))
    db.session.add(contact)
    db.session.flush()
    return contact


@unit_of_work
def update_contact(company_id: int, contact_id: int, data: ContactData) -> Contact:
    """Change a contact's data (its kind and base stay)."""
    contact = require_contact(company_id, contact_id)
    data.kind = contact.kind
    base = require_base(company_id, contact.base_id)
    for key, value in _clean_contact(company_id, base, data, contact.id).items():
        setattr(contact, key, value)
    return contact


@unit_of_work
def delete_contacts(company_id: int, contact_ids: list[Any], user_id: int | None) -> str:
    """Move contacts to the trash in one operation; every id must be this company's."""
    return trash.soft_delete(require_contacts(company_id, contact_ids), user_id)


def require_contact(company_id: int, contact_id: Any) -> Contact:
    """A live contact of this company, or DomainError (missing, foreign or broken id)."""
    ident = inputs.to_id(contact_id)
    contact = get_contact(company_id, ident) if ident is not None else None
    if contact is None:
        raise DomainError(_l("This contact does not exist."), "contact_id")
    return contact


def require_contacts(company_id: int, contact_ids: list[Any]) -> list[Contact]:
    """Live contacts of this company by ids; DomainError when any id is not one of them."""
    ids = inputs.parse_ids(contact_ids, "contact_id", _l("This contact does not exist."))
    if not ids:
        raise DomainError(_l("Select at least one contact."), "contact_id")
    found = list(
        db.session.execute(
            select(Contact).where(Contact.id.in_(ids))
        ).scalars()
    )
    if len(found) != len(ids):
        raise DomainError(_l("This contact does not exist."), "contact_id")
    return found


# --------------------------------------------------------------------------- pickers (offers, invoices, tasks)

def pickable_contact(company_id: int, contact_id: Any) -> Contact:
    """A contact that may be used in offers, invoices and tasks; DomainError otherwise.

    Refuses missing and foreign ids and every contact of a "Baza mailingowa".
    """
    contact = require_contact(company_id, contact_id)
    base = get_base(company_id, contact.base_id)
    if base is None:
        raise DomainError(_l("This contact does not exist."), "contact_id")
    if base.is_mailing:
        raise DomainError(
            _l("A contact from a mailing base cannot be used in offers, invoices or tasks."), "contact_id"
        )
    return contact


def search_pickable(company_id: int, q: str | None, limit: int = 20) -> list[Contact]:
    """Contacts for as-you-type pickers: standard bases only, never a mailing base."""
    limit = max(1, min(int(limit or 20), PICK_LIMIT))
    standard = select(ClientBase.id).where(ClientBase.kind == "contacts")
    stmt = (
        select(Contact)
        .where(Contact.base_id.in_(standard))
        .options(selectinload(Contact.base))
        .order_by(Contact.name_sort, Contact.id)
        .limit(limit)
    )
    clause = search_clause(q)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(db.session.execute(stmt).scalars())
