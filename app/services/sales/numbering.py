"""Document number series: per company, per kind, per year, without gaps between concurrent saves.

The number is taken with one atomic ``UPDATE ... SET last_number = last_number + 1 ... RETURNING``:
the database locks the series row for the rest of the caller's transaction (a row lock on
PostgreSQL, the write lock on SQLite), so two users saving at the same moment never read the same
value, and a failed save rolls its number back too.
"""

from __future__ import annotations

from sqlalchemy import update
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
    # company_id is part of the series key (unique company_id, kind, year), not only a tenancy filter:
    # the UPDATE must bump exactly one row even when a platform job runs it inside all_tenants()
    bump = (
        update(DocumentSequence)
        .where(DocumentSequence.company_id == company_id, DocumentSequence.kind == kind, DocumentSequence.year == year)
        .values(last_number=DocumentSequence.last_number + 1)
        .returning(DocumentSequence.last_number)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is None:
        try:
            with session.begin_nested():
                session.add(DocumentSequence(company_id=company_id, kind=kind, year=year, last_number=1))
                session.flush()
            number = 1
        except IntegrityError:
            # another transaction created the row first: take the next number of theirs
            number = session.execute(bump).scalar_one()
    return number, format_number(kind, number, year)
