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
    assert resp.status_code == 302  # refused by the CSRF check, nothing restored
    assert "Bazy klientów: 1" in client.get(f"/admin/restore/{a['company_id']}").text
    assert client.get("/admin/restore/999999").status_code == 404


def test_owner_asks_for_restore_in_the_trash_tab_and_admin_restores(app, client, deleted, add_employee):
    a, b = deleted
    owner = app.test_client()
    login(owner, a["email"])
    trash_page = owner.get("/settings/trash/").text
    assert "Kosz" in trash_page and "Bazy klientów: 1" in trash_page and "Kontakty: 2" in trash_page
    deletion_id = re.search(r"/settings/trash/(\w+)/request", trash_page).group(1)

    # another company's owner cannot ask for it, nor see it
    other = app.test_client()
    login(other, b["email"])
    assert "Hurtownie" not in other.get("/settings/trash/").text
    refused = other.post(f"/settings/trash/{deletion_id}/request", follow_redirects=True)
    assert "Nie ma takich usuniętych danych" in refused.text

    # an employee has no trash tab
    emp = add_employee(a["owner_id"], "pracownik@alfa.pl")
    emp_client = app.test_client()
    login(emp_client, emp["email"])
    assert emp_client.get("/settings/trash/").status_code == 403

    sent = owner.post(f"/settings/trash/{deletion_id}/request", data={"note": "Usunięte przez pomyłkę"},
                      follow_redirects=True)
    assert "Prośba została wysłana" in sent.text and "Wysłano prośbę" in sent.text
    again = owner.post(f"/settings/trash/{deletion_id}/request", follow_redirects=True)
    assert "Prośba o odzyskanie tych danych została już wysłana" in again.text

    login(client, *ADMIN)
    listing = client.get("/admin/restore/").text
    assert listing.index("Alfa Sp. z o.o.") < listing.index("Beta S.A.")
    assert "Właściciel prosi o odzyskanie" in client.get(f"/admin/restore/{a['company_id']}").text
    client.post(f"/admin/restore/{a['company_id']}/{deletion_id}")
    assert "Hurtownie" in owner.get("/bases/").text
    after = owner.get("/settings/trash/").text
    assert "Przywrócono" in after and "niczego nie usunięto" in after
    assert "Prośba o odzyskanie usuniętych danych" in owner.get("/settings/security/").text
