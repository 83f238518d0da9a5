"""Tenancy, enforced centrally.

One ``do_orm_execute`` hook adds ``with_loader_criteria`` for the current company (and hides
soft-deleted rows) on every ORM SELECT, relationship loads and dropdown queries included.
One ``before_flush`` hook stamps ``company_id`` on new rows and refuses a row or a foreign key
that belongs to another company. The current company comes from ``g.company_id`` (set in
``before_request``) or from an explicit ``tenant_scope()`` in CLI and scheduled jobs.

The guard fails closed: with no company in scope, every write of a tenant row (ORM flush, bulk
``insert()``/``update()``/``delete()``) is refused with ``TenantViolation`` unless the code runs
inside one of the named opt-outs: ``tenant_scope(company_id)`` (one company) or
``all_tenants()`` (platform admin screens and platform jobs). A statement may also opt out on
its own with ``.execution_options(all_tenants=True)``; each such place says why in a comment.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Iterator, Optional

from flask import g, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.relationships import RelationshipDirection

from app.models.mixins import SoftDeleteMixin, TenantMixin

_SCOPE: ContextVar[Optional[int]] = ContextVar("crm_company_scope", default=None)
_ALL: ContextVar[bool] = ContextVar("crm_all_tenants", default=False)


class TenantViolation(Exception):
    """A write that would cross company boundaries, or a tenant write with no company in scope."""


def current_company_id() -> Optional[int]:
    """The company the current request or job works for, or None (then nothing is visible)."""
    scoped = _SCOPE.get()
    if scoped is not None:
        return scoped
    if has_app_context():
        return g.get("company_id")
    return None


@contextlib.contextmanager
def tenant_scope(company_id: int) -> Iterator[None]:
    """Run a block (CLI command, scheduled job) as one company."""
    token = _SCOPE.set(company_id)
    try:
        yield
    finally:
        _SCOPE.reset(token)


@contextlib.contextmanager
def all_tenants() -> Iterator[None]:
    """Explicit opt-out for the platform admin's cross-tenant screens and platform jobs."""
    token = _ALL.set(True)
    try:
        yield
    finally:
        _ALL.reset(token)


def _live(cls: Any) -> Any:
    return cls.deleted_at.is_(None)


def _tenant_entity(state: ORMExecuteState) -> Optional[type]:
    """The tenant-owned class a bulk INSERT/UPDATE/DELETE statement writes to, if any."""
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, TenantMixin):
        return mapper.class_
    table = getattr(state.statement, "table", None)
    if table is not None and "company_id" in getattr(table, "c", {}):
        for mapper in _tenant_mappers():
            if table in mapper.tables:
                return mapper.class_
    return None


def _tenant_mappers() -> list[Any]:
    from flask_appbuilder import Model

    return [m for m in Model.registry.mappers if issubclass(m.class_, TenantMixin)]


def _insert_company_ids(state: ORMExecuteState) -> list[Any]:
    """Every ``company_id`` an INSERT statement would write (values() and executemany params)."""
    found: list[Any] = []
    values = getattr(state.statement, "_values", None) or {}
    for key, bind in values.items():
        if getattr(key, "key", key) == "company_id":
            found.append(getattr(bind, "value", bind))
    multi = getattr(state.statement, "_multi_values", None) or ()
    for rows in multi:
        for row in rows:
            if isinstance(row, dict):
                found.append(row.get("company_id"))
    params = state.parameters
    for row in params if isinstance(params, (list, tuple)) else [params] if params else []:
        if isinstance(row, dict):
            found.append(row.get("company_id"))
    return found


def _guard_bulk_write(state: ORMExecuteState) -> None:
    """Bulk INSERT/UPDATE/DELETE on tenant tables obey the same rule as flushed rows."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    cls = _tenant_entity(state)
    if cls is None or _ALL.get() or state.execution_options.get("all_tenants", False):
        return
    scope = current_company_id()
    if scope is None:
        raise TenantViolation(f"bulk write to {cls.__name__} with no company in scope")
    if state.is_insert:
        for company_id in _insert_company_ids(state):
            if company_id != scope:
                raise TenantViolation(f"bulk insert into {cls.__name__} for another company")


def _add_criteria(state: ORMExecuteState) -> None:
    _guard_bulk_write(state)
    if not (state.is_select or state.is_update or state.is_delete) or state.is_column_load:
        return
    opts = state.execution_options
    options = []
    if not opts.get("include_deleted", False):
        options.append(with_loader_criteria(SoftDeleteMixin, _live, include_aliases=True))
    if not (opts.get("all_tenants", False) or _ALL.get()):
        company_id = current_company_id()
        if company_id is None:
            options.append(
                with_loader_criteria(
                    TenantMixin, lambda cls: cls.company_id.is_(None), include_aliases=True
                )
            )
        else:
            options.append(
                with_loader_criteria(
                    TenantMixin,
                    lambda cls: cls.company_id == company_id,
                    include_aliases=True,
                )
            )
    if options:
        state.statement = state.statement.options(*options)


def _owner_company(session: Session, target_cls: Any, pk: Any) -> Optional[int]:
    pk_col: Any = inspect(target_cls).primary_key[0]
    stmt = (
        select(target_cls.company_id)
        .where(pk_col == pk)
        .execution_options(all_tenants=True, include_deleted=True)
    )
    with session.no_autoflush:
        return session.execute(stmt).scalar_one_or_none()


def _check_own_company(obj: Any, scope: Optional[int], everywhere: bool) -> None:
    """A tenant row is written for the company in scope (stamped when it names none)."""
    name = type(obj).__name__
    if scope is None and not everywhere:
        raise TenantViolation(f"{name} written with no company in scope")
    if obj.company_id is None:
        if scope is None:
            raise TenantViolation(f"{name} has no company")
        obj.company_id = scope
    elif scope is not None and obj.company_id != scope:
        raise TenantViolation(f"{name} belongs to another company")
    elif scope is not None and inspect(obj).attrs.company_id.history.deleted:
        old = inspect(obj).attrs.company_id.history.deleted[0]
        if old is not None and old != scope:
            raise TenantViolation(f"{name} moved from another company")


def _check_many_to_one(session: Session, obj: Any, state: Any, rel: Any, own: int) -> None:
    """A foreign key that was set or changed points at a row of the same company."""
    for local, _remote in rel.local_remote_pairs:
        attr = state.mapper.get_property_by_column(local)
        value = getattr(obj, attr.key)
        hist = state.attrs[attr.key].history
        if value is None or (not state.pending and not hist.has_changes()):
            continue
        loaded = state.attrs[rel.key].loaded_value
        if loaded is not None and hasattr(loaded, "company_id") and loaded.company_id:
            other = loaded.company_id
        else:
            other = _owner_company(session, rel.mapper.class_, value)
        if other is not None and other != own:
            raise TenantViolation(f"{type(obj).__name__}.{rel.key} points at another company")


def _check_row(session: Session, obj: Any, scope: Optional[int], everywhere: bool) -> None:
    if isinstance(obj, TenantMixin):
        _check_own_company(obj, scope, everywhere)
    own = getattr(obj, "company_id", None)
    if own is None:
        return
    state = inspect(obj)
    for rel in state.mapper.relationships:
        if not hasattr(rel.mapper.class_, "company_id") or rel.viewonly:
            continue
        if rel.direction is RelationshipDirection.MANYTOONE:
            _check_many_to_one(session, obj, state, rel, own)
            continue
        for item in state.attrs[rel.key].history.added or ():
            other = getattr(item, "company_id", None)
            if other is not None and other != own:
                raise TenantViolation(f"{type(obj).__name__}.{rel.key} holds another company's row")


def _check_delete(obj: Any, scope: Optional[int], everywhere: bool) -> None:
    if not isinstance(obj, TenantMixin) or everywhere:
        return
    if scope is None:
        raise TenantViolation(f"{type(obj).__name__} deleted with no company in scope")
    if obj.company_id != scope:
        raise TenantViolation(f"{type(obj).__name__} of another company deleted")


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    everywhere = _ALL.get()
    scope = None if everywhere else current_company_id()
    for obj in list(session.new) + list(session.dirty):
        _check_row(session, obj, scope, everywhere)
    for obj in list(session.deleted):
        _check_delete(obj, scope, everywhere)


def install_tenancy_hooks() -> None:
    """Attach the two global hooks to every SQLAlchemy Session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _add_criteria):
        event.listen(Session, "do_orm_execute", _add_criteria)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
