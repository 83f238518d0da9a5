"""Numbering series of invoices ("Serie numeracji"): patterns, resets, one default per kind, gapless numbers.

A number is taken only when a document is issued, inside the issuing transaction, with one atomic
``UPDATE invoice_counter SET last_number = last_number + 1 ... RETURNING`` (as
``app/services/sales/numbering.py`` does): the database locks the counter row until the issue
commits or rolls back, so concurrent issues never share a number and a failed issue gives its
number back (no gaps).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.invoicing import INVOICE_KINDS, SERIES_RESETS, InvoiceCounter, InvoiceSeries
from app.services import DomainError, unit_of_work
from app.services import validators as v

KIND_LABELS = {"vat": _l("VAT invoice"), "correction": _l("Correction"), "proforma": _l("Proforma")}
RESET_LABELS = {"monthly": _l("Every month"), "yearly": _l("Every year"), "never": _l("Never")}

#: the series created on first use of each kind: (name, pattern, reset)
DEFAULTS: dict[str, tuple[str, str, str]] = {
    "vat": ("FV", "FV/{n}/{MM}/{YYYY}", "monthly"),
    "correction": ("KOR", "KOR/{n}/{YYYY}", "yearly"),
    "proforma": ("PRO", "PRO/{n}/{YYYY}", "yearly"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("n", "MM", "YYYY")


@dataclass
class SeriesData:
    """The series form."""

    name: Any
    kind: Any = "vat"
    pattern: Any = "FV/{n}/{MM}/{YYYY}"
    reset: Any = "monthly"
    is_default: bool = False


def period_of(reset: str, day: dt.date) -> str:
    """The counter period of a date: "2026-11" (monthly), "2026" (yearly) or "all"."""
    if reset == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if reset == "yearly":
        return f"{day.year:04d}"
    return "all"


def format_number(pattern: str, n: int, day: dt.date) -> str:
    """The printed number: the pattern with {n}, {MM} and {YYYY} filled in."""
    return pattern.replace("{n}", str(n)).replace("{MM}", f"{day.month:02d}").replace("{YYYY}", f"{day.year:04d}")


def clean_pattern(pattern: Any, reset: str) -> str:
    """A valid pattern: {n} once, only {n}/{MM}/{YYYY}, and the period of the reset in it (no duplicates)."""
    text = v.clean_text(pattern, "pattern", _l("Pattern"), 60, required=True) or ""
    names = _PLACEHOLDER.findall(text)
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown or text.count("{") != len(names) or text.count("}") != len(names):
        raise DomainError(_l("The pattern may use only {n}, {MM} and {YYYY}."), "pattern")
    if names.count("n") != 1:
        raise DomainError(_l("The pattern must contain {n} (the consecutive number) exactly once."), "pattern")
    if reset == "monthly" and not ("MM" in names and "YYYY" in names):
        raise DomainError(_l("A series reset every month needs {MM} and {YYYY} in the pattern."), "pattern")
    if reset == "yearly" and "YYYY" not in names:
        raise DomainError(_l("A series reset every year needs {YYYY} in the pattern."), "pattern")
    return text


def list_series(company_id: int) -> list[InvoiceSeries]:
    """The company's series by kind and name."""
    return list(db.session.execute(
        select(InvoiceSeries).where(InvoiceSeries.company_id == company_id)
        .order_by(InvoiceSeries.kind, InvoiceSeries.name)
    ).scalars())


def get_series(company_id: int, series_id: int) -> InvoiceSeries | None:
    """One series of the company, or None."""
    return db.session.execute(
        select(InvoiceSeries).where(InvoiceSeries.company_id == company_id, InvoiceSeries.id == series_id)
    ).scalar_one_or_none()


def series_choices(company_id: int, kind: str) -> list[InvoiceSeries]:
    """Active series of one kind (the default first)."""
    rows = [s for s in list_series(company_id) if s.kind == kind and s.active]
    return sorted(rows, key=lambda s: (not s.is_default, s.name))


def _used(company_id: int, series_id: int) -> bool:
    return db.session.execute(
        select(InvoiceCounter.id).where(InvoiceCounter.company_id == company_id, InvoiceCounter.series_id == series_id)
        .limit(1)
    ).first() is not None


def _clean(company_id: int, data: SeriesData, series_id: int | None) -> dict[str, Any]:
    name = v.clean_text(data.name, "name", _l("Name"), 60, required=True)
    if data.kind not in INVOICE_KINDS:
        raise DomainError(_l("Choose the kind of documents."), "kind")
    if data.reset not in SERIES_RESETS:
        raise DomainError(_l("Choose when the numbering restarts."), "reset")
    clash = db.session.execute(
        select(InvoiceSeries.id).where(InvoiceSeries.company_id == company_id, InvoiceSeries.name == name)
    ).scalar_one_or_none()
    if clash is not None and clash != series_id:
        raise DomainError(_l("A series with this name already exists."), "name")
    return {"name": name, "kind": data.kind, "reset": data.reset, "pattern": clean_pattern(data.pattern, data.reset),
            "is_default": bool(data.is_default)}


def _make_default(company_id: int, series: InvoiceSeries) -> None:
    for other in list_series(company_id):
        if other.kind == series.kind and other.id != series.id:
            other.is_default = False
    series.is_default = True


@unit_of_work
def create_series(company_id: int, data: SeriesData) -> InvoiceSeries:
    """Add a series; the first of its kind (or one marked so) becomes the default."""
    values = _clean(company_id, data, None)
    first = not any(s.kind == values["kind"] for s in list_series(company_id))
    series = InvoiceSeries(company_id=company_id, **values)
    db.session.add(series)
    db.session.flush()
    if values["is_default"] or first:
        _make_default(company_id, series)
    return series


@unit_of_work
def update_series(company_id: int, series_id: int, data: SeriesData) -> InvoiceSeries:
    """Change a series; the kind and reset of a series already used cannot change (numbers would clash)."""
    series = get_series(company_id, series_id)
    if series is None:
        raise DomainError(_l("This series does not exist."))
    values = _clean(company_id, data, series_id)
    if _used(company_id, series_id) and (values["kind"] != series.kind or values["reset"] != series.reset
                                         or values["pattern"] != series.pattern):
        raise DomainError(_l("Documents were already numbered in this series: its kind, pattern and reset "
                             "cannot change. Add a new series instead."), "pattern")
    make_default = values.pop("is_default")
    for key, value in values.items():
        setattr(series, key, value)
    if make_default:
        _make_default(company_id, series)
    return series


def default_series(company_id: int, kind: str) -> InvoiceSeries:
    """The default series of a kind, created on first use (FV monthly, KOR and PRO yearly)."""
    rows = [s for s in list_series(company_id) if s.kind == kind and s.active]
    chosen = next((s for s in rows if s.is_default), rows[0] if rows else None)
    if chosen is not None:
        return chosen
    name, pattern, reset = DEFAULTS[kind]
    if any(s.name == name for s in list_series(company_id)):
        name = f"{name}-{kind}"
    series = InvoiceSeries(company_id=company_id, name=name, kind=kind, pattern=pattern, reset=reset, is_default=True)
    try:
        with db.session.begin_nested():
            db.session.add(series)
            db.session.flush()
    except IntegrityError:
        # another issue created the default series at the same moment: use theirs
        return db.session.execute(
            select(InvoiceSeries).where(InvoiceSeries.company_id == company_id, InvoiceSeries.name == name)
        ).scalar_one()
    return series


def next_number(company_id: int, series: InvoiceSeries, day: dt.date) -> tuple[int, str, str]:
    """Take the next number of a series in the caller's transaction: (n, period, printed number)."""
    session = db.session
    period = period_of(series.reset, day)
    bump = (
        update(InvoiceCounter)
        .where(InvoiceCounter.company_id == company_id, InvoiceCounter.series_id == series.id,
               InvoiceCounter.period == period)
        .values(last_number=InvoiceCounter.last_number + 1)
        .returning(InvoiceCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is None:
        try:
            with session.begin_nested():
                session.add(InvoiceCounter(company_id=company_id, series_id=series.id, period=period, last_number=1))
                session.flush()
            number = 1
        except IntegrityError:
            # another transaction created the counter first: take the next number after theirs
            number = session.execute(bump).scalar_one()
    return number, period, format_number(series.pattern, number, day)
