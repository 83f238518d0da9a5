"""Business rules. Services own the transaction and raise DomainError with a Polish message."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from app.extensions import db


class DomainError(Exception):
    """A rule refused the action; ``message`` is translatable and shown to the user."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@contextlib.contextmanager
def transaction() -> Iterator[Any]:
    """One commit per user action; roll back everything on any error."""
    session = db.session
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
