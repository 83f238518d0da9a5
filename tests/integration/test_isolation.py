"""Two companies: nothing of one is reachable by a user of the other."""

import pytest

from tests.helpers import login


@pytest.fixture()
def two(app, make_company, add_employee):
    a = make_company("Alfa Sp. z o.o.")
    b = make_company("Beta S.A.")
    a["emp"] = add_employee(a["owner_id"], "pracownik@alfa.pl", first_name="Tajny", last_name="Alfowski")
    return a, b


def test_other_companys_employee_urls_are_404(client, two):
    a, b = two
    login(client, b["email"])
    for url in (f"/settings/employees/{a['emp']['id']}", f"/settings/employees/{a['emp']['id']}/edit",
                f"/settings/employees/{a['owner_id']}", f"/media/avatar/{a['emp']['id']}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/settings/employees/{a['emp']['id']}/edit", f"/settings/employees/{a['emp']['id']}/active"):
        assert client.post(url, data={"active": "0", "first_name": "X", "last_name": "Y",
                                      "email": "x@x.pl", "role": "Employee"}).status_code == 404, url


def test_other_companys_people_are_not_listed(client, two):
    a, b = two
    login(client, b["email"])
    page = client.get("/settings/employees/")
    assert "Alfowski" not in page.text and "pracownik@alfa.pl" not in page.text
    assert "Alfa Sp. z o.o." not in client.get("/").text


def test_platform_admin_sees_accounts_but_no_business_pages(app, client, two):
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin("root@platforma.pl", "Platforma-Admin#2026")
    login(client, "root@platforma.pl", "Platforma-Admin#2026")
    resp = client.get("/")
    assert resp.status_code == 302 and "/admin/companies/" in resp.headers["Location"]
    page = client.get("/admin/companies/list/")
    assert page.status_code == 200 and "Alfa Sp. z o.o." in page.text and "Beta S.A." in page.text
    assert "Aktywna" in page.text
    assert "Alfowski" not in page.text
    for url in ("/settings/employees/", "/settings/company/", f"/settings/employees/{two[0]['emp']['id']}"):
        assert client.get(url).status_code == 403, url


def test_company_users_cannot_open_admin_panel(client, two):
    a, _ = two
    login(client, a["email"])
    assert client.get("/admin/companies/list/").status_code == 403
    assert client.get("/admin/restore/").status_code == 403
