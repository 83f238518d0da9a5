"""The REST API of every CRM entity, one declaration each (``/api/v1/<resource_name>/``).

An entity is: the model, the UI view's permission name, the columns shown (never ``company_id``,
deletion fields or secrets), the input schemas and the services that write (``Writer``).
Read-only entities list only ``get``/``get_list`` and their files.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import g, request
from flask.typing import ResponseReturnValue
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterContains, FilterEqual, FilterStartsWith
from marshmallow import fields
from sqlalchemy import exists, or_

from app.api.base import (
    ApiSchema,
    Choice,
    CrmBaseApi,
    CrmInterface,
    CrmModelApi,
    Id,
    Text,
    Writer,
    domain_error,
    file_response,
    guard,
    iso,
)
from app.models.binders import Binder
from app.models.campaigns import Campaign
from app.models.contacts import BASE_KINDS, CONTACT_KINDS, ClientBase, Contact, Tag
from app.models.invoicing import Invoice, PurchaseInvoice
from app.models.mailing import Mailbox
from app.models.sales import CURRENCIES, Offer, Order, Product
from app.models.tasks import TASK_PRIORITIES, TASK_STATUSES, Task, TaskCategory, task_assignee
from app.security.api_auth import caller_company_id
from app.services import DomainError
from app.services.contacts import bases as bases_svc
from app.services.contacts import contacts as contacts_svc
from app.services.contacts import search as search_svc
from app.services.contacts import tags as tags_svc
from app.services.invoicing import invoices as invoices_svc
from app.services.invoicing import ksef as ksef_svc
from app.services.invoicing import purchases as purchases_svc
from app.services.sales import offers as offers_svc
from app.services.sales import orders as orders_svc
from app.services.sales import products as products_svc
from app.services.work import attachments as files_svc
from app.services.work import binders as binders_svc
from app.services.work import tasks as tasks_svc

READ_ONLY = {"get", "get_list"}
READ_PERMISSIONS = {"get_list": "list", "get": "list"}
COLOR = {"color": Text(allow_none=True)}


def _extra(schema: Any, **extra: fields.Field) -> None:
    """Add computed fields (ids of related rows, lines) to a generated output schema."""
    for name, field in extra.items():
        field._bind_to_schema(name, schema)
        schema.fields[name] = field
        schema.dump_fields[name] = field
        schema.declared_fields[name] = field


class ExtraFieldsMixin:
    """``show_extra``: computed fields of the show answer (a lambda of the row each)."""

    show_extra: ClassVar[dict[str, Any]] = {}

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()  # type: ignore[misc]
        if self.show_extra:
            _extra(self.show_model_schema, **{k: fields.Function(f, dump_only=True) for k, f in self.show_extra.items()})  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- client bases


class BaseIn(ApiSchema):
    """A new client base."""

    name = Text(required=True)
    kind = Choice(BASE_KINDS, load_default="contacts")


class BaseEdit(ApiSchema):
    """Renaming a client base (its kind stays)."""

    name = Text(required=True)


class ClientBasesApi(CrmModelApi):
    """Client bases ("Bazy klientów")."""

    resource_name = "client-bases"
    openapi_spec_tag = "Client bases"
    class_permission_name = "ClientBases"
    datamodel = CrmInterface(ClientBase)
    list_columns = show_columns = ["id", "name", "kind", "created_at", "updated_at"]
    order_columns = ["id", "name"]
    search_columns = ["name", "kind"]
    add_model_schema = BaseIn()
    edit_model_schema = BaseEdit()
    writer = Writer(
        create=lambda company_id, _user, d: bases_svc.create_base(company_id, d["name"], d["kind"]),
        update=lambda company_id, _user, row, d: bases_svc.rename_base(company_id, row.id, d["name"]),
        delete=lambda company_id, user, row: bases_svc.delete_base(company_id, row.id, user.id),
        current=lambda row: {"name": row.name},
    )


# --------------------------------------------------------------------------- contacts

CONTACT_TEXT = ("name", "first_name", "last_name", "position", "nip", "regon", "krs", "pesel", "street",
                "postal_code", "city", "email", "phone", "website", "notes", "consent_source", "consent_text")


class ContactEdit(ApiSchema):
    """A contact's data (the same fields as the form; the service checks NIP, PESEL, e-mail ...)."""

    name = Text(allow_none=True)
    first_name = Text(allow_none=True)
    last_name = Text(allow_none=True)
    position = Text(allow_none=True)
    nip = Text(allow_none=True)
    regon = Text(allow_none=True)
    krs = Text(allow_none=True)
    pesel = Text(allow_none=True)
    street = Text(allow_none=True)
    postal_code = Text(allow_none=True)
    city = Text(allow_none=True)
    email = Text(allow_none=True)
    phone = Text(allow_none=True)
    website = Text(allow_none=True)
    notes = Text(allow_none=True)
    employer_id = Id(allow_none=True)
    owner_id = Id(allow_none=True)
    consent_given_at = fields.Date(allow_none=True)
    consent_source = Text(allow_none=True)
    consent_text = Text(allow_none=True)
    tag_ids = fields.List(Id(), allow_none=True)


class ContactIn(ContactEdit):
    """A new contact: its base and kind, then the form's fields."""

    base_id = Id(required=True)
    kind = Choice(CONTACT_KINDS, load_default="company")


def _contact_data(d: dict[str, Any]) -> contacts_svc.ContactData:
    texts: dict[str, Any] = {k: d.get(k) for k in CONTACT_TEXT}
    return contacts_svc.ContactData(
        kind=d.get("kind") or "company", employer_id=d.get("employer_id"), owner_id=d.get("owner_id"),
        consent_given_at=d.get("consent_given_at"), **texts,
    )


def _with_tags(company_id: int, contact: Contact, d: dict[str, Any]) -> Contact:
    if d.get("tag_ids") is not None:
        tags_svc.set_contact_tags(company_id, contact.id, d["tag_ids"])
    return contact


def _create_contact(company_id: int, _user: Any, d: dict[str, Any]) -> Contact:
    contact = contacts_svc.create_contact(company_id, d["base_id"], _contact_data(d))
    return _with_tags(company_id, contact, d)


def _update_contact(company_id: int, _user: Any, row: Contact, d: dict[str, Any]) -> Contact:
    contact = contacts_svc.update_contact(company_id, row.id, _contact_data({**d, "kind": row.kind}))
    return _with_tags(company_id, contact, d)


def _contact_now(row: Contact) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(row, k) for k in CONTACT_TEXT}
    values.update(employer_id=row.employer_id, owner_id=row.owner_id,
                  consent_given_at=row.consent_given_at.date() if row.consent_given_at else None)
    return values


class ContactSearch(BaseFilter):
    """The app's contact search (name, e-mail, NIP, phone or city; its indexes): ``opr:search``."""

    name = "Search"
    arg_name = "search"

    def apply(self, query: Any, value: Any) -> Any:
        """Add the search box's WHERE clause of the contact list."""
        clause = search_svc.search_clause(str(value or "")[:100])
        return query if clause is None else query.filter(clause)


CONTACT_COLUMNS = ["id", "base_id", "kind", "name", "first_name", "last_name", "position", "nip", "regon", "krs",
                   "pesel", "street", "postal_code", "city", "email", "phone", "website", "employer_id", "owner_id",
                   "created_at", "updated_at"]


class ContactsApi(ExtraFieldsMixin, CrmModelApi):
    """Contacts of every base: companies ("Firma") and persons ("Osoba")."""

    resource_name = "contacts"
    openapi_spec_tag = "Contacts"
    class_permission_name = "Contacts"
    datamodel = CrmInterface(Contact)
    list_columns = CONTACT_COLUMNS
    show_columns = [*CONTACT_COLUMNS, "notes", "consent_given_at", "consent_source", "consent_text"]
    show_extra: ClassVar[dict[str, Any]] = {"tag_ids": lambda c: sorted(t.id for t in c.tags)}
    order_columns = ["id", "name", "city", "created_at"]
    search_columns = ["name", "email", "city", "nip", "phone", "kind", "base_id"]
    search_filters: ClassVar[dict[str, list[Any]]] = {"name": [ContactSearch, FilterStartsWith, FilterContains, FilterEqual]}
    base_order = ("name_sort", "asc")
    add_model_schema = ContactIn()
    edit_model_schema = ContactEdit()
    writer = Writer(
        create=_create_contact,
        update=_update_contact,
        delete=lambda company_id, user, row: contacts_svc.delete_contacts(company_id, [row.id], user.id),
        current=_contact_now,
    )


# --------------------------------------------------------------------------- tags, task categories


class NamedIn(ApiSchema):
    """A named, coloured settings entry (tag, task category)."""

    name = Text(required=True)
    color = Text(allow_none=True)


class NamedEdit(NamedIn):
    """Changing a named, coloured settings entry."""


class TagIn(NamedIn):
    """A new tag."""


class TagEdit(NamedIn):
    """Changing a tag."""


class TagsApi(CrmModelApi):
    """Tags ("Tagi") of contacts."""

    resource_name = "tags"
    openapi_spec_tag = "Tags"
    class_permission_name = "Tags"
    datamodel = CrmInterface(Tag)
    list_columns = show_columns = ["id", "name", "color"]
    order_columns = ["id", "name"]
    search_columns = ["name"]
    add_model_schema = TagIn()
    edit_model_schema = TagEdit()
    writer = Writer(
        create=lambda company_id, _user, d: tags_svc.create_tag(company_id, d["name"], d.get("color") or tags_svc.DEFAULT_COLOR),
        update=lambda company_id, _user, row, d: tags_svc.update_tag(company_id, row.id, d["name"], d.get("color") or row.color),
        delete=lambda company_id, user, row: tags_svc.delete_tag(company_id, row.id, user.id),
        current=lambda row: {"name": row.name, "color": row.color},
    )


class TaskCategoriesApi(CrmModelApi):
    """Task categories ("Kategorie zadań"); the owner and managers, as in the settings panel."""

    resource_name = "task-categories"
    openapi_spec_tag = "Task categories"
    class_permission_name = "TaskCategories"
    datamodel = CrmInterface(TaskCategory)
    list_columns = show_columns = ["id", "name", "color"]
    order_columns = ["id", "name"]
    search_columns = ["name"]
    add_model_schema = NamedIn()
    edit_model_schema = NamedEdit()
    writer = Writer(
        create=lambda company_id, _user, d: tasks_svc.create_category(company_id, d["name"], d.get("color")),
        update=lambda company_id, _user, row, d: tasks_svc.update_category(company_id, row.id, d["name"], d.get("color")),
        delete=lambda company_id, user, row: tasks_svc.delete_category(company_id, row.id, user.id),
        current=lambda row: {"name": row.name, "color": row.color},
    )


# --------------------------------------------------------------------------- tasks


class VisibleTasks(BaseFilter):
    """The tasks the caller may see: all for the owner and managers, own and assigned for an employee."""

    name = "visible"
    arg_name = "visible"

    def apply(self, query: Any, value: Any) -> Any:
        """Add the role rule of ``tasks.visible_tasks`` to FAB's query."""
        user = g.user
        if tasks_svc.sees_all_tasks(user):
            return query
        mine = exists().where(task_assignee.c.task_id == Task.id, task_assignee.c.user_id == user.id)
        return query.filter(or_(mine, Task.created_by_id == user.id))


class TaskIn(ApiSchema):
    """A task: the fields of the task form."""

    title = Text(required=True)
    description = Text(allow_none=True)
    category_id = Id(allow_none=True)
    assignee_ids = fields.List(Id(), allow_none=True)
    due_date = fields.Date(allow_none=True)
    due_time = fields.Time(allow_none=True)
    priority = Choice(TASK_PRIORITIES, load_default="normal")
    status = Choice(TASK_STATUSES, load_default="todo")
    contact_id = Id(allow_none=True)
    binder_id = Id(allow_none=True)


class TaskEdit(TaskIn):
    """Changing a task (fields left out keep their values)."""


def _task_data(d: dict[str, Any]) -> tasks_svc.TaskData:
    return tasks_svc.TaskData(
        title=d.get("title") or "", description=d.get("description"), category_id=d.get("category_id"),
        assignee_ids=list(d.get("assignee_ids") or []), due_date=d.get("due_date"), due_time=d.get("due_time"),
        priority=d.get("priority") or "normal", status=d.get("status") or "todo", contact_id=d.get("contact_id"),
        binder_id=d.get("binder_id"), remind_at=d.get("remind_at"),
    )


def _task_now(row: Task) -> dict[str, Any]:
    return {
        "title": row.title, "description": row.description, "category_id": row.category_id,
        "assignee_ids": [u.id for u in row.assignees], "due_date": row.due_date, "due_time": row.due_time,
        "priority": row.priority, "status": row.status, "contact_id": row.contact_id, "binder_id": row.binder_id,
        "remind_at": tasks_svc.reminder_local(row.company_id, row.id),
    }


TASK_COLUMNS = ["id", "title", "description", "category_id", "due_date", "due_time", "priority", "status",
                "completed_at", "contact_id", "binder_id", "created_by_id", "created_at", "updated_at"]


class TasksApi(ExtraFieldsMixin, CrmModelApi):
    """Tasks ("Zadania"); an employee sees their own and assigned tasks, as in the app."""

    resource_name = "tasks"
    openapi_spec_tag = "Tasks"
    class_permission_name = "Tasks"
    datamodel = CrmInterface(Task)
    base_filters: ClassVar[list[Any]] = [["id", VisibleTasks, lambda: None]]
    list_columns = show_columns = TASK_COLUMNS
    show_extra: ClassVar[dict[str, Any]] = {"assignee_ids": lambda t: [u.id for u in t.assignees]}
    order_columns = ["id", "due_date", "title", "status", "priority"]
    search_columns = ["title", "status", "priority", "due_date", "contact_id", "binder_id", "category_id"]
    base_order = ("id", "desc")
    add_model_schema = TaskIn()
    edit_model_schema = TaskEdit()
    writer = Writer(
        create=lambda company_id, user, d: tasks_svc.create_task(company_id, user, _task_data(d)),
        update=lambda company_id, user, row, d: tasks_svc.update_task(company_id, user, row.id, _task_data(d)),
        delete=lambda company_id, user, row: tasks_svc.delete_task(company_id, user, row.id),
        current=_task_now,
    )


# --------------------------------------------------------------------------- binders and files


class BinderIn(ApiSchema):
    """A binder: name, client and description."""

    name = Text(required=True)
    contact_id = Id(allow_none=True)
    description = Text(allow_none=True)


class BinderEdit(BinderIn):
    """Changing a binder."""


def _binder_data(d: dict[str, Any]) -> binders_svc.BinderData:
    return binders_svc.BinderData(name=d.get("name") or "", contact_id=d.get("contact_id"), description=d.get("description"))


def _file_json(att: Any) -> dict[str, Any]:
    return {"id": att.id, "filename": att.filename, "size": att.size, "mime": att.mime, "created_at": iso(att.created_at)}


class BindersApi(CrmModelApi):
    """Binders ("Segregatory") and the list of their files."""

    resource_name = "binders"
    openapi_spec_tag = "Binders"
    class_permission_name = "Binders"
    datamodel = CrmInterface(Binder)
    list_columns = show_columns = ["id", "name", "description", "contact_id", "created_by_id", "created_at", "updated_at"]
    order_columns = ["id", "name"]
    search_columns = ["name", "contact_id"]
    include_route_methods: ClassVar[set[str]] = {*CrmModelApi.include_route_methods, "files", "upload"}
    method_permission_name: ClassVar[dict[str, str]] = {**CrmModelApi.method_permission_name, "files": "list",
                                                        "upload": "edit"}
    add_model_schema = BinderIn()
    edit_model_schema = BinderEdit()
    writer = Writer(
        create=lambda company_id, user, d: binders_svc.create_binder(company_id, _binder_data(d), user.id),
        update=lambda company_id, _user, row, d: binders_svc.update_binder(company_id, row.id, _binder_data(d)),
        delete=lambda company_id, user, row: binders_svc.delete_binder(company_id, row.id, user.id),
        current=lambda row: {"name": row.name, "contact_id": row.contact_id, "description": row.description},
    )

    @expose("/<int:pk>/files", methods=["GET"])
    @protect()
    @safe
    def files(self, pk: int) -> ResponseReturnValue:
        """The files of a binder (download each at /api/v1/files/{id}).
        ---
        get:
          summary: Files of a binder
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The files
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        refused = guard()
        if refused is not None:
            return refused
        company_id = caller_company_id() or 0
        if binders_svc.get_binder(company_id, pk) is None:
            return self.response_404()
        return self.response(200, result=[_file_json(a) for a in files_svc.binder_attachments(company_id, pk)])


    @expose("/<int:pk>/files", methods=["POST"])
    @protect()
    @safe
    def upload(self, pk: int) -> ResponseReturnValue:
        """Add a file to a binder (multipart/form-data, field ``file``), checked as in the app.
        ---
        post:
          summary: Add a file to a binder
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file:
                      type: string
                      format: binary
          responses:
            201:
              description: The stored file
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        refused = guard()
        if refused is not None:
            return refused
        company_id = caller_company_id() or 0
        binder = binders_svc.get_binder(company_id, pk)
        if binder is None:
            return self.response_404()
        sent = request.files.get("file")
        data, name = (sent.read(), sent.filename or "") if sent is not None else (b"", "")
        try:
            att = files_svc.store_attachment(company_id, data, name, binder_id=binder.id, user_id=g.user.id)
        except DomainError as err:
            return domain_error(err)
        return self.response(201, id=att.id, result=_file_json(att))


class FilesApi(CrmBaseApi):
    """Download of a stored file (a binder's file)."""

    resource_name = "files"
    openapi_spec_tag = "Binders"
    class_permission_name = "Attachments"
    method_permission_name: ClassVar[dict[str, str]] = {"download": "read"}

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def download(self, pk: int) -> ResponseReturnValue:
        """Download a file of the company.
        ---
        get:
          summary: Download a file
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The file
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        refused = guard()
        if refused is not None:
            return refused
        att = files_svc.get_attachment(caller_company_id() or 0, pk)
        if att is None:
            return self.response_404()
        try:
            data = files_svc.read_attachment(att)
        except Exception:  # noqa: BLE001  (a file missing from the storage is a 404, as in the app)
            return self.response_404()
        return file_response(att.filename, data, att.mime)


# --------------------------------------------------------------------------- products


class ProductIn(ApiSchema):
    """A product or service of the price list ("Cennik"); the price is a string like "120.00"."""

    name = Text(required=True)
    code = Text(allow_none=True)
    unit = Text(load_default="szt.")
    net_price = Text(required=True)
    currency = Choice(CURRENCIES, load_default="PLN")
    vat_rate = Text(load_default="23")


class ProductEdit(ProductIn):
    """Changing a product."""


def _product_data(d: dict[str, Any]) -> products_svc.ProductData:
    return products_svc.ProductData(name=d.get("name"), unit=d.get("unit"), net_price=d.get("net_price"),
                                    currency=d.get("currency"), vat_rate=d.get("vat_rate"), code=d.get("code"))


class ProductsApi(CrmModelApi):
    """The price list ("Cennik")."""

    resource_name = "products"
    openapi_spec_tag = "Products"
    class_permission_name = "Products"
    datamodel = CrmInterface(Product)
    list_columns = show_columns = ["id", "name", "code", "unit", "net_price", "currency", "vat_rate"]
    order_columns = ["id", "name", "code", "net_price"]
    search_columns = ["name", "code"]
    add_model_schema = ProductIn()
    edit_model_schema = ProductEdit()
    writer = Writer(
        create=lambda company_id, _user, d: products_svc.create_product(company_id, _product_data(d)),
        update=lambda company_id, _user, row, d: products_svc.update_product(company_id, row.id, _product_data(d)),
        delete=lambda company_id, user, row: products_svc.delete_product(company_id, user.id, row.id),
        current=lambda row: {"name": row.name, "code": row.code, "unit": row.unit, "net_price": f"{row.net_price:.2f}",
                             "currency": row.currency, "vat_rate": row.vat_rate},
    )


# --------------------------------------------------------------------------- offers, orders (read-only)


def _lines(items: Any) -> list[dict[str, Any]]:
    return [{"position": i.position, "name": i.name, "code": i.code, "unit": i.unit,
             "quantity": f"{i.quantity:.3f}", "unit_price": iso(i.unit_price), "discount": iso(i.discount),
             "vat_rate": i.vat_rate, "net": iso(i.net), "product_id": i.product_id} for i in items]


DOC_COLUMNS = ["id", "number", "contact_id", "issue_date", "currency", "language", "total_net", "total_vat",
               "total_gross", "binder_id", "payment_terms", "notes", "version", "created_at", "updated_at"]


def _pdf(found: tuple[str, bytes] | None, api: CrmBaseApi | CrmModelApi) -> ResponseReturnValue:
    if found is None:
        return api.response_404()
    name, data = found
    return file_response(name, data, "application/pdf")


PDF_DOC = """
        ---
        get:
          summary: {summary}
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The file
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
"""


class OffersApi(ExtraFieldsMixin, CrmModelApi):
    """Offers ("Oferty"), read-only, with the PDF of their latest version."""

    resource_name = "offers"
    openapi_spec_tag = "Offers"
    class_permission_name = "Offers"
    datamodel = CrmInterface(Offer)
    include_route_methods: ClassVar[set[str]] = {*READ_ONLY, "pdf"}
    method_permission_name: ClassVar[dict[str, str]] = {**READ_PERMISSIONS, "pdf": "list"}
    list_columns = show_columns = [*DOC_COLUMNS, "status", "valid_until", "template", "sent_at"]
    show_extra: ClassVar[dict[str, Any]] = {"items": lambda o: _lines(o.items)}
    order_columns = ["id", "number", "issue_date", "status"]
    search_columns = ["number", "status", "contact_id", "issue_date"]
    base_order = ("id", "desc")

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    def pdf(self, pk: int) -> ResponseReturnValue:
        """The PDF of the offer's latest version."""
        refused = guard()
        if refused is not None:
            return refused
        company_id = caller_company_id() or 0
        offer = offers_svc.get_offer(company_id, pk)
        if offer is None:
            return self.response_404()
        return _pdf(offers_svc.version_pdf(company_id, pk, offer.version), self)

    pdf.__doc__ = (pdf.__doc__ or "") + PDF_DOC.format(summary="PDF of the offer")


class OrdersApi(ExtraFieldsMixin, CrmModelApi):
    """Orders ("Zlecenia"), read-only, with their PDF."""

    resource_name = "orders"
    openapi_spec_tag = "Orders"
    class_permission_name = "Orders"
    datamodel = CrmInterface(Order)
    include_route_methods: ClassVar[set[str]] = {*READ_ONLY, "pdf"}
    method_permission_name: ClassVar[dict[str, str]] = {**READ_PERMISSIONS, "pdf": "list"}
    list_columns = show_columns = [*DOC_COLUMNS, "status", "offer_id", "due_date"]
    show_extra: ClassVar[dict[str, Any]] = {"items": lambda o: _lines(o.items)}
    order_columns = ["id", "number", "issue_date", "status"]
    search_columns = ["number", "status", "contact_id", "issue_date"]
    base_order = ("id", "desc")

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    def pdf(self, pk: int) -> ResponseReturnValue:
        """The PDF of the order."""
        refused = guard()
        return refused or _pdf(orders_svc.order_pdf(caller_company_id() or 0, pk), self)

    pdf.__doc__ = (pdf.__doc__ or "") + PDF_DOC.format(summary="PDF of the order")


# --------------------------------------------------------------------------- invoices (read-only)


def _invoice_lines(inv: Invoice) -> list[dict[str, Any]]:
    return [{"position": i.position, "name": i.name, "unit": i.unit, "quantity": f"{i.quantity:.3f}",
             "unit_net": iso(i.unit_net), "discount": iso(i.discount), "rate_code": i.rate_code, "net": iso(i.net),
             "before_correction": i.before, "product_id": i.product_id} for i in inv.items]


INVOICE_COLUMNS = ["id", "kind", "status", "number", "issue_date", "sale_date", "due_date", "place_of_issue",
                   "buyer_contact_id", "buyer_name", "buyer_nip", "buyer_street", "buyer_postal_code", "buyer_city",
                   "buyer_country", "currency", "payment_method", "total_net", "total_vat", "total_gross",
                   "paid_amount", "paid_at", "split_payment", "ksef_status", "ksef_number", "order_id", "offer_id",
                   "binder_id", "corrected_id", "issued_at", "cancelled_at", "created_at"]


class InvoicesApi(ExtraFieldsMixin, CrmModelApi):
    """Sales invoices ("Faktury"), read-only, with their PDF and FA(3) XML."""

    resource_name = "invoices"
    openapi_spec_tag = "Invoices"
    class_permission_name = "Invoices"
    datamodel = CrmInterface(Invoice)
    include_route_methods: ClassVar[set[str]] = {*READ_ONLY, "pdf", "xml"}
    method_permission_name: ClassVar[dict[str, str]] = {**READ_PERMISSIONS, "pdf": "list", "xml": "list"}
    list_columns = show_columns = INVOICE_COLUMNS
    show_extra: ClassVar[dict[str, Any]] = {"items": _invoice_lines}
    order_columns = ["id", "number", "issue_date", "status"]
    search_columns = ["number", "status", "kind", "buyer_name", "buyer_nip", "issue_date", "buyer_contact_id"]
    base_order = ("id", "desc")

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    def pdf(self, pk: int) -> ResponseReturnValue:
        """The PDF of an issued invoice."""
        refused = guard()
        return refused or _pdf(invoices_svc.invoice_pdf(caller_company_id() or 0, pk), self)

    pdf.__doc__ = (pdf.__doc__ or "") + PDF_DOC.format(summary="PDF of the invoice")

    @expose("/<int:pk>/xml", methods=["GET"])
    @protect()
    @safe
    def xml(self, pk: int) -> ResponseReturnValue:
        """The FA(3) XML of an issued invoice."""
        refused = guard()
        if refused is not None:
            return refused
        inv = invoices_svc.get_invoice(caller_company_id() or 0, pk)
        if inv is None or not inv.xml:
            return self.response_404()
        return file_response(invoices_svc.pdf_filename(inv)[:-4] + ".xml", inv.xml, "application/xml")

    xml.__doc__ = (xml.__doc__ or "") + PDF_DOC.format(summary="FA(3) XML of the invoice")


class InvoiceUpoApi(CrmBaseApi):
    """The UPO (KSeF receipt) of an invoice: the owner and managers, as "Wyślij do KSeF" in the app."""

    route_base = "/api/v1/invoices"
    openapi_spec_tag = "Invoices"
    class_permission_name = "KsefSending"
    method_permission_name: ClassVar[dict[str, str]] = {"upo": "upo"}

    @expose("/<int:pk>/upo", methods=["GET"])
    @protect()
    @safe
    def upo(self, pk: int) -> ResponseReturnValue:
        """The UPO XML of an invoice accepted by KSeF."""
        refused = guard()
        if refused is not None:
            return refused
        found = ksef_svc.upo(caller_company_id() or 0, pk)
        if found is None:
            return self.response_404()
        return file_response(found[0], found[1], "application/xml")

    upo.__doc__ = (upo.__doc__ or "") + PDF_DOC.format(summary="UPO of the invoice")


class PurchaseInvoicesApi(CrmModelApi):
    """Purchase invoices ("Faktury zakupowe") fetched from KSeF, read-only, with their XML."""

    resource_name = "purchase-invoices"
    openapi_spec_tag = "Purchase invoices"
    class_permission_name = "PurchaseInvoices"
    datamodel = CrmInterface(PurchaseInvoice)
    include_route_methods: ClassVar[set[str]] = {*READ_ONLY, "xml"}
    method_permission_name: ClassVar[dict[str, str]] = {"get_list": "index", "get": "index", "xml": "xml"}
    list_columns = show_columns = ["id", "ksef_number", "invoice_number", "seller_nip", "seller_name",
                                   "seller_contact_id", "issue_date", "currency", "total_net", "total_vat",
                                   "total_gross", "fetched_at"]
    order_columns = ["id", "issue_date", "invoice_number"]
    search_columns = ["invoice_number", "seller_nip", "seller_name", "issue_date"]
    base_order = ("id", "desc")

    @expose("/<int:pk>/xml", methods=["GET"])
    @protect()
    @safe
    def xml(self, pk: int) -> ResponseReturnValue:
        """The invoice's XML as fetched from KSeF."""
        refused = guard()
        if refused is not None:
            return refused
        row = purchases_svc.get_purchase(caller_company_id() or 0, pk)
        if row is None or not row.xml:
            return self.response_404()
        return file_response(f"{row.ksef_number}.xml", row.xml, "application/xml")

    xml.__doc__ = (xml.__doc__ or "") + PDF_DOC.format(summary="XML of the purchase invoice")


class MailboxesApi(CrmModelApi):
    """The company's mailboxes ("Mailing"), read-only, never with their secrets."""

    resource_name = "mailboxes"
    openapi_spec_tag = "Mailboxes"
    class_permission_name = "Mailboxes"
    datamodel = CrmInterface(Mailbox)
    include_route_methods = READ_ONLY
    method_permission_name = READ_PERMISSIONS
    list_columns = show_columns = ["id", "email", "sender_name", "smtp_host", "smtp_port", "smtp_security",
                                   "imap_host", "imap_port", "imap_security", "login", "state", "verified_at",
                                   "last_error", "rate_per_minute", "daily_cap"]
    order_columns = ["id", "email"]
    search_columns = ["email", "state"]
    base_order = ("id", "asc")


class CampaignsApi(CrmModelApi):
    """E-mail campaigns ("Emailing"), read-only: subject, state and times (the HTML body stays in the app)."""

    resource_name = "campaigns"
    openapi_spec_tag = "Campaigns"
    class_permission_name = "Campaigns"
    datamodel = CrmInterface(Campaign)
    include_route_methods = READ_ONLY
    method_permission_name = READ_PERMISSIONS
    list_columns = show_columns = ["id", "subject", "status", "mailbox_id", "scheduled_at", "started_at",
                                   "finished_at", "created_at"]
    order_columns = ["id", "created_at", "scheduled_at"]
    search_columns = ["subject", "status"]
    base_order = ("id", "desc")


#: every entity API, in the order of the OpenAPI document
ENTITY_APIS: tuple[type, ...] = (
    ClientBasesApi, ContactsApi, TagsApi, TaskCategoriesApi, TasksApi, BindersApi, FilesApi, ProductsApi,
    OffersApi, OrdersApi, InvoicesApi, InvoiceUpoApi, PurchaseInvoicesApi, MailboxesApi, CampaignsApi,
)
