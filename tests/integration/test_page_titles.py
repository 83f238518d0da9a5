"""Page titles name the page ("Kontakty · Klientela"), a skip link leads to the content, a signed-out
visitor is sent to the login page and back, and the password forms carry the FAQ's advice."""

from __future__ import annotations

import re

from tests.helpers import find_one, text
from tests.integration.sales_fixtures import seed_sales


def _title(html: str) -> str:
    return text(html, "title")


def test_every_main_page_is_titled_by_its_section(app, owner_client):
    seed = seed_sales(app, owner_client.crm)
    expected = {
        "/": "Pulpit · Klientela",
        "/bases/": "Bazy klientów · Klientela",
        f"/contacts/{seed['client_id']}": "Kontakty · Klientela",
        "/tasks/": "Zadania · Klientela",
        "/binders/": "Segregatory · Klientela",
        "/offers/": "Oferty · Klientela",
        "/offers/products/": "Cennik · Klientela",
        "/orders/": "Zlecenia · Klientela",
        "/invoices/": "Faktury · Klientela",
        "/settings/company/": "Dane firmy · Klientela",
        "/settings/employees/": "Pracownicy · Klientela",
        "/profile/": "Mój profil · Klientela",
    }
    for url, title in expected.items():
        resp = owner_client.get(url)
        assert resp.status_code == 200, url
        html = resp.get_data(as_text=True)
        assert _title(html) == title, url
        # the skip link is the first thing to Tab to and leads to the content
        skip = find_one(html, "a.skip-link")
        assert skip.text_content().strip() == "Przejdź do treści"
        assert skip.get("href") == "#main-content"
        assert find_one(html, "#main-content").tag == "main"


def test_public_pages_are_titled(client):
    assert _title(client.get("/login/").get_data(as_text=True)) == "Zaloguj się · Klientela"
    assert _title(client.get("/signup/").get_data(as_text=True)) == "Załóż konto · Klientela"


def test_signed_out_visitor_signs_in_and_lands_on_the_page_asked_for(app, make_company, client):
    info = make_company()
    resp = client.get("/invoices/")
    assert resp.status_code == 302
    assert "/login/?next=" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Brak dostępu" not in html
    assert "Zaloguj się, aby kontynuować." in text(html, ".alert")
    resp = client.post(resp.headers["Location"], data={"username": info["email"], "password": info["password"]})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/invoices/")
    assert _title(client.get("/invoices/").get_data(as_text=True)) == "Faktury · Klientela"


def test_password_forms_show_the_faq_advice(owner_client, client):
    advice = "Użyj hasła, którego nie używasz w żadnym innym serwisie"
    html = owner_client.get("/profile/security/password").get_data(as_text=True)
    assert advice in text(html, "#password-advice")
    html = client.get("/signup/").get_data(as_text=True)
    assert advice in text(html, "#password-advice")
    # not on the login form: there the password already exists
    assert "password-advice" not in client.get("/login/").get_data(as_text=True)


def test_invitation_and_reset_forms_show_the_faq_advice(app, owner_client, make_company, mail_outbox):
    from app.integrations.mail import drain

    advice = "Użyj hasła, którego nie używasz w żadnym innym serwisie"
    new = {"first_name": "Marek", "last_name": "Zając", "email": "marek@firma.pl", "phone": "601 202 303",
           "position": "Handlowiec", "role": "Employee", "access": "invite", "password": ""}
    assert owner_client.post("/settings/employees/add", data=new).status_code == 302
    info = make_company()
    visitor = app.test_client()
    assert visitor.post("/password-reset/", data={"email": info["email"]}).status_code == 302
    assert drain(), "the background mail sender did not finish"
    bodies = {m["To"]: m.get_body(preferencelist=("plain",)).get_content() for m in mail_outbox}
    invite = re.search(r"http://localhost(/invitation/\S+)", bodies["marek@firma.pl"]).group(1)
    reset = re.search(r"http://localhost(/password-reset/\S+)", bodies[info["email"]]).group(1)
    for path, title in ((invite, "Ustaw swoje hasło · Klientela"), (reset, "Ustaw nowe hasło · Klientela")):
        html = visitor.get(path).get_data(as_text=True)
        assert advice in text(html, "#password-advice"), path
        assert _title(html) == title
