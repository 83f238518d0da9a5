"""The platform admin restores a company's deleted data on the owner's request."""

import re

import pytest

from app.security.tenancy import tenant_scope
from app.services import contacts
from tests.helpers import STRONG_PASSWORD, csrf_token, login
from tests.integration.contacts_data import make_base, make_contact

ADMIN = ("root@platforma.pl", "Platforma-Admin#2026")


@pytest.fixture()
def deleted(app, make_company):
    a = make_company("Alfa Sp. z o.o.")
    b = make_company("Beta S.A.")
    base = make_base(app, a["company_id"], "Hurtownie")
    make_contact(app, a["company_id"], base, kind="company", name="Żółta Łódka")
    make_contact(app, a["company_id"], base, kind="company", name="Zielony Dom")
    with app.app_context(), tenant_scope(a["company_id"]):
        contacts.delete_base(a["company_id"], base, a["owner_id"])
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
    return a, b


def test_admin_sees_the_delete_operation_and_restores_it(app, client, deleted):
    a, b = deleted
    owner = app.test_client()
    login(owner, a["email"])
    assert "Hurtownie" not in owner.get("/bases/").text
    login(client, *ADMIN)
    assert "Alfa Sp. z o.o." in client.get("/admin/restore/?q=Alfa").text
    page = client.get(f"/admin/restore/{a['company_id']}").text
    assert "Bazy klientów: 1" in page and "Kontakty: 2" in page and "Hurtownie" in page
    deletion_id = re.search(rf"/admin/restore/{a['company_id']}/(\w+)", page).group(1)

    # the same operation under another company restores nothing
    wrong = client.post(f"/admin/restore/{b['company_id']}/{deletion_id}", follow_redirects=True)
    assert "nie ma nic do przywrócenia" in wrong.text
    assert "Hurtownie" not in owner.get("/bases/").text

    done = client.post(f"/admin/restore/{a['company_id']}/{deletion_id}", follow_redirects=True)
    assert "Przywrócono rekordów: 3" in done.text
    assert "Hurtownie" in owner.get("/bases/").text
    assert "W ostatnich 30 dniach niczego nie usunięto" in client.get(f"/admin/restore/{a['company_id']}").text
    assert "Przywrócono usunięte dane" in owner.get("/settings/security/").text


def login_csrf(client, email, password=STRONG_PASSWORD):
    token = csrf_token(client.get("/login/").text)
    return client.post("/login/", data={"username": email, "password": password, "csrf_token": token})


def test_restore_needs_post_with_csrf_and_the_admin_role(app, client, deleted, csrf_on):
    a, _ = deleted
    login_csrf(client, a["email"])
    assert client.get("/admin/restore/").status_code == 403
    other = app.test_client()
    login_csrf(other, *ADMIN)
    client = other
    page = client.get(f"/admin/restore/{a['company_id']}").text
    deletion_id = re.search(rf"/admin/restore/{a['company_id']}/(\w+)", page).group(1)
    assert client.get(f"/admin/restore/{a['company_id']}/{deletion_id}").status_code == 405
    resp = client.post(f"/admin/restore/{a['company_id']}/{deletion_id}")
    assert resp.status_code in (302, 400)
    assert "Bazy klientów: 1" in client.get(f"/admin/restore/{a['company_id']}").text
    assert client.get("/admin/restore/999999").status_code == 404
