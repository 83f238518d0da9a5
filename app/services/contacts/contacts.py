"""Client bases and contacts: rules, fast keyset lists and search, pickers for other sections.

Callable without HTTP: pass ``company_id`` explicitly and, outside a request, run inside
``tenant_scope(company_id)`` (the global tenancy hook filters every SELECT by it as well).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, column, func, literal_column, or_, select, table, text, tuple_, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.contacts import (
    BASE_KINDS,
    CONTACT_KINDS,
    ClientBase,
    Contact,
    contact_tag,
)
from app.models.mixins import utcnow
from app.security.tenancy import current_company_id
from app.services import DomainError, inputs, transaction, trash
from app.services import validators as v
from app.services.accounts import employees

#: the list shows "over 10 000" instead of counting every row of a huge base
COUNT_CAP = 10_000
#: SQLite: from this many matches, walking the name index beats fetching and sorting all matches
WALK_FROM = 1000
#: SQLite: from this many substring matches, walking the name index with LIKE beats FTS + sort
FTS_WALK_FROM = 3000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SORTS = ("name", "-name")
#: at most this many companies are offered in the "works for" dropdown of a person
EMPLOYER_CHOICES_LIMIT = 1000

BASE_KIND_LABELS = {"contacts": _l("Contacts"), "mailing": _l("Mailing base")}
CONTACT_KIND_LABELS = {"company": _l("Company"), "person": _l("Person")}

#: longest accepted value of each free-text field of a contact (the form and the CSV import alike)
TEXT_LIMITS = {"name": 200, "first_name": 64, "last_name": 64, "position": 100, "street": 200,
               "city": 100, "notes": 5000}

_NON_WORD = re.compile(r"[^0-9a-z@]+")


# --------------------------------------------------------------------------- normalisation

def normalize(text: str | None) -> str:
    """Lower-case, strip Polish (and other) diacritics and punctuation, collapse spaces."""
    raw = (text or "").replace("ł", "l").replace("Ł", "L")
    raw = unicodedata.normalize("NFKD", raw)
    raw = "".join(c for c in raw if not unicodedata.combining(c)).lower()
    return " ".join(_NON_WORD.sub(" ", raw).split())


def sort_key(kind: str, name: str, first_name: str | None = None, last_name: str | None = None) -> str:
    """The name_sort value: persons sort by last name, companies by name."""
    if kind == "person":
        return normalize(f"{last_name or ''} {first_name or ''}")[:200]
    return normalize(name)[:200]


# --------------------------------------------------------------------------- client bases

def get_base(company_id: int, base_id: int) -> ClientBase | None:
    """A live base of this company by id, or None (another company's id gives None)."""
    return db.session.execute(
        select(ClientBase).where(ClientBase.id == base_id, ClientBase.company_id == company_id)
    ).scalar_one_or_none()


def company_bases(company_id: int) -> list[ClientBase]:
    """The company's live bases ordered by name (for lists and "which base" dropdowns)."""
    return list(
        db.session.execute(
            select(ClientBase).where(ClientBase.company_id == company_id).order_by(ClientBase.name)
        ).scalars()
    )


def list_bases(company_id: int) -> list[tuple[ClientBase, int, bool]]:
    """The company's bases ordered by name, each with its capped count of live contacts."""
    return [(b, *count_contacts(company_id, b.id)) for b in company_bases(company_id)]


def _clean_base(company_id: int, name: str, exclude_id: int | None = None) -> str:
    clean = v.clean_text(name, "name", _l("Name"), 120, required=True)
    stmt = select(ClientBase.id).where(ClientBase.company_id == company_id, ClientBase.name == clean)
    if exclude_id is not None:
        stmt = stmt.where(ClientBase.id != exclude_id)
    if db.session.execute(stmt).first():
        raise DomainError(_l("A client base with this name already exists."), "name")
    return clean


def create_base(company_id: int, name: str, kind: str) -> ClientBase:
    """Add a client base ("Kontakty" or "Baza mailingowa")."""
    if kind not in BASE_KINDS:
        raise DomainError(_l("Choose the kind of the base."), "kind")
    clean = _clean_base(company_id, name)
    try:
        with transaction() as session:
            base = ClientBase(company_id=company_id, name=clean, kind=kind)
            session.add(base)
    except IntegrityError:
        raise DomainError(_l("A client base with this name already exists."), "name") from None
    return base


def rename_base(company_id: int, base_id: int, name: str) -> ClientBase:
    """Rename a base (its kind stays: mailing consent records depend on it)."""
    base = require_base(company_id, base_id)
    clean = _clean_base(company_id, name, exclude_id=base.id)
    try:
        with transaction():
            base.name = clean
    except IntegrityError:
        raise DomainError(_l("A client base with this name already exists."), "name") from None
    return base


def delete_base(company_id: int, base_id: int, user_id: int | None) -> str:
    """Move a base and all its contacts to the trash in one operation; return its deletion id."""
    return trash.soft_delete(require_base(company_id, base_id), user_id)


def require_base(company_id: int, base_id: Any) -> ClientBase:
    """A live base of this company, or DomainError (missing, foreign or broken id)."""
    ident = inputs.to_id(base_id)
    base = get_base(company_id, ident) if ident is not None else None
    if base is None:
        raise DomainError(_l("This client base does not exist."), "base_id")
    return base


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
    """A live contact of this company by id, or None."""
    return db.session.execute(
        select(Contact)
        .where(Contact.id == contact_id, Contact.company_id == company_id)
        .options(selectinload(Contact.tags))
    ).scalar_one_or_none()


def employer_choices(company_id: int, base_id: int, limit: int = EMPLOYER_CHOICES_LIMIT) -> list[Contact]:
    """Company contacts of one base, by name: who a person can work for."""
    return list(
        db.session.execute(
            select(Contact)
            .where(Contact.company_id == company_id, Contact.base_id == base_id, Contact.kind == "company")
            .order_by(Contact.name_sort, Contact.id)
            .limit(limit)
        ).scalars()
    )


def people_of(company_id: int, contact_id: int, limit: int = 100) -> list[Contact]:
    """Persons who work for a company contact, by name."""
    return list(
        db.session.execute(
            select(Contact)
            .where(Contact.company_id == company_id, Contact.employer_id == contact_id)
            .order_by(Contact.name_sort, Contact.id)
            .limit(limit)
        ).scalars()
    )


def _opt_int(value: Any, field_name: str) -> int | None:
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


def _clean_contact(company_id: int, base: ClientBase, data: ContactData, contact_id: int | None) -> dict:
    kind = data.kind
    if kind not in CONTACT_KINDS:
        raise DomainError(_l("Choose whether you add a company or a person."), "kind")
    out: dict[str, Any] = {"kind": kind}
    if kind == "company":
        out["name"] = v.clean_text(data.name, "name", _l("Company name"), TEXT_LIMITS["name"], required=True)
        out["first_name"] = out["last_name"] = out["position"] = out["pesel"] = None
        out["employer_id"] = None
        out["nip"] = v.clean_nip(data.nip) if (data.nip or "").strip() else None
        out["regon"] = v.clean_regon(data.regon)
        out["krs"] = clean_krs(data.krs)
        out["website"] = clean_website(data.website)
    else:
        first = v.clean_text(data.first_name, "first_name", _l("First name"), TEXT_LIMITS["first_name"], required=True)
        last = v.clean_text(data.last_name, "last_name", _l("Last name"), TEXT_LIMITS["last_name"], required=True)
        out.update(first_name=first, last_name=last, name=f"{first} {last}")
        out["position"] = v.clean_text(data.position, "position", _l("Position"), TEXT_LIMITS["position"])
        out["pesel"] = v.clean_pesel(data.pesel)
        out["nip"] = out["regon"] = out["krs"] = out["website"] = None
        employer_id = _opt_int(data.employer_id, "employer_id")
        if employer_id is not None:
            employer = get_contact(company_id, employer_id)
            if employer is None or employer.base_id != base.id or employer.kind != "company" or employer_id == contact_id:
                raise DomainError(_l("Choose a company from the same client base."), "employer_id")
        out["employer_id"] = employer_id
    out["street"] = v.clean_text(data.street, "street", _l("Street and number"), TEXT_LIMITS["street"])
    out["postal_code"] = v.clean_postal_code(data.postal_code)
    out["city"] = v.clean_text(data.city, "city", _l("City"), TEXT_LIMITS["city"])
    out["city_norm"] = normalize(out["city"])[:100] or None
    out["email"] = v.clean_email(data.email, required=base.is_mailing)
    out["phone"] = v.clean_phone(data.phone)
    out["notes"] = v.clean_text(data.notes, "notes", _l("Notes"), TEXT_LIMITS["notes"])
    owner_id = _opt_int(data.owner_id, "owner_id")
    if owner_id is not None and owner_id not in {u.id for u in employees.active_people(company_id)}:
        raise DomainError(_l("Choose an active employee of your company."), "owner_id")
    out["owner_id"] = owner_id
    if base.is_mailing:
        out["consent_given_at"] = _clean_consent_date(data.consent_given_at)
        if out["consent_given_at"] is None:
            raise DomainError(
                _l("A mailing base contact needs the date of the marketing consent."), "consent_given_at"
            )
        out["consent_source"] = v.clean_text(data.consent_source, "consent_source", _l("How the consent was given"), 200)
        if not out["consent_source"]:
            raise DomainError(_l("Say how the marketing consent was given."), "consent_source")
        out["consent_text"] = v.clean_text(data.consent_text, "consent_text", _l("Consent text"), 5000)
        if not out["consent_text"]:
            raise DomainError(_l("Enter the text of the marketing consent."), "consent_text")
    else:
        out["consent_given_at"] = out["consent_source"] = out["consent_text"] = None
    out["name_sort"] = sort_key(kind, out["name"], out["first_name"], out["last_name"])
    return out


def create_contact(company_id: int, base_id: int, data: ContactData) -> Contact:
    """Add a company or a person to a base (every field validated; refusals say why)."""
    base = require_base(company_id, base_id)
    clean = _clean_contact(company_id, base, data, None)
    with transaction() as session:
        contact = Contact(company_id=company_id, base_id=base.id, **clean)
        session.add(contact)
    return contact


def update_contact(company_id: int, contact_id: int, data: ContactData) -> Contact:
    """Change a contact's data (its kind and base stay)."""
    contact = require_contact(company_id, contact_id)
    data.kind = contact.kind
    base = require_base(company_id, contact.base_id)
    clean = _clean_contact(company_id, base, data, contact.id)
    with transaction():
        for key, value in clean.items():
            setattr(contact, key, value)
    return contact


def delete_contacts(company_id: int, contact_ids: list[Any], user_id: int | None) -> str:
    """Move contacts to the trash in one operation; every id must be this company's."""
    contacts = require_contacts(company_id, contact_ids)
    return trash.soft_delete(contacts, user_id)


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
            select(Contact).where(Contact.company_id == company_id, Contact.id.in_(ids))
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


def search_pickable(q: str | None, limit: int = 20, company_id: int | None = None) -> list[Contact]:
    """Contacts for as-you-type pickers: standard bases only, never a mailing base."""
    company_id = company_id if company_id is not None else current_company_id()
    if company_id is None:
        return []
    limit = max(1, min(int(limit or 20), 50))
    standard = select(ClientBase.id).where(ClientBase.company_id == company_id, ClientBase.kind == "contacts")
    stmt = (
        select(Contact)
        .where(Contact.company_id == company_id, Contact.base_id.in_(standard))
        .options(selectinload(Contact.base))
        .order_by(Contact.name_sort, Contact.id)
        .limit(limit)
    )
    clause = search_clause(company_id, q)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(db.session.execute(stmt).scalars())


# --------------------------------------------------------------------------- list and search

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _prefix(col: Any, prefix: str) -> Any:
    """Index-friendly "starts with": a range on the b-tree (binary order)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(col >= prefix, col < upper)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(company_id: int, q: str | None, dense: bool = False) -> Any:
    """WHERE clause for a search by name, e-mail, NIP, phone or city (None for an empty query).

    Terms of 3+ characters are substring searches: PostgreSQL through pg_trgm GIN indexes that
    start with company_id, SQLite through the FTS5 trigram table ``contact_fts`` (migration
    0008) joined back to contact on id and company_id. Shorter terms are "starts with" ranges on
    the (company_id, column) b-trees. Names and cities are searched in their normalised columns,
    so both databases ignore case and Polish diacritics alike. ``dense`` (SQLite, over COUNT_CAP
    matches): the same substring test as a LIKE per row, cheaper while walking the name index.
    """
    raw = (q or "").strip()
    if not raw:
        return None
    conds, _prefix_only, _fts, _parts = _search_conds(raw, like=dense)
    if not conds:
        return Contact.id.is_(None)
    return or_(*(and_(Contact.company_id == company_id, c) for c in conds))


def _search_conds(raw: str, like: bool = False) -> tuple[list[Any], bool, str | None, list[tuple[Any, str]]]:
    """Conditions per searched column, whether all are "starts with" ranges, the FTS5 query, and
    the (column, value) of each "starts with" condition (in the order of the conditions).

    ``like``: substring tests as LIKE '%v%' instead of the SQLite FTS5 table (same matches).
    """
    pg = _dialect() == "postgresql"
    fts = not pg and has_fts()
    substring = pg or fts
    like = pg or like
    digits = re.sub(r"[\s\-().+]", "", raw)
    conds: list[Any] = []
    parts: list[tuple[Any, str]] = []
    fts_terms: list[tuple[str, str]] = []
    prefix_only = True
    if digits.isdigit() and len(digits) >= 2:
        national = digits[2:] if digits.startswith("48") and len(digits) > 9 else digits.lstrip("0")
        if substring and len(digits) >= 3:
            if like:
                conds += [_contains(Contact.nip, digits), _contains(Contact.phone, national or digits)]
            else:
                fts_terms += [("nip", digits), ("phone", national or digits)]
            prefix_only = False
        else:
            parts += [(Contact.nip, digits), (Contact.phone, "+" + digits)]
            if national:
                parts.append((Contact.phone, "+48" + national))
            conds += [_starts(col, value, pg) for col, value in parts]
    else:
        text = raw.lower()
        norm = normalize(raw)
        columns = [(Contact.email, text)] if "@" in text else [
            (Contact.name_sort, norm), (Contact.city_norm, norm), (Contact.email, text)]
        for col, value in columns:
            if not value:
                continue
            if substring and len(value) >= 3:
                if like:
                    conds.append(_contains(col, value))
                else:
                    fts_terms.append((col.key, value))
                prefix_only = False
            else:
                parts.append((col, value))
                conds.append(_starts(col, value, pg))
    query = _fts_query(fts_terms) if fts_terms else None
    if query:
        conds.append(Contact.id.in_(select(_CONTACT_FTS.c.rowid).where(_fts_op(query))))
    return conds, prefix_only, query, parts


_CONTACT_FTS = table("contact_fts", column("rowid"))
#: per database URL: whether the FTS5 trigram table of migration 0008 exists
_FTS_PRESENT: dict[str, bool] = {}


def has_fts() -> bool:
    """True when this SQLite database has the ``contact_fts`` trigram table (migration 0008)."""
    bind = db.session.get_bind()
    key = str(bind.url)
    if key not in _FTS_PRESENT:
        _FTS_PRESENT[key] = db.session.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contact_fts'")
        ).first() is not None
    return _FTS_PRESENT[key]


def _fts_query(terms: list[tuple[str, str]]) -> str:
    """One FTS5 MATCH query: columns searched for the same value share one column filter."""
    by_value: dict[str, list[str]] = {}
    for col, value in terms:
        by_value.setdefault(value, []).append(col)
    return " OR ".join(
        "{%s} : \"%s\"" % (" ".join(cols), value.replace('"', '""')) for value, cols in by_value.items()
    )


def _fts_op(query: str) -> Any:
    return literal_column("contact_fts").op("MATCH")(query)


def _starts(col: Any, value: str, pg: bool, walk: bool = False) -> Any:
    """"Starts with" as a b-tree range (PostgreSQL: plus the exact LIKE, whatever the collation).

    ``walk`` (SQLite, many matches): the same range on ``col || ''``, which no index serves, so the
    planner walks the (company_id, name_sort) index in page order and tests each row, instead of
    collecting every match of every column's index and sorting them all.
    """
    if pg:
        return and_(_prefix(col, value), col.like(f"{_like_escape(value)}%", escape="\\"))
    return _prefix(col.concat("") if walk else col, value)


def _contains(col: Any, value: str) -> Any:
    return col.like(f"%{_like_escape(value)}%", escape="\\")


@dataclass
class ContactPage:
    """One page of a keyset-paginated contact list."""

    items: list[Contact]
    next_cursor: str | None
    prev_cursor: str | None
    total: int
    total_capped: bool

    @property
    def has_next(self) -> bool:
        """True when a next page exists."""
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        """True when a previous page exists."""
        return self.prev_cursor is not None


def encode_cursor(contact: Contact) -> str:
    """An opaque page cursor: the (name_sort, id) of a row."""
    raw = f"{contact.id}:{contact.name_sort}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None) -> tuple[str, int] | None:
    """The (name_sort, id) of a cursor, or None for a missing or broken one."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        ident, name = raw.split(":", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    number = inputs.to_id(ident)
    if number is None or len(name) > 500 or inputs.has_control_chars(name):
        return None
    return name, number


def contact_filters(company_id: int, base_id: int | None, q: str | None, tag_id: int | None,
                    dense: bool = False) -> list[Any]:
    """WHERE conditions of the contact list: live contacts of the company, base, search text, tag.

    The export uses them too, so a downloaded file always holds what the list shows.
    """
    where = [Contact.company_id == company_id, Contact.deleted_at.is_(None)]
    if base_id is not None:
        where.append(Contact.base_id == base_id)
    clause = search_clause(company_id, q, dense=dense)
    if clause is not None:
        where.append(clause)
    if tag_id is not None:
        where.append(Contact.id.in_(select(contact_tag.c.contact_id).where(contact_tag.c.tag_id == tag_id)))
    return where


def count_contacts(company_id: int, base_id: int | None = None, q: str | None = None,
                   tag_id: int | None = None, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many contacts match, counting at most ``cap`` + 1 rows; returns (n, capped)."""
    conds, _prefix, query, _parts = _search_conds(q.strip()) if q and q.strip() else ([], False, None, [])
    if query and len(conds) == 1:
        # SQLite FTS5: stream the trigram matches joined to contact, stop at cap + 1 of this company
        inner = (
            select(Contact.id)
            .select_from(_CONTACT_FTS.join(Contact, Contact.id == _CONTACT_FTS.c.rowid))
            .where(_fts_op(query), *contact_filters(company_id, base_id, None, tag_id))
            .limit(cap + 1).subquery()
        )
    else:
        inner = select(Contact.id).where(*contact_filters(company_id, base_id, q, tag_id)).limit(cap + 1).subquery()
    n = db.session.execute(select(func.count()).select_from(inner)).scalar_one()
    return (cap, True) if n > cap else (n, False)


def list_contacts(
    company_id: int,
    base_id: int | None = None,
    q: str | None = None,
    tag_id: int | None = None,
    sort: str = "name",
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    with_count: bool = True,
) -> ContactPage:
    """One page of contacts ordered by (name_sort, id): keyset paging, no full COUNT."""
    limit = max(1, min(int(limit or PAGE_SIZE), MAX_PAGE_SIZE))
    desc = sort == "-name"
    total, capped = count_contacts(company_id, base_id, q, tag_id) if with_count else (0, True)
    pg = _dialect() == "postgresql"
    conds, prefix_only, fts_query, parts = _search_conds(q.strip()) if q and q.strip() else ([], False, None, [])
    # SQLite, over COUNT_CAP substring matches: walking the name index with a LIKE per row finds a
    # page within a few thousand rows; the FTS5 table pays off when the matches are few
    where = contact_filters(company_id, base_id, q, tag_id, dense=bool(fts_query) and not pg and with_count and total > FTS_WALK_FROM)
    # PostgreSQL, a search with at most COUNT_CAP matches: fetch them from the trigram indexes and
    # sort them (a few ms). Ordered by the bare column the planner would walk the whole
    # (company_id, [base_id,] name_sort, id) b-tree and filter, hundreds of ms when the matches
    # sit together in the alphabet ("restauracja ...", "witkowski"). `name_sort || ''` is the same
    # value (same order, same keyset) that no b-tree provides.
    sort_col: Any = Contact.name_sort
    if pg and conds and not capped:
        sort_col = Contact.name_sort.concat("")
    key = tuple_(Contact.name_sort, Contact.id)
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    backwards = before_key is not None and after_key is None
    keyset: list[Any] = []
    if after_key is not None:
        keyset.append(key < tuple_(*after_key) if desc else key > tuple_(*after_key))
    elif before_key is not None:
        keyset.append(key > tuple_(*before_key) if desc else key < tuple_(*before_key))
    descending = desc != backwards
    order = (sort_col.desc(), Contact.id.desc()) if descending else (sort_col, Contact.id)
    if conds and prefix_only and len(conds) > 1 and (capped if pg else total > WALK_FROM):
        # Many matches of a 1-2 character prefix: one ordered b-tree range per column, each cut to
        # a page, merged (an OR would walk the name index from "a" to, say, "wo..." or collect and
        # sort every match). SQLite: a column other than the name with many matches of its own is
        # tested row by row while walking the name index (its matches do not follow name order).
        plain = contact_filters(company_id, base_id, None, tag_id) + keyset
        branches = []
        for cond, (col, value) in zip(conds, parts, strict=True):
            if not pg and col is not Contact.name_sort:
                inner = select(Contact.id).where(*plain, cond).limit(WALK_FROM + 1).subquery()
                if db.session.execute(select(func.count()).select_from(inner)).scalar_one() > WALK_FROM:
                    cond = _starts(col, value, pg, walk=True)
            branches.append(select(Contact.id).where(*plain, cond).order_by(*order).limit(limit + 1).subquery())
        merged = union_all(*(select(b.c.id) for b in branches)).subquery()
        where = [Contact.company_id == company_id, Contact.id.in_(select(merged.c.id))]
    else:
        where += keyset
    rows = list(
        db.session.execute(
            select(Contact)
            .where(*where)
            .order_by(*order)
            .limit(limit + 1)
            .options(selectinload(Contact.tags), selectinload(Contact.base), selectinload(Contact.owner))
        ).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if backwards:
            next_cursor = encode_cursor(rows[-1])
            prev_cursor = encode_cursor(rows[0]) if more else None
        else:
            next_cursor = encode_cursor(rows[-1]) if more else None
            prev_cursor = encode_cursor(rows[0]) if after_key is not None else None
    if not with_count:
        total, capped = len(rows), False
    return ContactPage(rows, next_cursor, prev_cursor, total, capped)
