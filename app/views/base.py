"""Shared pieces of our views: section colour, form/DomainError glue, tenant guards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Generic, Optional, TypeVar

from flask import abort, flash, g, request
from flask_appbuilder import BaseView
from flask_wtf import FlaskForm

from app.services import DomainError, FieldErrors, formats, inputs


class CrmView(BaseView):
    """A BaseView that belongs to a coloured section of the main menu."""

    crm_section: str = "dashboard"
    default_view = "index"


def cell(value: Any) -> Any:
    """How a list or detail cell shows a value: "—" for nothing, moments in Warsaw time, Polish dates."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return formats.local_datetime(value)
    if isinstance(value, dt.date):
        return formats.local_date(value)
    return value


def cell_formatters(*columns: str) -> dict[str, Any]:
    """formatters_columns for FAB views: every listed column through cell()."""
    return {c: cell for c in columns}


def show_domain_error(form: Optional[FlaskForm], error: DomainError) -> None:
    """Attach a DomainError to its form field (every field of a FieldErrors), or flash what names no field."""
    errors = error.errors if isinstance(error, FieldErrors) else {error.field or "": error.message}
    for name, message in errors.items():
        field = getattr(form, name, None) if (form is not None and name) else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [str(message)]
        else:
            flash(str(message), "danger")


T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    """What a view's call into a service came to: ``ok`` and the service's return value."""

    ok: bool
    value: Optional[T] = None

    @property
    def result(self) -> T:
        """The value of a call that succeeded (a service that returns something)."""
        assert self.ok and self.value is not None
        return self.value


def found(obj: Optional[T]) -> T:
    """The object a service looked up, or a 404 (missing, deleted or another company's)."""
    if obj is None:
        abort(404)
    return obj


def form_action(form: Optional[FlaskForm], action: Callable[[], T], success: Any = None) -> Outcome[T]:
    """Run a service call for a submitted form; a DomainError is shown next to its field.

    The service owns its transaction (``unit_of_work``), so nothing is left to roll back here.
    """
    try:
        value = action()
    except DomainError as err:
        show_domain_error(form, err)
        return Outcome(False)
    if success:
        flash(str(success), "success")
    return Outcome(True, value)


def post_action(action: Callable[[], T], success: Any = None) -> Outcome[T]:
    """Run a service call for a button (POST without a form page); a DomainError is flashed."""
    return form_action(None, action, success)


def current_company_id() -> int:
    """The company of the signed-in user; 404 for anyone without one."""
    company_id = g.get("company_id")
    if company_id is None:
        abort(404)
    return company_id


def file_bytes(field: Any) -> Optional[bytes]:
    """The bytes of an uploaded file field, or None when nothing was chosen."""
    storage = getattr(field, "data", None)
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.read()


def id_arg(name: str) -> Optional[int]:
    """An id from the query string (a filter, a preselection), or None when it is missing or not a valid id."""
    return inputs.to_id(request.args.get(name))
