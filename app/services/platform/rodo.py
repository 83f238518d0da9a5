"""RODO tools for a person contact: export of everything the company holds about the person, anonymisation.

What the export contains is a registry (``PERSON_DATA``): each domain that keeps something about a
person adds one ``PersonSection`` (a query of its rows and the columns to show), so a later module
(e.g. campaigns) adds itself with one ``register_section`` call and appears in the JSON and the PDF.

Anonymisation is irreversible. The person's own fields are replaced, the notes' texts are erased,
tags are taken off, files attached to the contact and the printed PDFs of its offers and orders are
deleted, mentions of the person in other texts (``MENTION_COLUMNS``) are replaced and the person's
rows in the stored files of finished contact imports are emptied; documents keep their numbers and
amounts. Issued invoices are legal records the company
must keep (Polish VAT act, art. 112; RODO art. 17(3)(b)), so their buyer data stay as issued;
draft invoices get the anonymised buyer data. The audit log records the contact's id, never a
personal value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

from flask import render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.integrations.pdf import render_pdf
from app.integrations.storage import StorageError
from app.models.binders import Attachment, Binder
from app.models.company import Company
from app.models.contact_io import ImportJob
from app.models.contacts import Contact, ContactNote, contact_tag
from app.models.invoicing import Invoice
from app.models.mixins import utcnow
from app.models.notifications import Notification
from app.models.sales import Offer, OfferVersion, Order
from app.models.tasks import Task
from app.models.users import CrmUser
from app.services import DomainError, unit_of_work
from app.services.accounts import audit
from app.services.contacts import card
from app.services.contacts import contacts as contacts_svc
from app.services.invoicing import invoices as invoices_svc
from app.services.sales import offers as offers_svc
from app.services.sales import orders as orders_svc
from app.services.work import tasks as tasks_svc
from app.services.work.attachments import get_storage

#: audit event of an anonymisation (details: the contact's id only)
CONTACT_ANONYMISED = "contact_anonymised"
audit.EVENT_LABELS[CONTACT_ANONYMISED] = _l("Person contact anonymised")
#: the text that replaces an erased note
ERASED = "—"


@dataclass(frozen=True)
class Column:
    """One exported value of a row: its key in the JSON, its label in the PDF, and how it is read."""

    key: str
    label: Any
    get: Callable[[Any], Any]


@dataclass(frozen=True)
class PersonSection:
    """What one domain holds about a person: a title, the rows and their columns."""

    key: str
    title: Any
    rows: Callable[[int, Contact], Iterable[Any]]
    columns: tuple[Column, ...]


#: every section of the person's data, in the order of the export
PERSON_DATA: list[PersonSection] = []


def register_section(section: PersonSection) -> None:
    """Add (or replace, by key) one section of the person's data export."""
    PERSON_DATA[:] = [s for s in PERSON_DATA if s.key != section.key] + [section]


def _label(labels: dict[str, Any]) -> Callable[[str], str]:
    return lambda code: str(labels.get(code, code))


def _details(_company_id: int, contact: Contact) -> list[Contact]:
    return [contact]


def _tags(_company_id: int, contact: Contact) -> list[Any]:
    return sorted(contact.tags, key=lambda t: t.name)


def _notes(_company_id: int, contact: Contact) -> list[ContactNote]:
    stmt = (select(ContactNote).options(selectinload(ContactNote.author))
            .where(ContactNote.contact_id == contact.id).order_by(ContactNote.created_at, ContactNote.id))
    return list(db.session.scalars(stmt))


def _tasks(_company_id: int, contact: Contact) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.contact_id == contact.id).order_by(Task.id)))


def _named(model: Any, contact: Contact) -> Any:
    """The person is the client of the document, or the document was sent to the person's address."""
    cond = model.contact_id == contact.id
    return or_(cond, model.sent_to == contact.email) if contact.email and hasattr(model, "sent_to") else cond


def _offers(_company_id: int, contact: Contact) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(_named(Offer, contact)).order_by(Offer.id)))


def _orders(_company_id: int, contact: Contact) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.contact_id == contact.id).order_by(Order.id)))


def _invoices(_company_id: int, contact: Contact) -> list[Invoice]:
    stmt = select(Invoice).where(Invoice.buyer_contact_id == contact.id).order_by(Invoice.id)
    return list(db.session.scalars(stmt))


def _files(company_id: int, contact: Contact) -> list[Attachment]:
    page = card.QUERIES["files"](contact.id)
    return list(db.session.scalars(page).unique())


def _binders(_company_id: int, contact: Contact) -> list[Binder]:
    return list(db.session.scalars(select(Binder).where(Binder.contact_id == contact.id).order_by(Binder.id)))


def _campaigns(company_id: int, contact: Contact) -> list[Any]:
    return list(card.campaign_history(company_id, contact.id).rows)


def _register_defaults() -> None:
    """The sections of the modules that exist today."""
    for section in (
        PersonSection("contact", _l("Contact details"), _details, (
            Column("name", _l("Name"), lambda c: c.name),
            Column("first_name", _l("First name"), lambda c: c.first_name),
            Column("last_name", _l("Last name"), lambda c: c.last_name),
            Column("position", _l("Position"), lambda c: c.position),
            Column("pesel", _l("PESEL"), lambda c: c.pesel),
            Column("street", _l("Street and number"), lambda c: c.street),
            Column("postal_code", _l("Postal code"), lambda c: c.postal_code),
            Column("city", _l("City"), lambda c: c.city),
            Column("email", _l("E-mail"), lambda c: c.email),
            Column("phone", _l("Phone"), lambda c: c.phone),
            Column("notes", _l("Notes"), lambda c: c.notes),
            Column("works_for", _l("Works for (company)"), lambda c: c.employer.name if c.employer else None),
            Column("client_base", _l("Client base"), lambda c: c.base.name if c.base else None),
            Column("account_manager", _l("Account manager"), lambda c: str(c.owner) if c.owner else None),
            Column("created_at", _l("Added"), lambda c: c.created_at),
        )),
        PersonSection("consent", _l("Marketing consent"), _details, (
            Column("consent_given_at", _l("Consent given on"), lambda c: c.consent_given_at),
            Column("consent_source", _l("How the consent was given"), lambda c: c.consent_source),
            Column("consent_text", _l("Consent text"), lambda c: c.consent_text),
        )),
        PersonSection("tags", _l("Tags"), _tags, (Column("name", _l("Tag"), lambda t: t.name),)),
        PersonSection("notes", _l("Notes"), _notes, (
            Column("created_at", _l("Written"), lambda n: n.created_at),
            Column("author", _l("Author"), lambda n: str(n.author) if n.author else None),
            Column("text", _l("Text of the note"), lambda n: n.text),
        )),
        PersonSection("tasks", _l("Tasks"), _tasks, (
            Column("title", _l("Title"), lambda t: t.title),
            Column("description", _l("Description"), lambda t: t.description),
            Column("status", _l("Status"), lambda t: _label(tasks_svc.STATUS_LABELS)(t.status)),
            Column("due_date", _l("Due date"), lambda t: t.due_date),
        )),
        PersonSection("offers", _l("Offers"), _offers, (
            Column("number", _l("Number"), lambda o: o.number),
            Column("issue_date", _l("Issue date"), lambda o: o.issue_date),
            Column("status", _l("Status"), lambda o: _label(offers_svc.STATUS_LABELS)(o.status)),
            Column("total_gross", _l("Gross"), lambda o: o.total_gross),
            Column("currency", _l("Currency"), lambda o: o.currency),
            Column("sent_to", _l("Sent to"), lambda o: o.sent_to),
        )),
        PersonSection("orders", _l("Orders"), _orders, (
            Column("number", _l("Number"), lambda o: o.number),
            Column("issue_date", _l("Issue date"), lambda o: o.issue_date),
            Column("status", _l("Status"), lambda o: _label(orders_svc.STATUS_LABELS)(o.status)),
            Column("total_gross", _l("Gross"), lambda o: o.total_gross),
            Column("currency", _l("Currency"), lambda o: o.currency),
        )),
        PersonSection("invoices", _l("Invoices"), _invoices, (
            Column("number", _l("Number"), lambda i: i.number),
            Column("issue_date", _l("Issue date"), lambda i: i.issue_date),
            Column("status", _l("Status"), lambda i: _label(invoices_svc.STATUS_LABELS)(i.status)),
            Column("buyer_name", _l("Buyer"), lambda i: i.buyer_name),
            Column("buyer_address", _l("Buyer's address"),
                   lambda i: " ".join(p for p in (i.buyer_street, i.buyer_postal_code, i.buyer_city) if p) or None),
            Column("total_gross", _l("Gross"), lambda i: i.total_gross),
            Column("currency", _l("Currency"), lambda i: i.currency),
        )),
        PersonSection("binders", _l("Binders"), _binders, (Column("name", _l("Name"), lambda b: b.name),)),
        PersonSection("files", _l("Files"), _files, (
            Column("filename", _l("File name"), lambda a: a.filename),
            Column("size", _l("Size (bytes)"), lambda a: a.size),
            Column("binder", _l("Binder"), lambda a: a.binder.name if a.binder else None),
            Column("created_at", _l("Added"), lambda a: a.created_at),
        )),
        PersonSection("campaigns", _l("E-mail campaigns"), _campaigns, (
            Column("name", _l("Name"), lambda r: getattr(r, "name", str(r))),
            Column("sent_at", _l("Sent"), lambda r: getattr(r, "sent_at", None)),
        )),
    ):
        register_section(section)


_register_defaults()


# --- export ----------------------------------------------------------------------------------------


def require_person(company_id: int, contact_id: int) -> Contact:
    """A live person contact of the company, or a DomainError."""
    contact = contacts_svc.get_contact(company_id, contact_id)
    if contact is None:
        raise DomainError(_l("This contact no longer exists."))
    if contact.kind != "person":
        raise DomainError(_l("Only a person's data can be exported or anonymised."))
    return contact


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: dates in ISO 8601, amounts as text, the rest as it is."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass
class ExportedSection:
    """One section of a person's data as exported: title, column labels and rows of values."""

    key: str
    title: str
    labels: list[str]
    keys: list[str]
    rows: list[list[Any]]


def person_data(company_id: int, contact_id: int) -> list[ExportedSection]:
    """Everything the company holds about one person, section by section (the registry's order)."""
    contact = require_person(company_id, contact_id)
    out: list[ExportedSection] = []
    for section in PERSON_DATA:
        rows = [[col.get(row) for col in section.columns] for row in section.rows(company_id, contact)]
        out.append(ExportedSection(section.key, str(section.title), [str(c.label) for c in section.columns],
                                   [c.key for c in section.columns], rows))
    return out


def export_json(company_id: int, contact_id: int, now: dt.datetime | None = None) -> bytes:
    """The person's data as a JSON document (UTF-8, readable indentation)."""
    contact = require_person(company_id, contact_id)
    company = db.session.get(Company, company_id)
    doc: dict[str, Any] = {
        "exported_at": (now or utcnow()).replace(microsecond=0).isoformat() + "Z",
        "controller": company.name if company else None,
        "contact_id": contact.id,
        "sections": {
            s.key: {"title": s.title, "rows": [{k: _plain(v) for k, v in zip(s.keys, row, strict=True)}
                                               for row in s.rows]}
            for s in person_data(company_id, contact.id)
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def export_pdf(company_id: int, contact_id: int, now: dt.datetime | None = None) -> bytes:
    """The person's data as a readable PDF (one table per section)."""
    contact = require_person(company_id, contact_id)
    company = db.session.get(Company, company_id)
    html = render_template("pdf/person_data.html", contact=contact, company=company,
                           sections=person_data(company_id, contact.id), now=now or utcnow())
    return render_pdf(html)


def export_filename(contact: Contact, ext: str) -> str:
    """A download name without personal data: dane-osoby-<id>-<date>.<ext>."""
    return f"dane-osoby-{contact.id}-{dt.date.today().isoformat()}.{ext}"


# --- anonymisation -----------------------------------------------------------------------------------

#: the person's own fields that are emptied
_EMPTIED = ("first_name", "last_name", "position", "nip", "regon", "krs", "pesel", "street", "postal_code",
            "city", "city_norm", "email", "phone", "website", "notes", "employer_id", "consent_given_at",
            "consent_source", "consent_text")


def anonymous_name(contact_id: int) -> str:
    """The name an anonymised person gets (no personal data, still tells rows apart)."""
    return gettext("Anonymised person #%(id)s", id=contact_id)


#: free-text columns that may mention a person by name, e-mail, phone or PESEL: the mentions are replaced
#: (another module adds its columns with ``register_mentions``)
MENTION_COLUMNS: list[Any] = [Task.title, Task.description, ContactNote.text, Notification.title, Notification.body]
#: a value shorter than this is not searched for in other rows' texts (it would match unrelated words)
MIN_MENTION = 5


def register_mentions(*columns: Any) -> None:
    """Add free-text columns whose mentions of an anonymised person are replaced."""
    MENTION_COLUMNS.extend(c for c in columns if c not in MENTION_COLUMNS)


def _mentions(contact: Contact) -> list[tuple[str, str]]:
    """(value, replacement) pairs of what identifies the person in other rows' texts, longest first."""
    name = anonymous_name(contact.id)
    pairs = [(contact.name, name), (f"{contact.first_name or ''} {contact.last_name or ''}".strip(), name),
             (f"{contact.last_name or ''} {contact.first_name or ''}".strip(), name),
             (contact.email or "", ERASED), (contact.phone or "", ERASED), (contact.pesel or "", ERASED)]
    phone = (contact.phone or "").replace(" ", "")
    if phone.startswith("+48"):  # stored with the country code, typed without it
        pairs.append((phone[3:], ERASED))
    seen: dict[str, str] = {}
    for value, replacement in pairs:
        if len(value) >= MIN_MENTION:
            seen.setdefault(value, replacement)
    return sorted(seen.items(), key=lambda p: -len(p[0]))


def _scrub_mentions(contact: Contact) -> None:
    """Replace the person's name, e-mail, phone and PESEL where other rows' texts mention them."""
    for value, replacement in _mentions(contact):
        for column in MENTION_COLUMNS:
            model = column.class_
            stmt = (update(model).where(column.contains(value, autoescape=True))
                    .values({column.key: func.replace(column, value, replacement)})
                    .execution_options(include_deleted=True, synchronize_session=False))
            db.session.execute(stmt)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _is_persons_row(cells: list[str], contact: Contact) -> bool:
    """True when a row of an imported file is this person's: the e-mail, PESEL, phone or full name matches."""
    clean = [c.strip().strip('"').strip().lower() for c in cells]
    email = (contact.email or "").lower()
    phone = _digits(contact.phone or "")[-9:]
    full = {f"{contact.first_name or ''} {contact.last_name or ''}".strip().lower(), (contact.name or "").lower()}
    for cell, raw in zip(clean, cells, strict=True):
        digits = _digits(raw)
        if (email and cell == email) or (contact.pesel and digits == contact.pesel) or cell in full - {""}:
            return True
        if len(phone) == 9 and len(digits) in (9, 11) and digits.endswith(phone):
            return True
    first, last = (contact.first_name or "").lower(), (contact.last_name or "").lower()
    return bool(first and last and first in clean and last in clean)


def _blank_rows(text: str, delimiter: str, contact: Contact, keep: int = 0) -> tuple[str, bool]:
    """The text of a CSV file with the person's rows emptied (line count kept; ``keep`` leading cells stay)."""
    out, changed = [], False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        cells = body.split(delimiter)
        if _is_persons_row(cells[keep:], contact):
            changed = True
            line = delimiter.join(cells[:keep] + [""] * (len(cells) - keep)) + line[len(body):]
        out.append(line)
    return "".join(out), changed


def _scrub_imports(contact: Contact) -> int:
    """Empty the person's rows in the stored files of finished contact imports and in their reports."""
    changed = 0
    ids = db.session.scalars(select(ImportJob.id).where(ImportJob.status.in_(("done", "failed"))))
    for job_id in list(ids):
        job = db.session.get(ImportJob, job_id)
        if job is None:
            continue
        try:
            text = job.content.decode(job.encoding)
        except (LookupError, UnicodeDecodeError):
            continue
        new, hit = _blank_rows(text, job.delimiter or ";", contact)
        if hit:
            job.content = new.encode(job.encoding, errors="replace")
            changed += 1
        if job.report:
            report, hit = _blank_rows(job.report.decode("utf-8-sig"), ";", contact, keep=3)
            if hit:
                job.report = ("\ufeff" + report).encode("utf-8")
        db.session.flush()
        db.session.expunge(job)
    return changed


def _drop_files(company_id: int, contact: Contact) -> int:
    """Delete the files attached to the contact and the printed PDFs of its offers and orders."""
    offer_ids = select(Offer.id).where(Offer.contact_id == contact.id)
    order_ids = select(Order.id).where(Order.contact_id == contact.id)
    version_files = select(OfferVersion.attachment_id).where(OfferVersion.offer_id.in_(offer_ids))
    order_files = select(Order.attachment_id).where(Order.contact_id == contact.id)
    stmt = (
        select(Attachment).where(or_(
            (Attachment.owner_type == "contact") & (Attachment.owner_id == contact.id),
            (Attachment.owner_type == "offer") & Attachment.owner_id.in_(offer_ids),
            (Attachment.owner_type == "sales_order") & Attachment.owner_id.in_(order_ids),
            Attachment.id.in_(version_files), Attachment.id.in_(order_files),
        )).execution_options(include_deleted=True)
    )
    rows = list(db.session.scalars(stmt))
    storage = get_storage()
    for att in rows:
        try:
            storage.delete(att.storage_key)
        except StorageError:
            pass  # already gone: the row goes anyway
        db.session.delete(att)
    return len(rows)


@unit_of_work
def anonymise(company_id: int, user: CrmUser, contact_id: int) -> Contact:
    """Irreversibly replace a person's personal data; documents and history stay, without the person."""
    contact = require_person(company_id, contact_id)
    old_email = contact.email
    name = anonymous_name(contact.id)
    _scrub_mentions(contact)
    _scrub_imports(contact)
    for attr in _EMPTIED:
        setattr(contact, attr, None)
    contact.name = name
    contact.name_sort = contacts_svc.sort_key("company", name)
    db.session.execute(delete(contact_tag).where(contact_tag.c.contact_id == contact.id))
    db.session.execute(
        update(ContactNote).where(ContactNote.contact_id == contact.id).values(text=ERASED)
        .execution_options(include_deleted=True, synchronize_session=False)
    )
    if old_email:
        for model in (Offer, Order):
            if hasattr(model, "sent_to"):
                db.session.execute(update(model).where(model.sent_to == old_email).values(sent_to=None)
                                   .execution_options(include_deleted=True, synchronize_session=False))
    db.session.execute(
        update(Invoice).where(Invoice.buyer_contact_id == contact.id, Invoice.status == "draft")
        .values(buyer_name=name, buyer_nip=None, buyer_street=None, buyer_postal_code=None, buyer_city=None)
        .execution_options(include_deleted=True, synchronize_session=False)
    )
    _drop_files(company_id, contact)
    audit.record(CONTACT_ANONYMISED, actor=user, company_id=company_id, details=f"#{contact.id}")
    db.session.flush()
    return contact
