"""The list of invoices: search as you type, filters by status, month and buyer; exports for the accountant."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.models.invoicing import Invoice
from app.services import DomainError, clock
from app.services.contacts.contact_export import safe_cell
from app.services.invoicing.payments import unpaid_clause
from app.services.sales import pricing

FILTERS = {
    "draft": _l("Draft"), "issued": _l("Issued"), "ksef_queue": _l("In the KSeF queue"),
    "accepted": _l("Accepted by KSeF"), "rejected": _l("Rejected by KSeF"), "paid": _l("Paid"),
    "unpaid": _l("Unpaid"), "overdue": _l("Overdue"), "cancelled": _l("Cancelled"),
}
PAGE = 50
#: PostgreSQL: a search with at most this many matches sorts them; with more it walks the date index
SORT_UP_TO = 2000


def parse_month(raw: Any) -> tuple[dt.date, dt.date] | None:
    """"2026-11" -> (first day, first day of the next month); None for nothing; DomainError when malformed."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        first = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise DomainError(_l("Choose a month."), "month") from None
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt


#: filters that match few invoices: their test runs over the (company_id, status, ksef_status) index
SPARSE = ("draft", "cancelled", "ksef_queue", "rejected")


def _status_clause(status: str, today: dt.date, company_id: int | None = None) -> Any:
    clause = {
        "draft": Invoice.status == "draft",
        "issued": Invoice.status == "issued",
        "cancelled": Invoice.status == "cancelled",
        "ksef_queue": and_(Invoice.status == "issued", Invoice.ksef_status.in_(("queued", "sending"))),
        "accepted": Invoice.ksef_status == "accepted",
        "rejected": Invoice.ksef_status == "rejected",
        "paid": and_(Invoice.status == "issued", Invoice.kind != "proforma", Invoice.total_gross > 0,
                     Invoice.paid_amount >= Invoice.total_gross),
        "unpaid": unpaid_clause(today),
        # the same test as unpaid_clause(overdue_only=True), written so that the newest-first walk of
        # (company_id, issue_date, id) is kept: a due_date range would fetch and sort every past-due row
        "overdue": and_(unpaid_clause(today), func.coalesce(Invoice.due_date, today) < today),
    }.get(status)
    if clause is not None and company_id is not None and status in SPARSE:
        return Invoice.id.in_(select(Invoice.id).where(Invoice.company_id == company_id, clause))
    return clause


def _dialect() -> str:
    return str(db.session.get_bind().dialect.name)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str, company_id: int | None = None) -> Any:
    """Number or NIP starting with ``q``, or the buyer's name containing it (None for an empty query).

    With ``company_id`` (SQLite) each test runs in its own sub-select of ids over one narrow
    ``(company_id, column)`` index (read index-only, no invoice row touched), so a rare match does
    not walk every invoice of the company in date order (100,000 invoices: 180 -> 20 ms). Without
    it (PostgreSQL) the tests are a plain OR, which the planner serves from the pg_trgm GIN indexes
    ``ix_invoice_trgm_*`` of migration 0017 (one bitmap per column, company_id leading each).
    """
    q = (q or "").strip()[:100]
    if not q:
        return None
    like = _like_escape(q)
    digits = q.replace("-", "").replace(" ", "")
    conds = [Invoice.number.like(like + "%", escape="\\"),
             func.lower(Invoice.buyer_name).like("%" + _like_escape(q.lower()) + "%", escape="\\")]
    if digits.isdigit():
        conds.append(Invoice.buyer_nip.like(digits + "%"))
    if company_id is None:
        return or_(*conds)
    return or_(*(Invoice.id.in_(select(Invoice.id).where(Invoice.company_id == company_id, c)) for c in conds))


def filtered(company_id: int, q: str = "", status: str = "", month: Any = None, contact_id: int | None = None,
             today: dt.date | None = None) -> Any:
    """The SELECT of the company's invoices matching the search and the filters (unordered)."""
    today = today or clock.local_today()
    stmt = select(Invoice).where(Invoice.company_id == company_id)
    clause = _status_clause(status, today, company_id)
    if clause is not None:
        stmt = stmt.where(clause)
    span = parse_month(month)
    if span is not None:
        stmt = stmt.where(Invoice.issue_date >= span[0], Invoice.issue_date < span[1])
    if contact_id is not None:
        stmt = stmt.where(Invoice.buyer_contact_id == contact_id)
    found = search_clause(q, None if _dialect() == "postgresql" else company_id)
    if found is not None:
        stmt = stmt.where(found)
    return stmt


def _few_matches(stmt: Any) -> bool:
    """True when ``stmt`` matches at most SORT_UP_TO invoices (counts at most SORT_UP_TO + 1)."""
    inner = stmt.with_only_columns(Invoice.id).limit(SORT_UP_TO + 1).subquery()
    return db.session.execute(select(func.count()).select_from(inner)).scalar_one() <= SORT_UP_TO


def list_invoices(company_id: int, q: str = "", status: str = "", month: Any = None, contact_id: int | None = None,
                  page: int = 1) -> tuple[list[Invoice], bool]:
    """One page of invoices, newest first, and whether there is a next page."""
    page = max(1, min(int(page or 1), 10000))
    stmt = filtered(company_id, q, status, month, contact_id)
    newest: Any = Invoice.issue_date
    if len((q or "").strip()) >= 3 and _dialect() == "postgresql" and _few_matches(stmt):
        # PostgreSQL, a search with few matches: fetch them from the trigram indexes and sort them.
        # Ordered by the bare column the planner walks (company_id, issue_date, id) newest first and
        # tests every invoice for a rare term; `issue_date + 0` is the same value (same order) that
        # no b-tree provides. Many matches: that walk finds a page within a few thousand rows.
        # Under 3 characters a trigram index cannot narrow "contains": no count, the walk it is.
        newest = Invoice.issue_date + 0
    stmt = stmt.options(defer(Invoice.xml), defer(Invoice.upo_xml)).order_by(
        newest.desc(), Invoice.id.desc()).offset((page - 1) * PAGE).limit(PAGE + 1)
    rows = list(db.session.execute(stmt).scalars())
    return rows[:PAGE], len(rows) > PAGE


def _issued_in(company_id: int, month: Any) -> list[Invoice]:
    span = parse_month(month)
    if span is None:
        raise DomainError(_l("Choose a month."), "month")
    return list(db.session.execute(
        select(Invoice).where(Invoice.company_id == company_id, Invoice.status != "draft",
                              Invoice.issue_date >= span[0], Invoice.issue_date < span[1])
        .order_by(Invoice.issue_date, Invoice.id)
    ).scalars())


CSV_HEADER = ("Numer", "Rodzaj", "Status", "Data wystawienia", "Data sprzedaży", "Nabywca", "NIP nabywcy", "Netto",
              "VAT", "Brutto", "Waluta", "Kurs NBP", "VAT w PLN", "Zapłacono", "Termin płatności", "Numer KSeF")
KIND_CSV = {"vat": "Faktura VAT", "correction": "Korekta", "proforma": "Proforma"}
STATUS_CSV = {"issued": "wystawiona", "cancelled": "anulowana", "draft": "szkic"}


def _amount(value: Any) -> str:
    return pricing.format_money(value).replace("\u00a0", "") if value is not None else ""


def export_csv(company_id: int, month: Any) -> bytes:
    """The month's issued and cancelled documents as CSV (semicolons, decimal commas, UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for inv in _issued_in(company_id, month):
        writer.writerow([safe_cell(str(x)) for x in (
            inv.number or "", KIND_CSV[inv.kind], STATUS_CSV.get(inv.status, inv.status),
            inv.issue_date.isoformat(), inv.sale_date.isoformat() if inv.sale_date else "", inv.buyer_name,
            inv.buyer_nip or "", _amount(inv.total_net), _amount(inv.total_vat), _amount(inv.total_gross),
            inv.currency, str(inv.exchange_rate).replace(".", ",") if inv.exchange_rate else "",
            _amount(inv.total_vat_pln), _amount(inv.paid_amount),
            inv.due_date.isoformat() if inv.due_date else "", inv.ksef_number or "")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xml_zip(company_id: int, month: Any) -> bytes:
    """The month's FA(3) files (issued invoices and corrections, the exact stored bytes) in one ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for inv in _issued_in(company_id, month):
            if inv.xml and inv.status == "issued":
                zf.writestr((inv.number or str(inv.id)).replace("/", "_") + ".xml", inv.xml)
    return buf.getvalue()
