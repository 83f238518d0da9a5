"""Tenant isolation of client bases, contacts and tags: another company sees and touches nothing."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.contacts import Contact, contact_tag
from app.security.tenancy import tenant_scope
from app.services import DomainError
from app.services.contacts import bases as bases_svc
from app.services.contacts import contacts as svc
from app.services.contacts import search as search_svc
from app.services.contacts import tags as tags_svc
from tests.helpers import login
from tests.integration.contacts_data import make_base, make_contact, make_tag


@pytest.fixture()
def two(app, make_company):
    """Company A with a base, a company contact, a person and a tag; B signed in as owner."""
    a = make_company("Alfa")
    b = make_company("Beta")
    cid = a["company_id"]
    a["base"] = make_base(app, cid, "Tajna Baza")
    a["firm"] = make_contact(app, cid, a["base"], kind="company", name="Tajna Firma", email="tajna@alfa.pl",
                             nip="5260250274", phone="601000111", city="Sopot")
    a["tag"] = make_tag(app, cid, "TajnyTag")
    with app.app_context(), tenant_scope(cid):
        tags_svc.set_contact_tags(cid, a["firm"], [a["tag"]])
        db.session.remove()
    b["base"] = make_base(app, b["company_id"], "Baza B")
    b["firm"] = make_contact(app, b["company_id"], b["base"], kind="company", name="Firma B")
    b["tag"] = make_tag(app, b["company_id"], "TagB")
    client = app.test_client()
    assert login(client, b["email"]).status_code == 302
    return a, b, client


def test_foreign_ids_give_404_on_every_page(two):
    a, _b, c = two
    gets = [f"/bases/{a['base']}", f"/bases/{a['base']}/edit", f"/contacts/add/{a['base']}",
            f"/contacts/add/{a['base']}?kind=company", f"/contacts/{a['firm']}", f"/contacts/{a['firm']}/edit",
            f"/settings/tags/{a['tag']}/edit"]
    for url in gets:
        assert c.get(url).status_code == 404, url
    posts = [f"/bases/{a['base']}/edit", f"/bases/{a['base']}/delete", f"/contacts/add/{a['base']}?kind=company",
             f"/contacts/{a['firm']}/edit", f"/contacts/{a['firm']}/delete", f"/contacts/{a['firm']}/tags",
             f"/settings/tags/{a['tag']}/edit", f"/settings/tags/{a['tag']}/delete"]
    for url in posts:
        assert c.post(url, data={"name": "Przejęte", "kind": "contacts"}).status_code == 404, url


def test_foreign_rows_absent_from_lists_search_picker_and_dropdowns(two):
    a, b, c = two
    assert "Tajna Baza" not in c.get("/bases/").get_data(as_text=True)
    for q in ("tajna", "tajna@", "526025", "601000", "sopot", ""):
        html = c.get(f"/contacts/?q={q}").get_data(as_text=True)
        assert "Tajna Firma" not in html, q
        assert all(i["name"] != "Tajna Firma" for i in c.get(f"/contacts/api/pick?q={q}").get_json())
    assert "Firma B" in c.get("/contacts/?q=firma").get_data(as_text=True)
    # a foreign tag id as a filter shows nothing (not A's contacts, not B's)
    html = c.get(f"/contacts/?tag={a['tag']}").get_data(as_text=True)
    assert "Tajna Firma" not in html and "Firma B" not in html
    assert "TajnyTag" not in c.get("/settings/tags/").get_data(as_text=True)
    form = c.get(f"/contacts/add/{b['base']}?kind=person").get_data(as_text=True)
    assert "Tajna Firma" not in form and "Testowya" not in form  # A's owner is not offered
    assert "TajnyTag" not in c.get(f"/bases/{b['base']}").get_data(as_text=True)


def test_foreign_ids_are_refused_in_posts(two, app):
    a, b, c = two
    # employer and account manager from company A
    html = c.post(f"/contacts/add/{b['base']}?kind=person", data={
        "first_name": "X", "last_name": "Y", "employer_id": str(a["firm"])}).get_data(as_text=True)
    assert "Wybierz firmę z tej samej bazy klientów." in html
    html = c.post(f"/contacts/add/{b['base']}?kind=company", data={"name": "X", "owner_id": str(a["owner_id"])}).get_data(as_text=True)
    assert "Wybierz aktywnego pracownika swojej firmy." in html
    # bulk tagging and deleting with a foreign contact or tag
    html = c.post("/contacts/bulk", data={"action": "tag", "tag_id": str(b["tag"]), "ids": [str(a["firm"])]},
                  follow_redirects=True).get_data(as_text=True)
    assert "Ten kontakt nie istnieje." in html
    html = c.post("/contacts/bulk", data={"action": "tag", "tag_id": str(a["tag"]), "ids": [str(b["firm"])]},
                  follow_redirects=True).get_data(as_text=True)
    assert "Ten tag nie istnieje." in html
    c.post("/contacts/bulk", data={"action": "delete", "ids": [str(a["firm"]), str(b["firm"])]})
    c.post(f"/contacts/{b['firm']}/tags", data={"tag_ids": [str(a["tag"])]})
    with app.app_context():
        links = db.session.execute(select(contact_tag.c.contact_id, contact_tag.c.tag_id)).all()
        assert sorted(links) == [(a["firm"], a["tag"])]
        with tenant_scope(a["company_id"]):
            assert db.session.get(Contact, a["firm"]).deleted_at is None
        with tenant_scope(b["company_id"]):
            assert db.session.get(Contact, b["firm"]).deleted_at is None  # the whole bulk was refused
        db.session.remove()


def test_services_refuse_foreign_ids(two, app):
    a, b, _c = two
    with app.app_context(), tenant_scope(b["company_id"]):
        bid = b["company_id"]
        assert bases_svc.get_base(bid, a["base"]) is None and svc.get_contact(bid, a["firm"]) is None
        for call in (
            lambda: svc.pickable_contact(bid, a["firm"]),
            lambda: svc.create_contact(bid, a["base"], svc.ContactData(kind="company", name="X")),
            lambda: bases_svc.rename_base(bid, a["base"], "X"),
            lambda: bases_svc.delete_base(bid, a["base"], None),
            lambda: svc.delete_contacts(bid, [a["firm"]], None),
            lambda: tags_svc.update_tag(bid, a["tag"], "X", "#000000"),
            lambda: tags_svc.tag_contacts(bid, [b["firm"]], a["tag"]),
        ):
            with pytest.raises(DomainError):
                call()
            db.session.rollback()
        page = search_svc.list_contacts(bid, base_id=a["base"])
        assert page.items == [] and page.total == 0
        assert [x.name for x in search_svc.list_contacts(bid, q="tajna").items] == []
        assert svc.search_pickable(bid, "tajna") == []
        db.session.remove()


def test_soft_deleted_rows_vanish_from_search_pickers_and_tag_filters(app, make_company):
    a = make_company()
    cid = a["company_id"]
    base = make_base(app, cid)
    firm = make_contact(app, cid, base, kind="company", name="Znikająca")
    tag = make_tag(app, cid, "T")
    client = app.test_client()
    login(client, a["email"])
    client.post(f"/contacts/{firm}/tags", data={"tag_ids": [str(tag)]})
    assert "Znikająca" in client.get(f"/contacts/?tag={tag}").get_data(as_text=True)
    client.post(f"/bases/{base}/delete")
    for url in ("/contacts/?q=znik", f"/contacts/?tag={tag}", "/bases/"):
        assert "Znikając" not in client.get(url).get_data(as_text=True), url
    assert client.get("/contacts/api/pick?q=znik").get_json() == []
    assert client.get(f"/contacts/{firm}").status_code == 404
    with app.app_context(), tenant_scope(cid):
        with pytest.raises(DomainError):
            svc.pickable_contact(cid, firm)
        db.session.remove()
