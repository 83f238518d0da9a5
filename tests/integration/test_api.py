"""REST API (/api/v1/): tenant isolation of every entity and method, writes through the services,
JSON errors in Polish, role limits from the same roles as the app, FAB's security APIs unreachable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Binder, ClientBase, Contact, Invoice, Offer, Order, Product, Tag, Task, TaskCategory
from app.models.campaigns import Campaign
from app.models.invoicing import PurchaseInvoice
from app.models.mailing import Mailbox
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import secrets
from app.services.accounts import api_tokens
from app.services.contacts import tags as tags_svc
from app.services.work import tasks as tasks_svc
from app.services.work.attachments import store_attachment
from tests.helpers import login
from tests.integration.invoices_fixtures import create as create_invoice
from tests.integration.invoices_fixtures import seed_invoicing
from tests.integration.sales_fixtures import offer_form
from tests.integration.test_orders import order_form

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

#: resource -> the seed key of a row of that entity
RESOURCES = {
    "client-bases": "base_id",
    "contacts": "client_id",
    "tags": "tag_id",
    "task-categories": "category_id",
    "tasks": "task_id",
    "binders": "binder_id",
    "products": "product_id",
    "offers": "offer_id",
    "orders": "order_id",
    "invoices": "invoice_id",
    "purchase-invoices": "purchase_id",
    "mailboxes": "mailbox_id",
    "campaigns": "campaign_id",
}
#: resource -> a valid change (PUT) of a writable entity
CHANGES = {
    "client-bases": {"name": "Zmieniona"},
    "contacts": {"city": "Zmienione"},
    "tags": {"name": "zmieniony"},
    "task-categories": {"name": "Zmieniona"},
    "tasks": {"title": "Zmienione"},
    "binders": {"name": "Zmieniony"},
    "products": {"name": "Zmieniony", "net_price": "1.00"},
}
READ_ONLY = sorted(set(RESOURCES) - set(CHANGES))
#: files and documents: url pattern -> seed keys
FILES = {
    "/api/v1/binders/{binder_id}/files": "application/json",
    "/api/v1/files/{file_id}": "application/pdf",
    "/api/v1/offers/{offer_id}/pdf": "application/pdf",
    "/api/v1/orders/{order_id}/pdf": "application/pdf",
    "/api/v1/invoices/{invoice_id}/pdf": "application/pdf",
    "/api/v1/invoices/{invoice_id}/xml": "application/xml",
    "/api/v1/invoices/{invoice_id}/upo": "application/xml",
    "/api/v1/purchase-invoices/{purchase_id}/xml": "application/xml",
}
MODELS = {
    "client-bases": ClientBase, "contacts": Contact, "tags": Tag, "task-categories": TaskCategory, "tasks": Task,
    "binders": Binder, "products": Product, "offers": Offer, "orders": Order, "invoices": Invoice,
    "purchase-invoices": PurchaseInvoice, "mailboxes": Mailbox, "campaigns": Campaign,
}


# ----------------------------------------------------------------------------- helpers


def make_token(app: Any, user_id: int, scope: str = "write", days: int = 30) -> str:
    """A personal API token of a user, made through the service."""
    with app.app_context():
        user = db.session.get(CrmUser, user_id)
        with tenant_scope(user.company_id):
            secret = api_tokens.create_token(user.company_id, user, api_tokens.TokenData("test", scope, days)).secret
        db.session.remove()
    return secret


class Api:
    """A test client that sends a bearer token."""

    def __init__(self, app: Any, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str) -> Any:
        """GET with the token."""
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, body: Any) -> Any:
        """POST JSON with the token."""
        return self.client.post(url, json=body, headers=self.headers)

    def put(self, url: str, body: Any) -> Any:
        """PUT JSON with the token."""
        return self.client.put(url, json=body, headers=self.headers)

    def delete(self, url: str) -> Any:
        """DELETE with the token."""
        return self.client.delete(url, headers=self.headers)

    def ids(self, resource: str) -> set[int]:
        """Every id the list of a resource shows (all pages)."""
        resp = self.get(f"/api/v1/{resource}/?q=(page:0,page_size:100)")
        assert resp.status_code == 200, (resource, resp.get_json())
        return set(resp.get_json()["ids"])


def seed_company(app: Any, info: dict, suffix: str) -> dict:
    """A company with one row of every entity, made through the app's pages and services."""
    data = seed_invoicing(app, info, suffix)
    web = app.test_client()
    assert login(web, info["email"]).status_code == 302
    resp = web.post("/offers/add", data=offer_form(data))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    resp = web.post("/orders/add", data=order_form(data))
    assert resp.status_code == 302
    data["invoice_id"] = create_invoice(web, data, issue=True)
    with app.app_context(), tenant_scope(info["company_id"]):
        owner = db.session.get(CrmUser, info["owner_id"])
        data["offer_id"] = db.session.execute(select(Offer.id)).scalar_one()
        data["order_id"] = db.session.execute(select(Order.id)).scalar_one()
        data["base_id"] = db.session.get(Contact, data["client_id"]).base_id
        data["mailing_base_id"] = db.session.get(Contact, data["mailing_contact_id"]).base_id
        data["tag_id"] = tags_svc.create_tag(info["company_id"], "vip" + suffix).id
        data["category_id"] = tasks_svc.create_category(info["company_id"], "Telefony" + suffix).id
        data["task_id"] = tasks_svc.create_task(
            info["company_id"], owner, tasks_svc.TaskData(title="Zadzwoń" + suffix, contact_id=data["client_id"])
        ).id
        data["file_id"] = store_attachment(info["company_id"], PDF, f"umowa{suffix}.pdf",
                                           binder_id=data["binder_id"], user_id=owner.id).id
        data["product_id"] = data["product_ids"][0]
        invoice = db.session.get(Invoice, data["invoice_id"])
        invoice.upo_xml = f"<UPO>{suffix}</UPO>".encode()
        purchase = PurchaseInvoice(ksef_number=f"5260250274-20261130-{suffix or 'A'}", invoice_number="FZ/1" + suffix,
                                   seller_nip="5260250274", seller_name="Dostawca", issue_date=dt.date.today(),
                                   xml=b"<Faktura/>")
        db.session.add(purchase)
        mailbox = Mailbox(email=f"biuro{suffix.strip()}@firma-testowa.pl", smtp_host="smtp.firma-testowa.pl",
                          imap_host="imap.firma-testowa.pl", login="biuro", password_encrypted=secrets.encrypt("tajne-haslo"),
                          state="active")
        db.session.add(mailbox)
        db.session.flush()
        campaign = Campaign(subject="Nowości" + suffix, body_html="<p>Dzień dobry {imie}</p>", mailbox_id=mailbox.id)
        db.session.add(campaign)
        db.session.commit()
        data["purchase_id"] = purchase.id
        data["mailbox_id"] = mailbox.id
        data["campaign_id"] = campaign.id
        db.session.remove()
    return data


@pytest.fixture()
def two(app: Any, make_company: Any) -> dict:
    """Companies A and B, each with one row of every entity and a read-write token of its owner."""
    a = seed_company(app, make_company(), "")
    b = seed_company(app, make_company(), " B")
    return {"a": a, "b": b, "api_a": Api(app, make_token(app, a["owner_id"])),
            "api_b": Api(app, make_token(app, b["owner_id"]))}


def _url(pattern: str, seed: dict) -> str:
    return pattern.format(**seed)


def _snapshot(app: Any, resource: str, row_id: int) -> dict:
    """The columns of one row, read past the tenancy filter (the test checks nothing changed)."""
    model = MODELS[resource]
    with app.app_context(), all_tenants():
        row = db.session.execute(
            select(model).where(model.id == row_id).execution_options(include_deleted=True)
        ).scalar_one()
        values = {c.key: getattr(row, c.key) for c in model.__table__.columns}
        db.session.remove()
    return values


# ----------------------------------------------------------------------------- isolation


def test_each_company_sees_its_own_rows_of_every_entity(two):
    """Lists, shows and files: A sees A's rows, B sees B's rows, never the other's."""
    a, b = two["a"], two["b"]
    for resource, key in RESOURCES.items():
        for me, other, api in ((a, b, two["api_a"]), (b, a, two["api_b"])):
            ids = api.ids(resource)
            assert me[key] in ids, (resource, "own row missing")
            assert other[key] not in ids, (resource, "another company's row listed")
            assert api.get(f"/api/v1/{resource}/{me[key]}").status_code == 200
    for pattern, mime in FILES.items():
        resp = two["api_a"].get(_url(pattern, a))
        assert resp.status_code == 200, (pattern, resp.get_data()[:200])
        assert resp.mimetype == mime


def test_another_companys_ids_are_404_for_every_method(app, two):
    """B asks for A's ids: GET, PUT and DELETE answer 404 and A's rows stay as they were."""
    a, api_b = two["a"], two["api_b"]
    for resource, key in RESOURCES.items():
        before = _snapshot(app, resource, a[key])
        resp = api_b.get(f"/api/v1/{resource}/{a[key]}")
        assert resp.status_code == 404, (resource, resp.get_json())
        assert resp.get_json() == {"code": "not_found", "message": "Nie znaleziono."}
        if resource in CHANGES:
            assert api_b.put(f"/api/v1/{resource}/{a[key]}", CHANGES[resource]).status_code == 404, resource
            assert api_b.delete(f"/api/v1/{resource}/{a[key]}").status_code == 404, resource
        assert _snapshot(app, resource, a[key]) == before, resource
    for pattern in FILES:
        resp = api_b.get(_url(pattern, a))
        assert resp.status_code == 404, pattern
        assert resp.mimetype == "application/json"


def test_read_only_entities_have_no_write_methods(two):
    """Offers, orders and invoices are read-only through the API: POST, PUT and DELETE are 405."""
    a, api_a = two["a"], two["api_a"]
    for resource in READ_ONLY:
        row = a[RESOURCES[resource]]
        assert api_a.post(f"/api/v1/{resource}/", {"number": "X"}).status_code == 405, resource
        assert api_a.put(f"/api/v1/{resource}/{row}", {"number": "X"}).status_code == 405, resource
        resp = api_a.delete(f"/api/v1/{resource}/{row}")
        assert resp.status_code == 405, resource
        assert resp.get_json()["code"] == "not_allowed"


def test_another_companys_ids_inside_bodies_are_refused(app, two):
    """B's writes that name A's rows are refused with a Polish reason and save nothing."""
    a, b, api_b = two["a"], two["b"], two["api_b"]
    attempts = [
        ("contacts", {"base_id": a["base_id"], "name": "Obca baza"}, "base_id"),
        ("contacts", {"base_id": b["base_id"], "name": "Obcy pracodawca", "kind": "person", "first_name": "Jan",
                      "last_name": "Nowak", "employer_id": a["client_id"]}, "employer_id"),
        ("contacts", {"base_id": b["base_id"], "name": "Obcy opiekun", "owner_id": a["owner_id"]}, "owner_id"),
        ("contacts", {"base_id": b["base_id"], "name": "Obcy tag", "tag_ids": [a["tag_id"]]}, "tag_id"),
        ("tasks", {"title": "Obcy klient", "contact_id": a["client_id"]}, "contact_id"),
        ("tasks", {"title": "Obcy segregator", "binder_id": a["binder_id"]}, "binder_id"),
        ("tasks", {"title": "Obca kategoria", "category_id": a["category_id"]}, "category_id"),
        ("tasks", {"title": "Obca osoba", "assignee_ids": [a["owner_id"]]}, "assignee_ids"),
        ("binders", {"name": "Obcy klient", "contact_id": a["client_id"]}, "contact_id"),
    ]
    for resource, body, field in attempts:
        before = two["api_b"].ids(resource)
        resp = api_b.post(f"/api/v1/{resource}/", body)
        assert resp.status_code == 422, (resource, body, resp.get_json())
        got = resp.get_json()
        assert got["code"] == "invalid" and field in got["fields"], (resource, got)
        assert api_b.ids(resource) == before, (resource, "something was saved")
    # a change of B's own row that names A's row is refused the same way
    resp = api_b.put(f"/api/v1/tasks/{b['task_id']}", {"contact_id": a["client_id"]})
    assert resp.status_code == 422 and "contact_id" in resp.get_json()["fields"]
    resp = api_b.put(f"/api/v1/contacts/{b['client_id']}", {"tag_ids": [a["tag_id"]]})
    assert resp.status_code == 422
    assert api_b.get(f"/api/v1/contacts/{b['client_id']}").get_json()["result"]["tag_ids"] == []
    # and the same body with B's own rows is accepted (the refusals above are about the ids)
    resp = api_b.post("/api/v1/tasks/", {"title": "Swoje", "contact_id": b["client_id"], "binder_id": b["binder_id"],
                                         "category_id": b["category_id"], "assignee_ids": [b["owner_id"]]})
    assert resp.status_code == 201, resp.get_json()


def test_every_call_sees_exactly_its_own_company(app, two):
    """Calls of A and B, one after the other on one worker, each see only their company."""
    a, b = two["a"], two["b"]
    for _ in range(3):
        for me, other, api in ((a, b, two["api_a"]), (b, a, two["api_b"])):
            got = api.get("/api/v1/contacts/?q=(page_size:100)").get_json()
            names = {row["name"] for row in got["result"]}
            assert {n for n in names if n.endswith(" B")} == ({n for n in names} if me is b else set())
            assert other["client_id"] not in got["ids"]
            created = api.post("/api/v1/tags/", {"name": f"t{len(api.ids('tags'))}"})
            assert created.status_code == 201
            with app.app_context(), all_tenants():
                assert db.session.get(Tag, created.get_json()["id"]).company_id == me["company_id"]
                db.session.remove()


# ----------------------------------------------------------------------------- writes and rules


def test_writes_go_through_the_services(app, two):
    """Validation, the mailing-base rule, numbering-free entities, duplicates and DELETE to the trash."""
    b, api_b = two["b"], two["api_b"]
    resp = api_b.post("/api/v1/contacts/", {"base_id": b["base_id"], "name": "Zły NIP", "nip": "1234567890"})
    assert resp.status_code == 422
    assert resp.get_json()["fields"]["nip"] == "NIP ma nieprawidłową cyfrę kontrolną."
    resp = api_b.post("/api/v1/contacts/", {"base_id": b["base_id"], "kind": "person", "first_name": "Anna",
                                            "last_name": "Nowak", "pesel": "12345678901"})
    assert resp.status_code == 422 and "pesel" in resp.get_json()["fields"]
    # a mailing-base contact is refused for a task and a binder, as in the app
    resp = api_b.post("/api/v1/tasks/", {"title": "Mailing", "contact_id": b["mailing_contact_id"]})
    assert resp.status_code == 422 and "contact_id" in resp.get_json()["fields"]
    resp = api_b.post("/api/v1/binders/", {"name": "Mailing", "contact_id": b["mailing_contact_id"]})
    assert resp.status_code == 422 and "contact_id" in resp.get_json()["fields"]
    # a duplicate is a 422 with the Polish reason, never a 500
    for resource, body in (("tags", {"name": "vip B"}), ("client-bases", {"name": "Klienci B"}),
                           ("task-categories", {"name": "Telefony B"}), ("products", {"name": "X", "code": "WDR B",
                                                                                      "net_price": "1"})):
        resp = api_b.post(f"/api/v1/{resource}/", body)
        assert resp.status_code == 422, (resource, resp.get_json())
        assert "już" in resp.get_json()["message"], resp.get_json()
    # a valid contact is saved with every field the service computes
    resp = api_b.post("/api/v1/contacts/", {"base_id": b["base_id"], "name": "Nowa Firma", "nip": "526-025-02-74",
                                            "tag_ids": [b["tag_id"]]})
    assert resp.status_code == 201, resp.get_json()
    result = resp.get_json()["result"]
    assert result["nip"] == "5260250274" and result["tag_ids"] == [b["tag_id"]]
    assert "company_id" not in result and "deleted_at" not in result
    # DELETE goes to the trash: gone from the API, kept in the table with its deletion id
    contact_id = resp.get_json()["id"]
    resp = api_b.delete(f"/api/v1/contacts/{contact_id}")
    assert resp.status_code == 200 and resp.get_json()["code"] == "deleted"
    assert api_b.get(f"/api/v1/contacts/{contact_id}").status_code == 404
    row = _snapshot(app, "contacts", contact_id)
    assert row["deleted_at"] is not None and row["deletion_id"] and row["deleted_by_id"] == b["owner_id"]


def test_money_is_a_string_with_two_decimals_and_no_hidden_columns(two):
    """Prices and totals are strings like "4500.00"; no schema shows company_id, deletion fields or file bytes."""
    a, api_a = two["a"], two["api_a"]
    product = api_a.get(f"/api/v1/products/{a['product_id']}").get_json()["result"]
    assert product["net_price"] == "4500.00"
    invoice = api_a.get(f"/api/v1/invoices/{a['invoice_id']}").get_json()["result"]
    assert isinstance(invoice["total_gross"], str) and invoice["total_gross"].count(".") == 1
    assert len(invoice["total_gross"].split(".")[1]) == 2
    hidden = {"company_id", "deleted_at", "deleted_by_id", "deletion_id", "xml", "upo_xml", "token_hash", "storage_key", "password_encrypted", "verify_token", "body_html", "unsubscribe_url"}
    for resource, key in RESOURCES.items():
        shown = api_a.get(f"/api/v1/{resource}/{a[key]}").get_json()["result"]
        listed = api_a.get(f"/api/v1/{resource}/").get_json()["result"][0]
        assert not hidden & (set(shown) | set(listed)), resource


def test_put_keeps_the_fields_it_does_not_name(two):
    """A PUT with one field changes that field only (the service gets the other values as they are)."""
    b, api_b = two["b"], two["api_b"]
    before = api_b.get(f"/api/v1/contacts/{b['client_id']}").get_json()["result"]
    resp = api_b.put(f"/api/v1/contacts/{b['client_id']}", {"phone": "601 222 333"})
    assert resp.status_code == 200, resp.get_json()
    after = resp.get_json()["result"]
    assert after["phone"] != before["phone"]
    assert {k: v for k, v in after.items() if k not in ("phone", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("phone", "updated_at")}


def test_bad_requests_are_polish_json_never_500(two):
    """Not JSON, unknown fields, wrong types, ids out of range, bad query: JSON with a stable code."""
    api_b = two["api_b"]
    resp = api_b.client.post("/api/v1/tags/", data="name=x", headers={**api_b.headers, "Content-Type": "text/plain"})
    assert resp.status_code == 400 and resp.get_json()["code"] == "bad_request"
    resp = api_b.post("/api/v1/tags/", {"name": "x", "company_id": two["a"]["company_id"]})
    assert resp.status_code == 422
    assert resp.get_json()["fields"] == {"company_id": "Nieznane pole."}
    resp = api_b.post("/api/v1/tasks/", {"title": "x", "contact_id": "abc", "due_date": "jutro"})
    assert resp.status_code == 422
    assert resp.get_json()["fields"] == {"contact_id": "Podaj liczbę całkowitą.", "due_date": "Podaj datę w formacie RRRR-MM-DD."}
    assert api_b.get("/api/v1/contacts/99999999999999999999").status_code == 404
    assert api_b.put("/api/v1/contacts/abc", {"city": "x"}).status_code == 404
    assert api_b.delete("/api/v1/contacts/0").status_code == 404
    resp = api_b.get("/api/v1/contacts/?q=(order_column:password,order_direction:asc)")
    assert resp.status_code == 400 and resp.get_json()["code"] == "bad_request"
    resp = api_b.get("/api/v1/contacts/?q=(((")
    assert resp.status_code == 400 and resp.get_json()["code"] == "bad_request"


# ----------------------------------------------------------------------------- roles and security APIs


def test_employee_reaches_through_the_api_what_the_app_shows_them(app, two, add_employee):
    """An employee has no task categories, purchase invoices or UPO (management only), and sees only their tasks."""
    a = two["a"]
    emp = add_employee(a["owner_id"], "pracownik@firma1.pl")
    api = Api(app, make_token(app, emp["id"]))
    for url in ("/api/v1/task-categories/", f"/api/v1/purchase-invoices/{a['purchase_id']}",
                f"/api/v1/invoices/{a['invoice_id']}/upo"):
        resp = api.get(url)
        assert resp.status_code == 403, url
        assert resp.get_json() == {"code": "forbidden", "message": "Nie masz dostępu do tej strony."}
    web = app.test_client()
    login(web, emp["email"])
    assert web.get("/settings/task-categories/").status_code == 403  # the same refusal as in the app
    assert web.get("/invoices/purchases/").status_code == 403
    # the owner's task is not the employee's: hidden in the app, hidden in the API
    assert a["task_id"] not in api.ids("tasks")
    assert api.get(f"/api/v1/tasks/{a['task_id']}").status_code == 404
    assert api.put(f"/api/v1/tasks/{a['task_id']}", {"title": "x"}).status_code == 404
    mine = api.post("/api/v1/tasks/", {"title": "Moje"}).get_json()["id"]
    assert mine in api.ids("tasks")
    # what the employee does have: contacts, invoices (read), binders
    assert a["client_id"] in api.ids("contacts")
    assert api.get(f"/api/v1/invoices/{a['invoice_id']}/pdf").status_code == 200


def test_fab_security_apis_are_not_reachable(two):
    """FAB's user, role and permission APIs do not exist here, with any token."""
    for url in ("/api/v1/security/users/", "/api/v1/security/roles/", "/api/v1/security/permissions/",
                "/api/v1/security/apikeys/"):
        resp = two["api_a"].get(url)
        assert resp.status_code == 404, url
        assert resp.get_json()["code"] == "not_found"


def test_no_token_or_a_browser_session_is_not_enough(app, two):
    """The entity APIs need a token: none gives 401; a signed-in browser alone (no CSRF for APIs) gets 401 too."""
    resp = app.test_client().get("/api/v1/contacts/")
    assert resp.status_code == 401
    assert resp.get_json() == {"code": "unauthorized", "message": "Brak tokenu API albo token wygasł lub został unieważniony."}
    web = app.test_client()
    login(web, two["a"]["email"])
    assert web.get("/api/v1/contacts/").status_code == 401
    assert web.post("/api/v1/tags/", json={"name": "csrf"}).status_code == 401
    bad = Api(app, "kl_000000000000_nie-ma-takiego")
    assert bad.get("/api/v1/contacts/").status_code == 401


def test_contact_search_is_the_apps_search(two):
    """opr:search finds contacts as the search box does (diacritics, NIP), only in the caller's company."""
    a, api_a = two["a"], two["api_a"]
    for term in ("zrodlo", "Źródło", "5260250274", "biuro@zrodlo.pl"):
        resp = api_a.get(f"/api/v1/contacts/?q=(filters:!((col:name,opr:search,value:'{term}')))")
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["ids"] == [a["client_id"]], term
    resp = api_a.get("/api/v1/contacts/?q=(filters:!((col:name,opr:search,value:'nikogo-takiego')))")
    assert resp.get_json()["count"] == 0



def test_list_count_is_capped_like_the_apps_list(two, monkeypatch):
    """A list counts at most COUNT_CAP rows (no COUNT over a whole base of 300,000); it says when it stopped."""
    from app.api import base

    api_a = two["api_a"]
    full = api_a.get("/api/v1/contacts/").get_json()
    assert full["count"] == 3 and full["count_capped"] is False
    monkeypatch.setattr(base, "COUNT_CAP", 2)
    capped = api_a.get("/api/v1/contacts/?q=(page_size:100)").get_json()
    assert capped["count"] == 2 and capped["count_capped"] is True
    assert len(capped["ids"]) == 3  # the page itself is not cut


def test_file_upload_to_a_binder(app, two):
    """A file sent to B's binder is checked like in the app, listed and downloadable; A's binder is a 404."""
    import io

    a, b, api_b = two["a"], two["b"], two["api_b"]

    def send(binder_id: int, data: bytes, name: str) -> Any:
        return api_b.client.post(f"/api/v1/binders/{binder_id}/files", headers=api_b.headers,
                                 data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

    resp = send(b["binder_id"], PDF, "aneks.pdf")
    assert resp.status_code == 201, resp.get_json()
    file_id = resp.get_json()["id"]
    listed = api_b.get(f"/api/v1/binders/{b['binder_id']}/files").get_json()["result"]
    assert [f["filename"] for f in listed if f["id"] == file_id] == ["aneks.pdf"]
    assert api_b.get(f"/api/v1/files/{file_id}").data == PDF
    resp = send(b["binder_id"], b"MZ\x90\x00 not allowed", "program.exe")
    assert resp.status_code == 422 and "file" in resp.get_json()["fields"]
    before = two["api_a"].get(f"/api/v1/binders/{a['binder_id']}/files").get_json()["result"]
    assert send(a["binder_id"], PDF, "obcy.pdf").status_code == 404
    assert two["api_a"].get(f"/api/v1/binders/{a['binder_id']}/files").get_json()["result"] == before
