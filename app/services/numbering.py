"""Document number series: per company, per kind, per year, without gaps between concurrent saves.

The series row is read with ``SELECT ... FOR UPDATE`` (PostgreSQL; SQLite serialises writers
itself), so two users saving at the same moment never get the same number. The caller's
transaction holds the lock until it commits, so a failed save rolls the number back too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.sales import DocumentSequence

#: kind -> number prefix ("OF/12/2026", "ZL/3/2026")
PREFIXES = {"offer": "OF", "order": "ZL"}


def format_number(kind: str, number: int, year: int) -> str:
    """The printed number of a document: PREFIX/number/year."""
    return f"{PREFIXES[kind]}/{number}/{year}"


def next_number(company_id: int, kind: str, year: int) -> tuple[int, str]:
    """Take the next number of a series inside the caller's transaction; return (n, "OF/n/year")."""
    session = db.session
    stmt = (
        select(DocumentSequence)
        .where(DocumentSequence.company_id == company_id, DocumentSequence.kind == kind, DocumentSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    seq = session.execute(stmt).scalar_one_or_none()
    if seq is None:
        try:
            with session.begin_nested():
                seq = DocumentSequence(company_id=company_id, kind=kind, year=year, last_number=0)
                session.add(seq)
                session.flush()
        except IntegrityError:
            # another transaction created the row first: lock theirs
            seq = session.execute(stmt).scalar_one()
    seq.last_number += 1
    session.flush()
    return seq.last_number, format_number(kind, seq.last_number, year)
