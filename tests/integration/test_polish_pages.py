"""Every page a user meets is Polish: no English FAB leftovers, no "None" in cells."""

import re

import pytest

from tests.helpers import login, visible_text

ENGLISH = [
    "Sign In", "Sign in", "Login", "Logout", "Log out", "Profile", "Add", "Edit", "Delete", "Show",
    "Detail", "Search", "Save", "Back", "Actions", "Record Count", "No records found", "List", "Security",
    "Refresh", "Select Value", "Access is Denied", "Page not found", "Company", "Employees", "Settings",
    "Dashboard", "Password", "Username", "User Name", "Cancel", "None", "True", "False", "Tasks", "Offers",
]


def assert_polish(html: str, url: str, drop: tuple[str, ...] = ()) -> None:
    """No English word a user could read on the page (text, tooltips, placeholders, values, alt texts).

    ``drop``: CSS selectors of parts of the page left out of the check.
    """
    text = visible_text(html, drop)
    for word in ENGLISH:
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text), f"English '{word}' on {url}"


def test_public_pages_are_polish(client):
    for url in ("/login/", "/signup/", "/nie-ma-takiej-strony"):
        resp = client.get(url)
        assert_polish(resp.text, url)


@pytest.mark.parametrize("role", ["Owner", "Employee"])
def test_company_pages_are_polish(app, client, make_company, add_employee, role):
    info = make_company()
    emp = add_employee(info["owner_id"], "kasia@firma.pl")
    add_employee(info["owner_id"], "zaproszona@firma.pl")
    login(client, info["email"] if role == "Owner" else emp["email"])
    urls = {url: 200 for url in ("/", "/profile/", "/settings/avatar/", "/tasks/", "/binders/", "/offers/",
                                 "/orders/", "/invoices/", "/emailing/")}
    if role == "Owner":
        urls.update({url: 200 for url in ("/settings/company/", "/settings/employees/", "/settings/employees/add",
                                          f"/settings/employees/{emp['id']}", f"/settings/employees/{emp['id']}/edit")})
    else:  # the refusal pages must be Polish too
        urls.update({"/settings/company/": 403, "/admin/companies/list/": 403})
    for url, status in urls.items():
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code == status, url
        assert_polish(resp.text, url)


def test_admin_pages_are_polish(app, client, make_company):
    make_company()
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin("root@platforma.pl", "Platforma-Admin#2026")
    login(client, "root@platforma.pl", "Platforma-Admin#2026")
    for url in ("/admin/companies/list/", "/profile/", "/admin/companies/show/1"):
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code == 200, url
        assert_polish(resp.text, url)
