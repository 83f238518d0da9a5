"""Business rules. How a service is written (the one convention of this package):

* One signature style. A company-scoped service takes ``company_id: int`` first (the view passes
  ``current_company_id()``, the one place the company comes from: the tenancy scope set at
  sign-in, or ``tenant_scope()`` in jobs), then ``user: CrmUser`` where a rule depends on who
  acts, then ids typed as ``int`` (parsed from the request by ``app.services.inputs``), then a
  data object or keyword arguments. Platform services (no company) start with what they act on.
* A service never reads Flask's ``request``, ``session``, ``g`` or ``url_for``: the view passes
  in what the service needs (the acting user, the client's IP and device, a ready link for an
  e-mail). Display settings (endpoints, icons, templates) live in views.
* Every service that writes is decorated with ``@unit_of_work``: its checks and its writes run in
  one transaction that commits when the function returns and rolls back when it raises (a
  ``DomainError`` included). Nested calls join the outer unit. Views never commit or roll back.
* A refused action raises ``DomainError(message, field)`` with a translatable (``lazy_gettext``)
  message; the view shows it next to ``field`` or as a flash message. A form's checks collect
  every refusal with ``FieldChecks`` and raise ``FieldErrors`` (field -> message) once.
* Company filtering is the global tenancy hook's job (``app/security/tenancy.py``); a query adds
  an explicit ``company_id`` filter only where it runs inside an opt-out (``all_tenants()`` or
  ``execution_options(all_tenants=True)``), with a comment saying why.
* Services never import views; imports sit at the top of the module unless a comment says why.
"""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import text

from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

#: how many units of work are open in this context (only the outermost commits)
_DEPTH: ContextVar[int] = ContextVar("crm_unit_of_work_depth", default=0)


class DomainError(Exception):
    """A rule refused the action; ``message`` is translatable and shown to the user."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class FieldErrors(DomainError):
    """Several fields refused at once: ``errors`` maps each field to its translatable message.

    A service collects the refusals of all its checks with :class:`FieldChecks` and raises this
    once, so the form shows every wrong field after one submit.
    """

    def __init__(self, errors: dict[str, Any]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, first_field or None)
        self.errors = dict(errors)


class FieldChecks:
    """Run a service's field checks one after another and keep every refusal (one per field)."""

    def __init__(self) -> None:
        self.errors: dict[str, Any] = {}

    def run(self, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The checked value, or None after recording the check's DomainError under its field."""
        try:
            return check(*args, **kwargs)
        except DomainError as err:
            self.refuse(err.message, err.field)
            return None

    def refuse(self, message: Any, field: str | None) -> None:
        """Record a refusal of ``field`` (the first one of a field is kept)."""
        self.errors.setdefault(field or "", message)

    def raise_if_any(self) -> None:
        """Raise FieldErrors when any check refused (a lone refusal stays a plain DomainError)."""
        if len(self.errors) == 1:
            field, message = next(iter(self.errors.items()))
            raise DomainError(message, field or None)
        if self.errors:
            raise FieldErrors(self.errors)


@contextlib.contextmanager
def transaction() -> Iterator[Any]:
    """One commit per user action; roll back everything on any error.

    Inside an open ``unit_of_work`` it only flushes: the outermost unit commits or rolls back.
    """
    session = db.session
    if _DEPTH.get() > 0:
        yield session
        session.flush()
        return
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise


def _take_write_lock_on_sqlite() -> None:
    """On SQLite, start the unit with the database's write lock (``BEGIN IMMEDIATE``).

    SQLite has one writer at a time. A transaction that has read and then wants to write while
    another one writes is refused at once ("database is locked") instead of waiting, and two
    units could read the same last number of a series. Taking the lock first makes units queue
    (up to the busy timeout) and run one after another, as PostgreSQL's row locks do.
    """
    session = db.session()  # the Session itself (the scoped proxy lacks in_transaction)
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        return  # the caller already changed rows in its transaction: keep it as it is
    if session.in_transaction():
        # end the request's read-only transaction (nothing is pending); rows already loaded stay
        # loaded, so a unit does not read again what its view has just read
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    session.execute(text("BEGIN IMMEDIATE"))


def unit_of_work(fn: F) -> F:
    """Run a service function as one transaction: checks and writes commit or roll back together."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        outermost = _DEPTH.get() == 0
        token = _DEPTH.set(_DEPTH.get() + 1)
        try:
            if outermost:
                _take_write_lock_on_sqlite()
            result = fn(*args, **kwargs)
            if outermost:
                db.session.commit()
            return result
        except BaseException:
            if outermost:
                db.session.rollback()
            raise
        finally:
            _DEPTH.reset(token)

    return wrapper  # type: ignore[return-value]
