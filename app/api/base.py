"""The base of every REST API of the app: FAB's ``ModelRestApi`` on the tenancy guard and our services.

What a CRM API adds to FAB's generated one:

* the caller is authenticated by FAB's ``protect`` (personal token or JWT); the security manager's
  authentication step puts the caller's company in scope (``app/security/api_auth.py``), and every
  handler here refuses to run without it (fail closed);
* permissions are the UI's: ``class_permission_name`` is the UI view's name and the API methods map
  onto the UI's permissions (``list``, ``add``, ``edit``, ``delete``), so a role reaches through the
  API exactly what it reaches in the browser (``app/security/roles.py``);
* writes go through the same services as the UI (``Writer``): validation, numbering, refusals of
  mailing-base contacts, DELETE to the trash ("Kosz"); FAB's ``datamodel.add/edit/delete`` are never used;
* a read-only token may only read; the company's licence must be active;
* money is a string with two decimals; ``company_id``, deletion fields and secrets are in no schema;
* every refusal is JSON ``{"code": ..., "message": <Polish>}`` with a stable code, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, ClassVar, Optional

from flask import Response, g, request
from flask_appbuilder.api import BaseApi, ModelRestApi
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields
from sqlalchemy import Numeric, inspect
from sqlalchemy.exc import DataError, IntegrityError

from app.extensions import db
from app.security.api_auth import api_scope, caller_company_id, json_error
from app.security.tenancy import TenantViolation, current_company_id
from app.services import DomainError, FieldErrors, inputs, unit_of_work

log = logging.getLogger(__name__)

#: a list counts at most this many rows (as the app's contact list); more: ``count_capped`` is true
COUNT_CAP = 10_000

#: the UI permission each generated API method needs (roles-as-code hold exactly these)
CRUD_PERMISSIONS = {"get_list": "list", "get": "list", "post": "add", "put": "edit", "delete": "delete"}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: marshmallow's own messages, in Polish through our catalog (anything else: "Invalid value.")
_FIELD_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be empty."),
    "Unknown field.": _l("Unknown field."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid date.": _l("Enter a date as YYYY-MM-DD."),
    "Not a valid time.": _l("Enter a time as HH:MM."),
    "Not a valid list.": _l("Enter a list."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Invalid input type.": _l("Invalid value."),
}


class Polish(str):
    """A refusal message already in the user's language."""


def field_message(message: Any) -> str:
    """The Polish text of one marshmallow message (nested ones: the first)."""
    while isinstance(message, (list, dict)):
        if not message:
            return gettext("Invalid value.")
        message = message[0] if isinstance(message, list) else next(iter(message.values()))
    if isinstance(message, Polish):
        return str(message)
    known = _FIELD_MESSAGES.get(str(message))
    return str(known) if known is not None else gettext("Invalid value.")


def invalid(errors: dict[str, Any]) -> Response:
    """422: the data was refused; ``fields`` maps each refused field to its Polish message."""
    flat = {name or "_": field_message(msg) for name, msg in errors.items()}
    return json_error(422, "invalid", gettext("Check the data: some fields were refused."), fields=flat)


class Text(fields.String):
    """A text field of an API body (the service checks its length and content)."""


class Choice(fields.String):
    """A text field limited to ``choices``, with a Polish refusal."""

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(metadata={"enum": list(choices)}, **kwargs)
        self.choices = choices

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        out = super()._deserialize(value, attr, data, **kwargs)
        if out not in self.choices:
            raise ValidationError(Polish(gettext("Choose one of: %(choices)s.", choices=", ".join(self.choices))))
        return out


class Id(fields.Integer):
    """An id of another row (the service checks that it is one of the company's)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


class ApiSchema(Schema):
    """Input schema of an API body: unknown fields are refused."""

    class Meta:
        """Refuse fields the schema does not name (``company_id`` among them)."""

        unknown = RAISE


@dataclass(frozen=True)
class Writer:
    """How an API writes an entity: the services the UI calls, as plain functions.

    ``create(company_id, user, data) -> row``, ``update(company_id, user, row, data) -> row``,
    ``delete(company_id, user, row)``; ``current(row) -> dict`` gives the editable values of a
    row, so a PUT that names only some fields keeps the others.
    """

    create: Optional[Callable[[int, Any, dict[str, Any]], Any]] = None
    update: Optional[Callable[[int, Any, Any, dict[str, Any]], Any]] = None
    delete: Optional[Callable[[int, Any, Any], Any]] = None
    current: Optional[Callable[[Any], dict[str, Any]]] = None


def _money_fields(schema: Any, model: type) -> None:
    """Numeric columns are dumped as strings with the column's decimals (money: two)."""
    mapper: Any = inspect(model)
    columns: dict[str, Any] = {c.key: c for c in mapper.columns}
    for name, field in list(getattr(schema, "fields", {}).items()):
        column = columns.get(name)
        if column is not None and isinstance(column.type, Numeric) and isinstance(field, fields.Number):
            places = column.type.scale if column.type.scale is not None else 2
            replacement = fields.Decimal(places=places, as_string=True, dump_only=True)
            replacement._bind_to_schema(name, schema)
            schema.fields[name] = replacement
            schema.dump_fields[name] = replacement
            schema.declared_fields[name] = replacement


class CrmInterface(SQLAInterface):
    """FAB's model interface with the app's capped COUNT: a list of 300,000 contacts counts 10,001 rows, not all."""

    def query_count(self, query: Any, filters: Any = None, select_columns: Optional[list[str]] = None) -> int:
        """How many rows match, counting at most ``COUNT_CAP`` + 1."""
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        pk = getattr(self.obj, self.get_pk_name())
        return int(inner.with_entities(pk).limit(COUNT_CAP + 1).count())


class CrmApiMixin:
    """JSON errors with a stable code and a Polish message, for every API class of the app."""

    def response_400(self, message: Optional[str] = None) -> Response:
        """400: the request could not be read (bad query arguments, not JSON)."""
        log.info("API 400 on %s %s: %s", request.method, request.path, message)
        return json_error(400, "bad_request", gettext("The request could not be read. Check the data and try again."))

    def response_401(self) -> Response:
        """401: no valid token."""
        return json_error(401, "unauthorized", gettext("Missing, expired or revoked API token."))

    def response_403(self) -> Response:
        """403: the caller's role (the same as in the app) does not allow this."""
        return json_error(403, "forbidden", gettext("You have no access to this page."))

    def response_404(self) -> Response:
        """404: no such row in the caller's company."""
        return json_error(404, "not_found", gettext("Not found."))

    def response_422(self, message: Any = None) -> Response:
        """422: the data was refused."""
        return invalid(message if isinstance(message, dict) else {"": message})

    def response_500(self, message: Optional[str] = None) -> Response:
        """FAB's ``@safe`` catch-all: known failures get their own answer; the rest is logged."""
        err = sys.exc_info()[1]
        _rollback()
        if _raised_by_query_parser(sys.exc_info()[2]):
            return self.response_400()
        if isinstance(err, TenantViolation):
            log.warning("Tenancy violation refused: %s %s: %s", request.method, request.path, err)
            if request.method in READ_METHODS:
                return self.response_404()
            return json_error(403, "forbidden", gettext("You have no access to this page."))
        if isinstance(err, IntegrityError):
            return json_error(409, "conflict", gettext("This conflicts with data that already exists."))
        if isinstance(err, DataError):
            return json_error(400, "bad_request", gettext("Invalid value. Check the data and try again."))
        if isinstance(err, DomainError):
            return domain_error(err)
        reference = secrets.token_hex(4).upper()
        log.error("Unhandled error, reference %s, on %s %s", reference, request.method, request.path, exc_info=err)
        return json_error(500, "server_error", gettext("The error has been logged. Please try again."), reference=reference)


def _raised_by_query_parser(tb: Any) -> bool:
    """True when the error came from reading the ``q`` argument (the rison parser fails on some input)."""
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("prison."):
            return True
        tb = tb.tb_next
    return False


#: FAB's English labels and titles are left out of the answers (the app's labels are Polish)
_FAB_LABEL_KEYS = ("label_columns", "description_columns", "list_title", "show_title")


def _plain(resp: Response) -> Response:
    """FAB's answer without its English labels and titles."""
    data = resp.get_json(silent=True)
    if resp.status_code != 200 or not isinstance(data, dict):
        return resp
    for key in _FAB_LABEL_KEYS:
        data.pop(key, None)
    if isinstance(data.get("count"), int):
        data["count_capped"] = data["count"] > COUNT_CAP
        data["count"] = min(data["count"], COUNT_CAP)
    resp.set_data(json.dumps(data, ensure_ascii=False, default=str))
    return resp


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the answer must still be sent)
        log.exception("Rollback after an API error failed")


def domain_error(err: DomainError) -> Response:
    """422 with every refused field of a service's DomainError / FieldErrors."""
    errors = err.errors if isinstance(err, FieldErrors) else {err.field or "": err.message}
    flat = {name or "_": str(msg) for name, msg in errors.items()}
    return json_error(422, "invalid", str(err.message), fields=flat)


def guard() -> Optional[Response]:
    """Fail closed: the caller's company must be in scope, its licence active, and a write needs a read-write token."""
    company_id = caller_company_id()
    if company_id is None or current_company_id() != company_id:
        return json_error(403, "forbidden", gettext("You have no access to this page."))
    company = g.user.company
    if company is None or not company.licence_active():
        return json_error(403, "licence_expired", gettext("The licence of your company has expired."))
    if request.method not in READ_METHODS and api_scope() != "write":
        return json_error(403, "token_read_only", gettext("This token may only read data."))
    return None


class CrmBaseApi(CrmApiMixin, BaseApi):
    """A hand-written API of the app (files, PDFs): JSON errors, tokens only, the UI's permissions."""

    version = "v1"
    allow_browser_login = False


class CrmModelApi(CrmApiMixin, ModelRestApi):
    """FAB's generated CRUD API of one tenant entity, writing through the services (see the module)."""

    version = "v1"
    allow_browser_login = False
    include_route_methods: ClassVar[set[str]] = {"get", "get_list", "post", "put", "delete"}
    method_permission_name: ClassVar[dict[str, str]] = dict(CRUD_PERMISSIONS)
    page_size = 25
    #: the services that write; read-only APIs leave it empty (and list only get/get_list)
    writer: ClassVar[Writer] = Writer()

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.list_model_schema, self.show_model_schema):
            _money_fields(schema, self.datamodel.obj)

    # -- reads ------------------------------------------------------------------------------

    def get_list_headless(self, **kwargs: Any) -> Response:
        """FAB's list, in the caller's company only (the tenancy hooks filter every query)."""
        return guard() or _plain(super().get_list_headless(**kwargs))

    def get_headless(self, pk: Any, **kwargs: Any) -> Response:
        """FAB's show; another company's id is a 404."""
        refused = guard()
        if refused is not None:
            return refused
        ident = inputs.to_id(pk)
        if ident is None:
            return self.response_404()
        return _plain(super().get_headless(ident, **kwargs))

    # -- writes -----------------------------------------------------------------------------

    def _item(self, pk: Any) -> Any:
        ident = inputs.to_id(pk)
        return self.datamodel.get(ident, self._base_filters) if ident is not None else None

    def _body(self, schema: Schema, partial: bool) -> tuple[Optional[dict[str, Any]], Optional[Response]]:
        data = request.get_json(silent=True) if request.is_json else None
        if not isinstance(data, dict):
            return None, json_error(400, "bad_request", gettext("Send a JSON object."))
        try:
            return schema.load(data, partial=partial), None
        except ValidationError as err:
            return None, invalid(err.messages if isinstance(err.messages, dict) else {"": err.messages})

    def _result(self, status: int, item: Any) -> Response:
        db.session.refresh(item)
        return self.response(status, id=item.id, result=self.show_model_schema.dump(item, many=False))

    def _run(self, action: Callable[[], Any]) -> tuple[Any, Optional[Response]]:
        """Run the writer's service calls as one unit of work: all of it is saved, or nothing."""
        try:
            return unit_of_work(action)(), None
        except DomainError as err:
            _rollback()
            return None, domain_error(err)
        except IntegrityError:
            _rollback()
            return None, json_error(409, "conflict", gettext("This conflicts with data that already exists."))

    def post_headless(self) -> Response:
        """Create through the service the UI uses; 201 with the new row."""
        refused = guard()
        if refused is not None:
            return refused
        if self.writer.create is None:
            return json_error(405, "not_allowed", gettext("This action is not available this way."))
        data, error = self._body(self.add_model_schema, partial=False)
        if error is not None or data is None:
            return error or self.response_400()
        create = self.writer.create
        item, error = self._run(lambda: create(caller_company_id() or 0, g.user, data))
        return error or self._result(201, item)

    def put_headless(self, pk: Any) -> Response:
        """Change through the service the UI uses; fields left out keep their values."""
        refused = guard()
        if refused is not None:
            return refused
        item = self._item(pk)
        if item is None:
            return self.response_404()
        if self.writer.update is None:
            return json_error(405, "not_allowed", gettext("This action is not available this way."))
        data, error = self._body(self.edit_model_schema, partial=True)
        if error is not None or data is None:
            return error or self.response_400()
        merged = {**(self.writer.current(item) if self.writer.current else {}), **data}
        update = self.writer.update
        changed, error = self._run(lambda: update(caller_company_id() or 0, g.user, item, merged))
        return error or self._result(200, changed)

    def delete_headless(self, pk: Any) -> Response:
        """Move the row to the trash ("Kosz") through the service the UI uses."""
        refused = guard()
        if refused is not None:
            return refused
        item = self._item(pk)
        if item is None:
            return self.response_404()
        if self.writer.delete is None:
            return json_error(405, "not_allowed", gettext("This action is not available this way."))
        delete = self.writer.delete
        _done, error = self._run(lambda: delete(caller_company_id() or 0, g.user, item))
        return error or json_error(200, "deleted", gettext("Moved to the trash."))


def file_response(name: str, data: bytes, mimetype: str) -> Response:
    """A file of the caller's company, as a download."""
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{_ascii(name)}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in name) or "plik"


def iso(value: Any) -> Any:
    """A date, time or Decimal of a hand-written answer as JSON text."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value
