"""Export of all of a company's data: one ZIP with a CSV and an XLSX file per entity plus the stored files.

The owner asks for it (also while the licence has expired); the ZIP is built outside the request
(``app/services/background.py``), kept in the file storage under the company's prefix and listed
with a download link. What goes in:

* ``csv/<table>.csv`` and ``xlsx/<table>.xlsx`` for every tenant table (every model with
  ``TenantMixin``: found from the metadata, so a new entity is exported without a change here),
  the company row, the company's people (no password hashes or second-factor secrets), the
  company's audit log and the link tables (tags of contacts, assignees of tasks); rows in the
  trash are included, with their ``deleted_at``;
* ``files/attachments/<id>-<name>``: every stored file (offer, order and invoice PDFs included);
  ``files/ksef/<invoice id>.xml`` and ``...-upo.xml``: the invoices' FA(3) XML and UPO;
  ``files/logo.<ext>``: the company logo;
* ``README.txt``: what the archive holds.

Columns holding secrets (names with ``token``, ``secret``, ``password``) and other binary
columns are left out. Everything is read inside ``tenant_scope(company_id)``: the tenancy hook
keeps other companies' rows out, and every query also names the company explicitly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from flask import current_app
from flask_appbuilder import Model
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import LargeBinary, Table, select

from app.extensions import db
from app.integrations.storage import StorageError, new_key
from app.models.binders import Attachment
from app.models.company import Company
from app.models.contacts import contact_tag
from app.models.invoicing import Invoice
from app.models.mixins import TenantMixin, utcnow
from app.models.security import AuditEvent
from app.models.support import CompanyExport
from app.models.tasks import task_assignee
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, background, unit_of_work
from app.services.contacts.contact_export import safe_cell
from app.services.work.attachments import get_storage, safe_filename

log = logging.getLogger(__name__)

KIND = "company_export"
STATUS_LABELS: dict[str, Any] = {
    "pending": _l("Waiting"), "running": _l("Being prepared"), "done": _l("Ready"), "failed": _l("Failed"),
}
#: rows read per query
CHUNK = 2000
#: column names that are never exported
SECRET_WORDS = ("token", "secret", "password", "recovery_codes", "fs_uniquifier")
#: columns of the company's people that are exported
USER_COLUMNS = ("id", "first_name", "last_name", "username", "email", "active", "phone", "position",
                "created_on", "last_login", "login_count")
#: how many finished exports of a company are kept (older ones are removed with their files)
KEEP = 5


def _columns(table: Table) -> list[Any]:
    """The exported columns of a table: no binary column, no secret."""
    return [c for c in table.columns
            if not isinstance(c.type, LargeBinary) and not any(w in c.name for w in SECRET_WORDS)]


def _tenant_tables() -> list[Table]:
    """Every tenant table (a model with TenantMixin), by name."""
    tables = {m.local_table.name: m.local_table for m in Model.registry.mappers
              if issubclass(m.class_, TenantMixin) and isinstance(m.local_table, Table)}
    return [tables[name] for name in sorted(tables)]


def _plain(value: Any) -> Any:
    """A cell value: dates and times as ISO text in CSV, numbers as they are."""
    if isinstance(value, bool):
        return int(value)
    return value


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return safe_cell(str(value))


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, Decimal, dt.datetime, dt.date)):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    return ILLEGAL_CHARACTERS_RE.sub("", safe_cell(str(value)))


class _Entity:
    """One exported entity: a name, headers and the rows (read in chunks by id)."""

    def __init__(self, name: str, headers: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
        self.name = name
        self.headers = headers
        self.rows = rows


def _chunks(stmt: Any, id_column: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of a core SELECT ordered by an integer id, read CHUNK at a time (memory stays flat)."""
    last = None
    while True:
        page = stmt.order_by(id_column).limit(CHUNK)
        if last is not None:
            page = page.where(id_column > last)
        rows = db.session.execute(page.execution_options(include_deleted=True)).all()
        yield from (tuple(r) for r in rows)
        if len(rows) < CHUNK:
            return
        last = getattr(rows[-1], id_column.name)


def _entities(company_id: int) -> Iterator[_Entity]:
    """Every entity of the company, in a fixed order."""
    company = Company.__table__
    cols = _columns(company)
    yield _Entity("company", [c.name for c in cols],
                  iter(db.session.execute(select(*cols).where(company.c.id == company_id)).all()))
    users = CrmUser.__table__
    ucols = [users.c[n] for n in USER_COLUMNS if n in users.c]
    yield _Entity("users", [c.name for c in ucols],
                  _chunks(select(*ucols).where(users.c.company_id == company_id), users.c.id))
    audit = AuditEvent.__table__
    acols = _columns(audit)
    yield _Entity("audit_event", [c.name for c in acols],
                  _chunks(select(*acols).where(audit.c.company_id == company_id), audit.c.id))
    for table in _tenant_tables():
        tcols = _columns(table)
        stmt = select(*tcols).where(table.c.company_id == company_id)
        rows = (_chunks(stmt, table.c.id) if "id" in table.c
                else iter(db.session.execute(stmt.execution_options(include_deleted=True)).all()))
        yield _Entity(table.name, [c.name for c in tcols], rows)
    contact = Model.metadata.tables["contact"]
    yield _Entity("contact_tag", ["contact_id", "tag_id"], iter(db.session.execute(
        select(contact_tag.c.contact_id, contact_tag.c.tag_id)
        .join(contact, contact.c.id == contact_tag.c.contact_id).where(contact.c.company_id == company_id)
        .order_by(contact_tag.c.contact_id, contact_tag.c.tag_id)).all()))
    task = Model.metadata.tables["task"]
    yield _Entity("task_assignee", [c.name for c in task_assignee.columns], iter(db.session.execute(
        select(*task_assignee.columns).join(task, task.c.id == task_assignee.c.task_id)
        .where(task.c.company_id == company_id).order_by(task_assignee.c.task_id)).all()))


def _write_entity(zf: zipfile.ZipFile, entity: _Entity, workdir: Path) -> int:
    """Write one entity as CSV (UTF-8 with BOM, semicolons) and XLSX; return the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=entity.name[:31])
    ws.append(entity.headers)
    count = 0
    with zf.open(f"csv/{entity.name}.csv", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig",
                                                                       newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(entity.headers)
        for row in entity.rows:
            values = [_plain(v) for v in row]
            writer.writerow([_csv_text(v) for v in values])
            ws.append([_xlsx_value(v) for v in values])
            count += 1
    path = workdir / f"{entity.name}.xlsx"
    wb.save(path)
    zf.write(path, f"xlsx/{entity.name}.xlsx")
    path.unlink()
    return count


def _write_files(zf: zipfile.ZipFile, company_id: int) -> int:
    """Stored files, the invoices' XML and the logo; return how many files were written."""
    written = 0
    storage = get_storage()
    stmt = select(Attachment).where(Attachment.company_id == company_id).execution_options(include_deleted=True)
    for att in db.session.scalars(stmt.order_by(Attachment.id)):
        try:
            data = storage.get(att.storage_key)
        except StorageError:
            log.warning("export of company %s: file of attachment %s is missing", company_id, att.id)
            continue
        zf.writestr(f"files/attachments/{att.id}-{safe_filename(att.filename)}", data)
        written += 1
    xml_stmt = (select(Invoice.id, Invoice.xml, Invoice.upo_xml).where(Invoice.company_id == company_id)
                .where((Invoice.xml.is_not(None)) | (Invoice.upo_xml.is_not(None)))
                .execution_options(include_deleted=True))
    for invoice_id, xml, upo in db.session.execute(xml_stmt):
        if xml:
            zf.writestr(f"files/ksef/{invoice_id}.xml", xml)
            written += 1
        if upo:
            zf.writestr(f"files/ksef/{invoice_id}-upo.xml", upo)
            written += 1
    company = db.session.get(Company, company_id)
    if company is not None and company.logo:
        ext = (company.logo_mime or "image/png").partition("/")[2] or "png"
        zf.writestr(f"files/logo.{ext}", company.logo)
        written += 1
    return written


def _readme(name: str, when: str) -> str:
    """The archive's README.txt in the installation's language."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pl")):
        return gettext(
            "Export of all data of the company %(name)s (Klientela), %(when)s UTC.\n\n"
            "csv/   one CSV file per kind of data (UTF-8, separator \";\"), opens in Excel\n"
            "xlsx/  the same data as XLSX files\n"
            "files/ files: attachments (PDFs of offers, orders and invoices included), KSeF XML of invoices "
            "with UPO, logo\n\n"
            "Rows in the trash have the deleted_at column filled in. Passwords and keys are not exported.\n",
            name=name, when=when,
        )


def build_zip(company_id: int, target: Path) -> dict[str, int]:
    """Write the company's ZIP to ``target``; return the number of rows per entity (and of files)."""
    counts: dict[str, int] = {}
    company = db.session.get(Company, company_id)
    with tempfile.TemporaryDirectory(prefix="crm-export-") as tmp, \
            zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", _readme(company.name if company else str(company_id),
                                          utcnow().replace(microsecond=0).isoformat(sep=" ")))
        for entity in _entities(company_id):
            counts[entity.name] = _write_entity(zf, entity, Path(tmp))
        counts["files"] = _write_files(zf, company_id)
    return counts


# --- requests and the background job ----------------------------------------------------------------


@unit_of_work
def request_export(company_id: int, user: CrmUser) -> CompanyExport:
    """Queue a new export (one at a time per company)."""
    busy = db.session.scalar(select(CompanyExport.id).where(CompanyExport.status.in_(("pending", "running"))))
    if busy is not None:
        raise DomainError(_l("An export is already being prepared. Wait until it is ready."))
    row = CompanyExport(company_id=company_id, requested_by_id=user.id, status="pending")
    db.session.add(row)
    db.session.flush()
    return row


def start_in_background(export_id: int) -> None:
    """Build the ZIP in a background thread of this process."""
    background.start(KIND, run_export, export_id)


def wait(export_id: int, timeout: float = 120) -> None:
    """Wait for a background export (tests, shutdown)."""
    background.wait(KIND, export_id, timeout)


@unit_of_work
def _set_status(export_id: int, status: str, **values: Any) -> None:
    row = db.session.get(CompanyExport, export_id)
    if row is not None:
        row.status = status
        for key, value in values.items():
            setattr(row, key, value)


def run_export(export_id: int) -> None:
    """Build one export: running, then done with its file, or failed (logged)."""
    with all_tenants():
        row = db.session.get(CompanyExport, export_id)
        company_id = row.company_id if row is not None and row.status == "pending" else None
    if company_id is None:
        return
    with tenant_scope(company_id):
        _set_status(export_id, "running")
        fd, name = tempfile.mkstemp(prefix="crm-export-", suffix=".zip")
        os.close(fd)
        path = Path(name)
        key = new_key(company_id, "exports")
        try:
            build_zip(company_id, path)
            get_storage().put_file(key, path)
            _set_status(export_id, "done", storage_key=key, size=path.stat().st_size, finished_at=utcnow())
        except Exception as err:  # noqa: BLE001 (recorded on the row, logged with the traceback)
            db.session.rollback()
            log.exception("export %s of company %s failed", export_id, company_id)
            _set_status(export_id, "failed", finished_at=utcnow(), error=str(err)[:255])
        finally:
            path.unlink(missing_ok=True)
        _prune(company_id)


@unit_of_work
def _prune(company_id: int) -> None:
    """Keep the newest KEEP finished exports; remove older ones with their files."""
    rows = list(db.session.scalars(
        select(CompanyExport).where(CompanyExport.status.in_(("done", "failed")))
        .order_by(CompanyExport.created_at.desc(), CompanyExport.id.desc())))
    for old in rows[KEEP:]:
        if old.storage_key:
            get_storage().delete(old.storage_key)
        db.session.delete(old)


def list_exports(company_id: int) -> list[CompanyExport]:
    """The company's exports, newest first."""
    return list(db.session.scalars(select(CompanyExport).order_by(CompanyExport.created_at.desc(),
                                                                   CompanyExport.id.desc())))


def get_export(company_id: int, export_id: int) -> CompanyExport | None:
    """One export of the company, or None (another company's is None too)."""
    return db.session.scalar(select(CompanyExport).where(CompanyExport.id == export_id))


def read_export(row: CompanyExport) -> bytes | None:
    """The ZIP of a finished export, or None."""
    if row.status != "done" or not row.storage_key:
        return None
    try:
        return get_storage().get(row.storage_key)
    except StorageError:
        return None


def download_name(row: CompanyExport) -> str:
    """klientela-eksport-<date>.zip."""
    return f"klientela-eksport-{row.created_at:%Y-%m-%d-%H%M}.zip"
