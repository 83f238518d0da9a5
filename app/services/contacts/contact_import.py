"""CSV import of contacts: decode, map columns, validate every row, bulk insert in the background.

The flow: ``create_draft`` stores the uploaded file in an ``ImportJob`` (status ``draft``),
``preview`` shows its first rows and a guessed column mapping, ``queue`` saves the mapping and
options, and ``run_import(job_id)`` does the work, committing progress after every batch. The
runner is a plain function: the web view starts it in a thread (``start_in_background``), a
scheduler process can call it just as well.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update

from app.extensions import db
from app.models.contact_io import DUPLICATE_MODES, ImportJob
from app.models.contacts import CONTACT_KINDS, ClientBase, Contact
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, background, inputs, unit_of_work
from app.services import validators as v
from app.services.contacts import bases
from app.services.contacts import contacts as contacts_svc
from app.services.contacts.search import normalize
from app.services.platform import plans

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
PREVIEW_ROWS = 10
MAX_FILE_BYTES = 16 * 1024 * 1024
ENCODINGS = {"utf-8": "UTF-8", "cp1250": "Windows-1250"}
DELIMITERS = (";", ",")

#: target fields of a contact a CSV column can be mapped to, in form order
FIELDS: dict[str, Any] = {
    "kind": _l("Type (company/person)"),
    "name": _l("Company name"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "position": _l("Position"),
    "nip": _l("NIP"),
    "regon": _l("REGON"),
    "krs": _l("KRS"),
    "pesel": _l("PESEL"),
    "street": _l("Street and number"),
    "postal_code": _l("Postal code"),
    "city": _l("City"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "website": _l("Website"),
    "notes": _l("Notes"),
    "consent_given_at": _l("Consent date"),
}

#: header spellings (normalised: lower case, no diacritics, no punctuation) -> field
HEADER_ALIASES: dict[str, str] = {
    "typ": "kind", "rodzaj": "kind", "kind": "kind", "type": "kind",
    "nazwa": "name", "nazwa firmy": "name", "firma": "name", "name": "name", "company": "name",
    "company name": "name", "kontakt": "name",
    "imie": "first_name", "first name": "first_name", "firstname": "first_name",
    "nazwisko": "last_name", "last name": "last_name", "lastname": "last_name", "surname": "last_name",
    "stanowisko": "position", "position": "position", "funkcja": "position",
    "nip": "nip", "regon": "regon", "krs": "krs", "pesel": "pesel",
    "ulica": "street", "adres": "street", "ulica i numer": "street", "street": "street", "address": "street",
    "kod": "postal_code", "kod pocztowy": "postal_code", "postal code": "postal_code", "zip": "postal_code",
    "miasto": "city", "miejscowosc": "city", "city": "city",
    "email": "email", "e mail": "email", "adres e mail": "email", "mail": "email",
    "telefon": "phone", "tel": "phone", "phone": "phone", "nr telefonu": "phone", "komorka": "phone",
    "www": "website", "strona": "website", "strona www": "website", "website": "website",
    "uwagi": "notes", "notatki": "notes", "notes": "notes", "opis": "notes",
    "data zgody": "consent_given_at", "zgoda data": "consent_given_at", "consent date": "consent_given_at",
}

_KIND_VALUES = {
    "firma": "company", "company": "company", "f": "company",
    "osoba": "person", "person": "person", "o": "person", "osoba fizyczna": "person",
}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
                 "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S")

# --------------------------------------------------------------------------- file reading

def decode(content: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Decode the file; "auto" takes UTF-8 (with or without BOM) and falls back to Windows-1250."""
    if encoding not in ("auto", *ENCODINGS):
        raise DomainError(_l("Unknown file encoding."), "encoding")
    if encoding in ("auto", "utf-8"):
        try:
            return content.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            if encoding == "utf-8":
                raise DomainError(_l("The file is not valid UTF-8; choose Windows-1250."), "encoding") from None
    try:
        return content.decode("cp1250"), "cp1250"
    except UnicodeDecodeError:
        raise DomainError(_l("The file cannot be read as UTF-8 or Windows-1250."), "encoding") from None


def sniff_delimiter(text: str, delimiter: str = "auto") -> str:
    """The column separator: the chosen one, or the one (; or ,) the header line uses more."""
    if delimiter in DELIMITERS:
        return delimiter
    if delimiter != "auto":
        raise DomainError(_l("Choose a semicolon or a comma as the separator."), "delimiter")
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") >= first.count(",") else ","


def _reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return inputs.csv_reader(text, delimiter=delimiter)


def normalize_header(header: str) -> str:
    """Lower-case a header, strip diacritics and punctuation (for guessing the mapping)."""
    return normalize(header.replace("-", " ").replace("_", " "))


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Column index (as a string) -> field, for headers we recognise; each field used once."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for i, header in enumerate(headers):
        key = normalize_header(header)
        field = HEADER_ALIASES.get(key)
        if field is None and key.replace(" ", "") in HEADER_ALIASES:
            field = HEADER_ALIASES[key.replace(" ", "")]
        if field and field not in used:
            out[str(i)] = field
            used.add(field)
    return out


@dataclass
class Preview:
    """What the mapping page shows: the header, the first rows and a guessed mapping."""

    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[list[str]]
    total: int
    mapping: dict[str, str]


def read_table(content: bytes, encoding: str = "auto", delimiter: str = "auto") -> tuple[str, str, list[str], Iterator[list[str]]]:
    """Decode and split the file: (encoding, delimiter, header, iterator over data rows)."""
    text, enc = decode(content, encoding)
    delim = sniff_delimiter(text, delimiter)
    reader = _reader(text, delim)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DomainError(_l("The file is empty."), "file") from None
    except csv.Error:
        raise DomainError(_l("The file is not a valid CSV file."), "file") from None
    if not any(headers):
        raise DomainError(_l("The first line of the file must hold the column names."), "file")
    return enc, delim, headers, reader


def _count_rows(reader: Iterator[list[str]]) -> int:
    return sum(1 for row in reader if any(cell.strip() for cell in row))


def preview(job: ImportJob) -> Preview:
    """The first rows of an uploaded file and the mapping guessed from its header."""
    enc, delim, headers, reader = read_table(job.content, job.encoding, job.delimiter)
    rows: list[list[str]] = []
    total = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            total += 1
            if len(rows) < PREVIEW_ROWS:
                rows.append(row + [""] * (len(headers) - len(row)))
    except csv.Error:
        raise DomainError(_l("The file is not a valid CSV file."), "file") from None
    mapping = job.mapping or guess_mapping(headers)
    return Preview(enc, delim, headers, rows, total, mapping)


#: mapped fields that say "these rows are persons" and "these rows are companies"
PERSON_FIELDS = frozenset({"first_name", "last_name", "pesel"})
COMPANY_FIELDS = frozenset({"name", "nip", "regon", "krs"})


def base_kind(company_id: int, base: ClientBase) -> str:
    """What a base mostly holds (person or company); an empty mailing base holds persons."""
    rows = db.session.execute(
        select(Contact.kind, func.count()).where(Contact.base_id == base.id).group_by(Contact.kind)
    ).all()
    counts = {kind: n for kind, n in rows}
    if counts:
        return "person" if counts.get("person", 0) > counts.get("company", 0) else "company"
    return "person" if base.is_mailing else "company"


def guess_kind(company_id: int, base: ClientBase, mapping: dict[str, str]) -> str:
    """The kind of rows without a type column: from the mapped columns, else from the base's content."""
    fields = set(mapping.values())
    person, company = bool(fields & PERSON_FIELDS), bool(fields & COMPANY_FIELDS)
    if person and not company:
        return "person"
    if company and not person:
        return "company"
    return base_kind(company_id, base)


def suggested_kind(company_id: int, job: ImportJob) -> str:
    """The default kind the mapping page offers for a draft (its guessed or saved mapping)."""
    base = _require_base(company_id, job.base_id)
    return guess_kind(company_id, base, job.mapping or {})


def outcome(job: ImportJob) -> str | None:
    """The colour of a finished import: "success" (every row came in), "partial" or "failed"."""
    if job.status == "failed":
        return "failed"
    if job.status != "done":
        return None
    came_in = job.inserted + job.updated
    if came_in == 0:
        return "failed"
    return "success" if came_in >= job.processed else "partial"


def reasons(job: ImportJob, limit: int = 10) -> list[tuple[str, int]]:
    """The reasons rows were refused or skipped, most frequent first, read from the job's report."""
    if not job.report:
        return []
    counts: dict[str, int] = {}
    rows = csv.reader(io.StringIO(job.report.decode("utf-8-sig")), delimiter=";")
    next(rows, None)
    for row in rows:
        if len(row) >= 3 and row[2]:
            counts[row[2]] = counts.get(row[2], 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


# --------------------------------------------------------------------------- jobs

def get_job(company_id: int, job_id: int) -> ImportJob | None:
    """A job of this company by id, or None (another company's id gives None)."""
    return db.session.execute(select(ImportJob).where(ImportJob.id == job_id)).scalar_one_or_none()


def recent_jobs(company_id: int, limit: int = 10) -> list[ImportJob]:
    """The company's latest started imports, newest first."""
    return list(db.session.execute(
        select(ImportJob)
        .where(ImportJob.status != "draft")
        .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
        .limit(limit)
    ).scalars())


def _require_base(company_id: int, base_id: Any) -> ClientBase:
    """The import's target base, or DomainError "Choose a client base." on ``base_id``."""
    try:
        return bases.require_base(company_id, base_id)
    except DomainError:
        raise DomainError(_l("Choose a client base."), "base_id") from None


@unit_of_work
def create_draft(company_id: int, user_id: int | None, base_id: Any, content: bytes | None,
                 filename: str, encoding: str = "auto", delimiter: str = "auto") -> ImportJob:
    """Store an uploaded file as a draft import after checking that it can be read."""
    base = _require_base(company_id, base_id)
    if not content:
        raise DomainError(_l("Choose a CSV file."), "file")
    if len(content) > MAX_FILE_BYTES:
        raise DomainError(_l("The file is too large (at most 16 MB)."), "file")
    plans.check_storage(company_id, len(content))
    enc, delim, headers, reader = read_table(content, encoding, delimiter)
    try:
        total = _count_rows(reader)
    except csv.Error:
        raise DomainError(_l("The file is not a valid CSV file."), "file") from None
    if total == 0:
        raise DomainError(_l("The file has no data rows under the header."), "file")
    job = ImportJob(
        company_id=company_id, base_id=base.id, user_id=user_id, status="draft",
        filename=(filename or "import.csv")[-200:], encoding=enc, delimiter=delim,
        content=content, total=total, mapping=guess_mapping(headers), options={},
    )
    db.session.add(job)
    db.session.flush()
    return job


@dataclass
class ImportOptions:
    """Choices of the mapping page."""

    duplicates: str = "skip"
    default_kind: str = "company"
    consent_source: str | None = None
    consent_text: str | None = None


@unit_of_work
def queue(company_id: int, job_id: int, mapping: dict[str, str], options: ImportOptions) -> ImportJob:
    """Save the column mapping and options of a draft and mark it queued for the runner."""
    job = get_job(company_id, job_id)
    if job is None:
        raise DomainError(_l("The import does not exist."))
    if job.status != "draft":
        raise DomainError(_l("This import has already been started."))
    base = _require_base(company_id, job.base_id)
    headers = read_table(job.content, job.encoding, job.delimiter)[2]
    clean: dict[str, str] = {}
    for col, field in mapping.items():
        if not field:
            continue
        index = inputs.column_index(col)
        if field not in FIELDS or index is None or index >= len(headers):
            raise DomainError(_l("The column mapping is not valid."), "mapping")
        if field in clean.values():
            raise DomainError(_l("Each field can be chosen for one column only: %(field)s.", field=FIELDS[field]), "mapping")
        clean[str(index)] = field
    fields = set(clean.values())
    if not fields & {"name", "first_name", "last_name"}:
        raise DomainError(_l("Map a column to the company name or to the first and last name."), "mapping")
    if options.duplicates not in DUPLICATE_MODES:
        raise DomainError(_l("Choose what to do with duplicates."), "duplicates")
    if options.default_kind not in CONTACT_KINDS:
        raise DomainError(_l("Choose whether the rows are companies or persons."), "default_kind")
    opts: dict[str, Any] = {"duplicates": options.duplicates, "default_kind": options.default_kind}
    if base.is_mailing:
        if "email" not in fields:
            raise DomainError(_l("A mailing base needs e-mail addresses: map the e-mail column."), "mapping")
        opts["consent_source"] = v.clean_text(options.consent_source, "consent_source", _l("Consent source"), 200, required=True)
        opts["consent_text"] = v.clean_text(options.consent_text, "consent_text", _l("Consent text"), 5000, required=True)
    job.mapping = clean
    job.options = opts
    job.status = "queued"
    job.processed = job.inserted = job.updated = job.skipped = job.refused = 0
    return job


# --------------------------------------------------------------------------- the runner

class RowRefused(Exception):
    """One row cannot be imported; ``reason`` says why (translatable)."""

    def __init__(self, reason: Any) -> None:
        super().__init__(str(reason))
        self.reason = reason


def _parse_date(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    for fmt in _DATE_FORMATS:
        try:
            when = dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if when > utcnow() + dt.timedelta(days=1):
            raise RowRefused(_l("The consent date cannot be in the future."))
        return when
    raise RowRefused(_l("Consent date is not a valid date (use YYYY-MM-DD or DD.MM.YYYY)."))


def clean_row(values: dict[str, str], default_kind: str, mailing: bool) -> dict[str, Any]:
    """Validate one mapped row with the Polish rules; return contact columns or raise RowRefused."""
    try:
        raw_kind = (values.get("kind") or "").strip()
        kind = default_kind
        if raw_kind:
            known = _KIND_VALUES.get(normalize(raw_kind))
            if known is None:
                raise RowRefused(_l("Unknown contact type \"%(value)s\" (use Firma or Osoba).", value=raw_kind))
            kind = known
        out: dict[str, Any] = {"kind": kind}
        for key, limit in contacts_svc.TEXT_LIMITS.items():
            out[key] = v.clean_text(values.get(key), key, FIELDS[key], limit)
        if kind == "person":
            if not (out["first_name"] or out["last_name"] or out["name"]):
                raise RowRefused(_l("First name and last name are missing."))
            out["name"] = out["name"] or " ".join(x for x in (out["first_name"], out["last_name"]) if x)
        elif not out["name"]:
            raise RowRefused(_l("Company name is missing."))
        nip = (values.get("nip") or "").strip()
        out["nip"] = v.clean_nip(nip) if nip else None
        out["regon"] = v.clean_regon(values.get("regon"))
        out["krs"] = contacts_svc.clean_krs(values.get("krs"))
        out["pesel"] = v.clean_pesel(values.get("pesel"))
        out["postal_code"] = v.clean_postal_code(values.get("postal_code"))
        out["phone"] = v.clean_phone(values.get("phone"))
        out["email"] = v.clean_email(values.get("email"))
        out["website"] = contacts_svc.clean_website(values.get("website"))
    except DomainError as err:
        raise RowRefused(err.message) from None
    if mailing and not out["email"]:
        raise RowRefused(_l("A contact of a mailing base needs an e-mail address."))
    out["consent_given_at"] = _parse_date(values.get("consent_given_at") or "") if mailing else None
    out["name_sort"] = contacts_svc.sort_key(kind, out["name"], out["first_name"], out["last_name"])
    out["city_norm"] = (normalize(out["city"])[:100] or None) if out["city"] else None
    return out


def _existing_keys(company_id: int, base: ClientBase) -> tuple[dict[str, int], dict[str, int]]:
    """NIP -> id and e-mail -> id of live contacts in the company's bases of the same kind."""
    rows = db.session.execute(
        select(Contact.id, Contact.nip, Contact.email)
        .join(ClientBase, ClientBase.id == Contact.base_id)
        .where(ClientBase.kind == base.kind)
        .where((Contact.nip.is_not(None)) | (Contact.email.is_not(None)))
        .order_by(Contact.id)
    ).all()
    by_nip: dict[str, int] = {}
    by_email: dict[str, int] = {}
    for cid, nip, email in rows:
        if nip:
            by_nip.setdefault(nip, cid)
        if email:
            by_email.setdefault(email.lower(), cid)
    return by_nip, by_email


class _Report:
    """The rows that were refused or skipped, as a CSV for Excel (UTF-8 BOM, semicolons)."""

    def __init__(self, headers: list[str]) -> None:
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, delimiter=";", lineterminator="\r\n")
        with force_locale("pl"):
            self.writer.writerow([str(_l("Row")), str(_l("Result")), str(_l("Reason")), *headers])
            self.refused_label = str(_l("Refused"))
            self.skipped_label = str(_l("Skipped"))

    def add(self, line: int, refused: bool, reason: Any, row: list[str]) -> None:
        with force_locale("pl"):
            text = str(reason)
        self.writer.writerow([line, self.refused_label if refused else self.skipped_label, text, *row])

    def data(self) -> bytes:
        return ("\ufeff" + self.buf.getvalue()).encode("utf-8")


_UPDATABLE = ("kind", "name", "name_sort", "first_name", "last_name", "position", "nip", "regon", "krs",
              "pesel", "street", "postal_code", "city", "city_norm", "email", "phone", "website", "notes",
              "consent_given_at")


def run_import(job_id: int) -> None:
    """Run one queued import to the end; progress is committed after every batch."""
    with all_tenants():
        company_id = db.session.execute(select(ImportJob.company_id).where(ImportJob.id == job_id)).scalar_one_or_none()
    if company_id is None:
        return
    with tenant_scope(company_id):
        try:
            _run(company_id, job_id)
        except Exception as exc:  # the job must end as "failed", never stay "running"
            db.session.rollback()
            log.exception("import job %s failed", job_id)
            job = db.session.get(ImportJob, job_id)
            if job is not None:
                job.status = "failed"
                job.error = str(exc)[:2000]
                job.finished_at = utcnow()
                db.session.commit()


def _run(company_id: int, job_id: int) -> None:  # noqa: C901 (one pass over the rows: batches, progress and refusals)
    session = db.session
    job = get_job(company_id, job_id)
    if job is None or job.status not in ("queued", "running"):
        return
    base = _require_base(company_id, job.base_id)
    opts = job.options or {}
    mode = opts.get("duplicates", "skip")
    default_kind = opts.get("default_kind", "company")
    mailing = base.is_mailing
    mapping = {int(col): field for col, field in (job.mapping or {}).items()}
    now = utcnow()
    job.status = "running"
    job.started_at = now
    job.processed = job.inserted = job.updated = job.skipped = job.refused = 0
    session.commit()

    _enc, _delim, headers, reader = read_table(job.content, job.encoding, job.delimiter)
    width = len(headers)
    by_nip, by_email = _existing_keys(company_id, base)
    seen_nip: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    report = _Report(headers)
    consent = {"consent_source": opts.get("consent_source"), "consent_text": opts.get("consent_text")}
    counts = {"processed": 0, "inserted": 0, "updated": 0, "skipped": 0, "refused": 0}
    inserts: list[dict[str, Any]] = []
    updates: dict[int, dict[str, Any]] = {}
    line = 1

    def flush() -> None:
        if inserts:
            session.execute(insert(Contact), inserts)
        for row in updates.values():
            # a Core UPDATE of the table (fast per-row updates): the tenancy hook filters ORM
            # statements only, so the company is named here
            session.execute(
                update(Contact.__table__).where(
                    Contact.__table__.c.id == row.pop("id"), Contact.__table__.c.company_id == company_id
                ).values(**row)
            )
        inserts.clear()
        updates.clear()
        session.execute(
            update(ImportJob.__table__).where(ImportJob.__table__.c.id == job_id).values(**counts, updated_at=utcnow())
        )
        session.commit()

    for raw in reader:
        line += 1
        if not any(cell.strip() for cell in raw):
            continue
        counts["processed"] += 1
        cells = raw + [""] * (width - len(raw))
        values = {field: cells[col] for col, field in mapping.items() if col < len(cells)}
        try:
            if len(raw) > width and any(c.strip() for c in raw[width:]):
                raise RowRefused(_l("The row has more columns than the header."))
            row = clean_row(values, default_kind, mailing)
        except RowRefused as ref:
            counts["refused"] += 1
            report.add(line, True, ref.reason, raw)
        else:
            nip, email = row["nip"], row["email"]
            if mailing:
                row["consent_source"] = consent["consent_source"]
                row["consent_text"] = consent["consent_text"]
                row["consent_given_at"] = row["consent_given_at"] or now
            existing = (by_nip.get(nip) if nip else None) or (by_email.get(email) if email else None)
            earlier = (seen_nip.get(nip) if nip else None) or (seen_email.get(email) if email else None)
            if mode != "import" and existing is not None:
                if mode == "skip":
                    counts["skipped"] += 1
                    reason = (_l("A contact with this NIP already exists.") if nip and nip in by_nip
                              else _l("A contact with this e-mail address already exists."))
                    report.add(line, False, reason, raw)
                else:
                    changes = {k: row[k] for k in _UPDATABLE if k in values and row.get(k) is not None}
                    if values.keys() & {"name", "first_name", "last_name"}:
                        changes.update(name=row["name"], name_sort=row["name_sort"])
                    if "city" in changes:
                        changes["city_norm"] = row["city_norm"]
                    if mailing:
                        changes.update({k: row[k] for k in ("consent_source", "consent_text", "consent_given_at") if row.get(k)})
                    changes["updated_at"] = now
                    pending = updates.setdefault(existing, {"id": existing})
                    pending.update(changes)
                    counts["updated"] += 1
            elif mode != "import" and earlier is not None:
                counts["skipped"] += 1
                report.add(line, False, _l("Duplicate of row %(row)s of this file.", row=earlier), raw)
            else:
                row.update(company_id=company_id, base_id=base.id, created_at=now, updated_at=now)
                inserts.append(row)
                counts["inserted"] += 1
                if nip:
                    seen_nip.setdefault(nip, line)
                if email:
                    seen_email.setdefault(email, line)
        if counts["processed"] % BATCH_SIZE == 0:
            flush()
    flush()
    job = session.get(ImportJob, job_id)
    job.total = counts["processed"]
    job.report = report.data() if (counts["refused"] or counts["skipped"]) else None
    job.status = "done"
    job.finished_at = utcnow()
    session.commit()


#: an uploaded file left at the mapping step (never imported) is removed after this long
DRAFT_MAX_AGE = dt.timedelta(days=1)


@unit_of_work
def purge_drafts(max_age: dt.timedelta = DRAFT_MAX_AGE, now: dt.datetime | None = None) -> int:
    """Remove abandoned draft imports (and their stored files) of every company; return how many."""
    cutoff = (now or utcnow()) - max_age
    with all_tenants():
        # every company's drafts: a platform job, hence the opt-out
        result = db.session.execute(
            delete(ImportJob)
            .where(ImportJob.status == "draft", ImportJob.created_at < cutoff)
            .execution_options(synchronize_session=False, all_tenants=True)
        )
    return result.rowcount or 0


# --------------------------------------------------------------------------- background thread

def start_in_background(job_id: int) -> threading.Thread:
    """Run ``run_import(job_id)`` in a daemon thread with its own app context."""
    return background.start("import", run_import, job_id)


def wait(job_id: int, timeout: float = 60.0) -> None:
    """Wait for a job started by ``start_in_background`` (tests, shutdown)."""
    background.wait("import", job_id, timeout)
