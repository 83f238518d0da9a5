"""Export of the contact list as it is filtered on screen: CSV for Excel and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.contacts import Contact
from app.services.contacts.contacts import CONTACT_KIND_LABELS
from app.services.contacts.search import SearchQuery, as_query, contact_filters, normalize

CHUNK = 1000

#: (header, value getter) of each exported column, in order
COLUMNS: list[tuple[Any, Any]] = [
    (_l("Type"), lambda c: CONTACT_KIND_LABELS.get(c.kind, c.kind)),
    (_l("Name"), lambda c: c.name),
    (_l("First name"), lambda c: c.first_name),
    (_l("Last name"), lambda c: c.last_name),
    (_l("Position"), lambda c: c.position),
    (_l("NIP"), lambda c: c.nip),
    (_l("REGON"), lambda c: c.regon),
    (_l("KRS"), lambda c: c.krs),
    (_l("PESEL"), lambda c: c.pesel),
    (_l("Street and number"), lambda c: c.street),
    (_l("Postal code"), lambda c: c.postal_code),
    (_l("City"), lambda c: c.city),
    (_l("E-mail"), lambda c: c.email),
    (_l("Phone"), lambda c: c.phone),
    (_l("Website"), lambda c: c.website),
    (_l("Tags"), lambda c: ", ".join(sorted(t.name for t in c.tags))),
    (_l("Client base"), lambda c: c.base.name if c.base else None),
    (_l("Consent date"), lambda c: c.consent_given_at),
    (_l("Consent source"), lambda c: c.consent_source),
    (_l("Notes"), lambda c: c.notes),
]

_NUMBER = re.compile(r"^[+-]?\d[\d ]*$")


def filtered_query(company_id: int, base_id: int | None = None, q: SearchQuery | str | None = None,
                   tag_id: int | None = None) -> Select:
    """The contacts of the list with its filters (base, search text, tag), in list order.

    Reuses the contact list's own filter (``search.contact_filters``) so the export always
    matches what the list shows.
    """
    where = contact_filters(company_id, base_id, as_query(q), tag_id)
    return (
        select(Contact)
        .where(*where)
        .order_by(Contact.name_sort, Contact.id)
        .options(selectinload(Contact.tags), selectinload(Contact.base))
    )


def iter_contacts(company_id: int, base_id: int | None = None, q: SearchQuery | str | None = None,
                  tag_id: int | None = None) -> Iterator[Contact]:
    """Every contact of the filtered list, read in chunks (keyset) so memory stays flat."""
    query = as_query(q)
    after: tuple[str, int] | None = None
    while True:
        stmt = filtered_query(company_id, base_id, query, tag_id)
        if after is not None:
            stmt = stmt.where(
                (Contact.name_sort > after[0]) | ((Contact.name_sort == after[0]) & (Contact.id > after[1]))
            )
        rows = list(db.session.execute(stmt.limit(CHUNK)).scalars())
        yield from rows
        if len(rows) < CHUNK:
            return
        after = (rows[-1].name_sort, rows[-1].id)
        for row in rows:
            db.session.expunge(row)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    return str(value)


def safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (=, +, -, @ at the start), leaving numbers as they are."""
    if value and value[0] in "=+-@\t\r" and not _NUMBER.match(value):
        return "'" + value
    return value


def headers() -> list[str]:
    """Column headers in the user's language."""
    return [str(h) for h, _get in COLUMNS]


def csv_chunks(company_id: int, base_id: int | None = None, q: SearchQuery | str | None = None,
               tag_id: int | None = None) -> Iterator[bytes]:
    """The CSV file in pieces: UTF-8 with BOM, semicolons, CRLF (opens correctly in Excel)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(headers())
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    buf.seek(0)
    buf.truncate()
    for n, contact in enumerate(iter_contacts(company_id, base_id, q, tag_id), start=1):
        writer.writerow([safe_cell(_text(get(contact))) for _h, get in COLUMNS])
        if n % 500 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def export_xlsx(company_id: int, base_id: int | None = None, q: SearchQuery | str | None = None,
                tag_id: int | None = None) -> bytes:
    """An XLSX workbook with one sheet "Kontakty" (write-only, so large lists fit in memory)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(_l("Contacts"))[:31])
    ws.append(headers())
    for contact in iter_contacts(company_id, base_id, q, tag_id):
        row = []
        for _h, get in COLUMNS:
            value = get(contact)
            if isinstance(value, dt.datetime):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
            else:
                text = None if value is None else ILLEGAL_CHARACTERS_RE.sub("", str(value))
                cell = WriteOnlyCell(ws, value=text)
                if value is not None:
                    cell.data_type = "s"  # text, never a formula
            row.append(cell)
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(base_name: str | None, ext: str) -> str:
    """A download name such as kontakty-klienci-2026-11-28.csv (ASCII only)."""
    stem = normalize(base_name or "").replace(" ", "-") or "wszystkie"
    return f"kontakty-{stem[:40]}-{dt.date.today().isoformat()}.{ext}"
