"""Client bases: add (land inside), list with counts, rename, delete to the trash with contacts."""

from sqlalchemy import select

from app.extensions import db
from app.models.contacts import ClientBase, Contact
from app.security.tenancy import tenant_scope
from app.services import trash
from tests.helpers import csrf_token, table_rows, texts
from tests.integration.contacts_data import (
    CONSENT,
    assert_polish_page,
    bulk_contacts,
    make_base,
    make_contact,
)


def test_menu_starts_with_client_bases_before_tasks(owner_client):
    html = owner_client.get("/bases/").get_data(as_text=True)
    labels = texts(html, ".crm-sidebar .label-text")
    assert labels[:2] == ["Pulpit", "Bazy klientów"]  # after the dashboard
    assert labels.index("Bazy klientów") < labels.index("Zadania")
    assert texts(html, ".crm-sidebar li.section-clients.active .label-text") == ["Bazy klientów"]
    assert "Dodaj nową bazę" in html
    assert_polish_page(html, "/bases/")


def test_add_base_lands_inside_it(owner_client):
    c = owner_client
    form = c.get("/bases/add").get_data(as_text=True)
    assert "Nazwa" in form and "Rodzaj" in form and "Kontakty" in form and "Baza mailingowa" in form
    assert_polish_page(form, "/bases/add")
    r = c.post("/bases/add", data={"name": "Klienci hurtowi", "kind": "contacts"})
    assert r.status_code == 302
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Klienci hurtowi" in page and "Dodaj nowy kontakt" in page
    assert_polish_page(page, r.headers["Location"])


def test_add_base_refusals_change_nothing(owner_client, app):
    c = owner_client
    make_base(app, c.crm["company_id"], "Klienci")
    html = c.post("/bases/add", data={"name": "Klienci", "kind": "contacts"}).get_data(as_text=True)
    assert "Baza klientów o tej nazwie już istnieje." in html
    r = c.post("/bases/add", data={"name": "", "kind": "contacts"})
    assert r.status_code == 200
    r = c.post("/bases/add", data={"name": "Inna", "kind": "hacked"})
    assert r.status_code == 200
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        assert db.session.execute(select(ClientBase.name)).scalars().all() == ["Klienci"]


def test_list_shows_kind_and_contact_counts(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    a = make_base(app, cid, "Alfa")
    make_base(app, cid, "Newsletter", "mailing")
    bulk_contacts(app, cid, a, 3)
    html = c.get("/bases/").get_data(as_text=True)
    rows = {row[0]: row[1:3] for row in table_rows(html, "#bases-table")}
    assert rows == {"Alfa": ["Kontakty", "3"], "Newsletter": ["Baza mailingowa", "0"]}


def test_rename_base(owner_client, app):
    c = owner_client
    b = make_base(app, c.crm["company_id"], "Stara")
    make_base(app, c.crm["company_id"], "Zajęta")
    assert c.post(f"/bases/{b}/edit", data={"name": "Zajęta"}).status_code == 200
    r = c.post(f"/bases/{b}/edit", data={"name": "Nowa nazwa"})
    assert r.status_code == 302
    assert "Nowa nazwa" in c.get(f"/bases/{b}").get_data(as_text=True)


def test_delete_base_moves_its_contacts_to_trash_in_one_operation(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid, "Do usunięcia")
    keep = make_base(app, cid, "Zostaje")
    make_contact(app, cid, b, kind="company", name="Firma Usuwana")
    make_contact(app, cid, b, kind="person", first_name="Jan", last_name="Usuwany")
    make_contact(app, cid, keep, kind="company", name="Firma Zostaje")
    assert c.get(f"/bases/{b}/delete").status_code == 405  # never on GET
    r = c.post(f"/bases/{b}/delete")
    assert r.status_code == 302
    assert c.get(f"/bases/{b}").status_code == 404
    assert "Do usunięcia" not in c.get("/bases/").get_data(as_text=True)
    found = c.get("/contacts/?q=firma").get_data(as_text=True)
    assert "Firma Zostaje" in found and "Firma Usuwana" not in found
    with app.app_context(), tenant_scope(cid):
        rows = db.session.execute(
            select(Contact).where(Contact.base_id == b).execution_options(include_deleted=True)).scalars().all()
        base = db.session.execute(
            select(ClientBase).where(ClientBase.id == b).execution_options(include_deleted=True)).scalar_one()
        assert len(rows) == 2 and {r.deletion_id for r in rows} == {base.deletion_id}
        assert trash.restore(base.deletion_id, cid) == 3
        db.session.remove()
    assert "Firma Usuwana" in c.get(f"/bases/{b}").get_data(as_text=True)


def test_delete_base_needs_csrf_token(owner_client, app, csrf_on):
    c = owner_client
    b = make_base(app, c.crm["company_id"], "Chroniona")
    c.post(f"/bases/{b}/delete", data={})
    assert c.get(f"/bases/{b}").status_code == 200
    token = csrf_token(c.get(f"/bases/{b}/edit").get_data(as_text=True))
    assert c.post(f"/bases/{b}/delete", data={"csrf_token": token}).status_code == 302
    assert c.get(f"/bases/{b}").status_code == 404


def test_mailing_base_page_marks_it(owner_client, app):
    c = owner_client
    m = make_base(app, c.crm["company_id"], "Newsletter", "mailing")
    make_contact(app, c.crm["company_id"], m, kind="person", first_name="Ola", last_name="Zgoda",
                 email="ola@x.pl", **CONSENT)
    html = c.get(f"/bases/{m}").get_data(as_text=True)
    assert 'id="mailing-badge"' in html and "Ola Zgoda" in html
    assert_polish_page(html, f"/bases/{m}")
