"""Forms show every refusal at once next to its field and keep what was typed; picker endpoints."""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Binder, Contact
from app.security.tenancy import tenant_scope
from app.services import DomainError, FieldChecks, FieldErrors
from tests.helpers import login
from tests.integration.tasks_fixtures import make_contacts

FOUR_BAD = {
    "name": "Hurtownia Stali Kowalczyk",
    "nip": "123",
    "postal_code": "1234",
    "email": "biuro@",
    "website": "nie adres",
    "city": "Łódź",
    "owner_id": "",
}
MESSAGES = {
    "nip": "NIP musi mieć 10 cyfr.",
    "postal_code": "Kod pocztowy musi mieć format 00-000.",
    "email": "Adres e-mail jest nieprawidłowy.",
    "website": "Nieprawidłowy adres strony internetowej (przykład: www.firma.pl).",
}


def _group_of(page: str, field: str) -> str:
    """The form-group block that holds the input named ``field``."""
    at = page.index(f'name="{field}"')
    start = page.rindex('<div class="form-group', 0, at)
    end = page.index('<div class="form-group', at) if '<div class="form-group' in page[at:] else len(page)
    return page[start:end]


def _contacts(app, company_id: int) -> int:
    with app.app_context(), tenant_scope(company_id):
        n = db.session.execute(select(func.count(Contact.id))).scalar_one()
        db.session.remove()
    return n


def test_contact_form_shows_four_errors_in_one_submit_and_keeps_the_typed_values(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    before = _contacts(app, c.crm["company_id"])
    resp = c.post(f"/contacts/add/{ids['base']}?kind=company", data=FOUR_BAD)
    assert resp.status_code == 200
    page = html_lib.unescape(resp.get_data(as_text=True))
    for field, message in MESSAGES.items():
        group = _group_of(page, field)
        assert "has-error" in group, field
        assert message in group, field  # next to its own field
    assert page.count('class="help-block error"') == 4
    for field in ("name", "nip", "postal_code", "email", "website", "city"):
        assert re.search(rf'name="{field}"[^>]*value="{re.escape(FOUR_BAD[field])}"', page), field
    assert _contacts(app, c.crm["company_id"]) == before  # nothing saved


def test_person_form_refuses_missing_names_and_bad_pesel_together(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    resp = c.post(f"/contacts/add/{ids['base']}?kind=person",
                  data={"first_name": "", "last_name": "", "pesel": "12", "phone": "12"})
    page = html_lib.unescape(resp.get_data(as_text=True))
    for field in ("first_name", "last_name", "pesel", "phone"):
        assert "has-error" in _group_of(page, field), field
    assert 'value="12"' in page


def test_a_correct_contact_is_still_saved(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    data = dict(FOUR_BAD, nip="5260250274", postal_code="90-001", email="biuro@kowalczyk.pl", website="kowalczyk.pl")
    resp = c.post(f"/contacts/add/{ids['base']}?kind=company", data=data)
    assert resp.status_code == 302


def test_field_checks_collect_every_refusal():
    checks = FieldChecks()

    def refuse(field: str) -> None:
        raise DomainError(f"zły {field}", field)

    assert checks.run(lambda: 5) == 5
    assert checks.run(refuse, "a") is None and checks.run(refuse, "b") is None
    checks.run(refuse, "a")  # the first refusal of a field stays
    try:
        checks.raise_if_any()
    except FieldErrors as err:
        assert err.errors == {"a": "zły a", "b": "zły b"} and err.field == "a"
    else:
        raise AssertionError("no FieldErrors")
    one = FieldChecks()
    one.run(refuse, "c")
    try:
        one.raise_if_any()
    except FieldErrors:
        raise AssertionError("a lone refusal is a plain DomainError") from None
    except DomainError as err:
        assert err.field == "c"


def test_contact_picker_answers_label_and_detail_and_never_a_mailing_contact(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        for city, email in (("Kraków", "jan@krakow.pl"), ("Gdańsk", "jan@gdansk.pl")):
            db.session.add(Contact(base_id=ids["base"], kind="person", first_name="Jan", last_name="Kowalski",
                                   name="Jan Kowalski", name_sort="kowalski jan", city=city,
                                   city_norm=city.lower(), email=email))
        db.session.commit()
        db.session.remove()
    items = c.get("/contacts/api/pick?q=Kowalski").get_json()
    assert sorted(i["detail"] for i in items) == ["Gdańsk · jan@gdansk.pl", "Kraków · jan@krakow.pl"]
    assert {i["label"] for i in items} == {"Jan Kowalski"}
    assert c.get("/contacts/api/pick?q=Jan").get_json()[0]["label"] == "Jan Kowalski"
    assert all(i["id"] != ids["mailing_contact"] for i in c.get("/contacts/api/pick?q=Jan").get_json())


def test_binder_picker_is_the_company_own(app, owner_client, make_company):
    a = owner_client
    ids = make_contacts(app, a.crm["company_id"])
    resp = a.post("/binders/add", data={"name": "Hala Zgierz", "contact_id": ids["contact"]})
    assert resp.status_code == 302
    assert a.get("/binders/api/pick?q=zgierz").get_json()[0] == {
        "id": int(resp.headers["Location"].rstrip("/").split("/")[-1]),
        "label": "Hala Zgierz", "detail": "Budimex Sp. z o.o.",
    }
    assert [i["label"] for i in a.get("/binders/api/pick?q=budimex").get_json()] == ["Hala Zgierz"]
    other = make_company("Obca Sp. z o.o.")
    b = app.test_client()
    login(b, other["email"])
    assert b.get("/binders/api/pick?q=").get_json() == []
    assert b.get("/contacts/api/pick?q=budimex").get_json() == []
    with app.app_context(), tenant_scope(a.crm["company_id"]):
        assert db.session.execute(select(func.count(Binder.id))).scalar_one() == 1
        db.session.remove()


def test_task_form_keeps_the_chosen_client_after_a_refusal(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    resp = c.post("/tasks/add", data={"title": "", "contact_id": ids["contact"], "priority": "normal",
                                      "status": "todo"})
    page = html_lib.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 200
    assert f'name="contact_id" id="contact_id" value="{ids["contact"]}"' in page
    assert 'id="contact_id_search" value="Budimex Sp. z o.o."' in page


def test_task_form_shows_every_refusal_at_once(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    resp = c.post("/tasks/add", data={"title": "", "due_time": "10:00", "contact_id": ids["mailing_contact"],
                                      "description": "Opis wpisany", "priority": "normal", "status": "todo"})
    page = html_lib.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 200
    assert "Pole „Tytuł” jest wymagane." in _group_of(page, "title")
    assert "Podaj termin razem z godziną" in _group_of(page, "due_date")
    assert "bazy mailingowej" in page[page.index('name="contact_id"'):]
    assert page.count('class="help-block error"') == 3
    assert "Opis wpisany" in page


def test_binder_form_shows_name_and_client_refusals_at_once(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    resp = c.post("/binders/add", data={"name": " ", "contact_id": ids["mailing_contact"], "description": "x" * 5001})
    page = html_lib.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 200
    assert "Pole „Nazwa” jest wymagane." in _group_of(page, "name")
    assert page.count('class="help-block error"') == 3
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        assert db.session.execute(select(func.count(Binder.id))).scalar_one() == 0
        db.session.remove()


def test_employer_picker_offers_companies_of_the_same_base_only(app, owner_client, make_company):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        db.session.add(Contact(base_id=ids["base"], kind="person", first_name="Anna", last_name="Budna",
                               name="Anna Budna", name_sort="budna anna"))
        db.session.add(Contact(base_id=ids["mailing_base"], kind="company", name="Budmat", name_sort="budmat",
                               email="a@budmat.pl"))
        db.session.commit()
        db.session.remove()
    items = c.get(f"/contacts/api/employers/{ids['base']}?q=bud").get_json()
    assert [i["label"] for i in items] == ["Budimex Sp. z o.o."]
    assert [i["label"] for i in c.get(f"/contacts/api/employers/{ids['mailing_base']}?q=bud").get_json()] == ["Budmat"]
    page = c.get(f"/contacts/add/{ids['base']}?kind=person&employer={ids['contact']}").get_data(as_text=True)
    assert 'id="employer_id_search" value="Budimex Sp. z o.o."' in html_lib.unescape(page)
    other = make_company("Obca Sp. z o.o.")
    b = app.test_client()
    login(b, other["email"])
    assert b.get(f"/contacts/api/employers/{ids['base']}?q=bud").status_code == 404


# ------------------------------------------------------------------ the other forms: every refusal at once

def _errors_next_to(page_html: str, fields: tuple[str, ...]) -> None:
    """Each field's own form-group is marked and holds an error message."""
    page_text = html_lib.unescape(page_html)
    for field in fields:
        group = _group_of(page_text, field)
        assert "has-error" in group and 'class="help-block error"' in group, field


def _count(app, company_id: int, model) -> int:
    with app.app_context(), tenant_scope(company_id):
        n = db.session.execute(select(func.count(model.id))).scalar_one()
        db.session.remove()
    return n


def test_offer_header_shows_every_refusal_and_keeps_the_typed_values(app, owner_client):
    from app.models.sales import Offer
    from tests.integration.sales_fixtures import offer_form, seed_sales

    c = owner_client
    seed = seed_sales(app, c.crm)
    terms = "Przelew " + "x" * 200
    data = offer_form(seed, contact_id="", valid_until="2020-01-01", reminder_on="31.13.2026", payment_terms=terms)
    resp = c.post("/offers/add", data=data)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    _errors_next_to(page, ("contact_label", "valid_until", "reminder_on", "payment_terms"))
    text = html_lib.unescape(page)
    assert "Data ważności nie może być z przeszłości." in text
    assert "Podaj datę w formacie DD.MM.RRRR." in text
    assert 'value="2020-01-01"' in text and 'value="31.13.2026"' in text and terms in text
    assert "Dojazd – ręcznie wpisany" in text  # the typed lines stay too
    assert _count(app, c.crm["company_id"], Offer) == 0


def test_offer_items_and_header_are_refused_together(app, owner_client):
    from app.models.sales import Offer
    from tests.integration.sales_fixtures import offer_form, seed_sales

    c = owner_client
    seed = seed_sales(app, c.crm)
    data = offer_form(seed, contact_id="", valid_until="2020-01-01")
    data["item_quantity"] = ["1", "abc", "3", "120,5"]
    page = html_lib.unescape(c.post("/offers/add", data=data).get_data(as_text=True))
    _errors_next_to(page, ("contact_label", "valid_until"))
    assert "Pozycja 2:" in page  # the line's refusal is shown in the same answer
    assert _count(app, c.crm["company_id"], Offer) == 0


def test_invoice_header_shows_every_refusal_and_keeps_the_typed_values(app, owner_client):
    from app.models.invoicing import Invoice
    from tests.integration.invoices_fixtures import invoice_form, seed_invoicing

    c = owner_client
    seed = seed_invoicing(app, c.crm)
    place = "Ł" * 101
    data = invoice_form(seed, contact_id="", sale_date="przedwczoraj", issue_date="2026-03-10",
                        due_date="2026-03-01", place_of_issue=place)
    resp = c.post("/invoices/add", data=data)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    _errors_next_to(page, ("sale_date", "due_date", "place_of_issue"))
    text = html_lib.unescape(page)
    assert "Wybierz nabywcę." in text
    assert "Termin płatności nie może być wcześniejszy niż data wystawienia." in text
    assert 'value="przedwczoraj"' in text and 'value="2026-03-01"' in text and place in text
    assert _count(app, c.crm["company_id"], Invoice) == 0


def test_product_form_shows_every_refusal(app, owner_client):
    from app.models.sales import Product

    c = owner_client
    resp = c.post("/offers/products/add", data={"name": "", "code": "", "unit": "", "net_price": "dużo",
                                                "currency": "PLN", "vat_rate": "23"})
    assert resp.status_code == 200
    _errors_next_to(resp.get_data(as_text=True), ("name", "unit", "net_price"))
    assert 'value="dużo"' in html_lib.unescape(resp.get_data(as_text=True))
    assert _count(app, c.crm["company_id"], Product) == 0


def test_company_settings_show_every_refusal_and_change_nothing(app, owner_client):
    from app.models.company import Company

    c = owner_client
    data = {"name": "", "nip": "123", "regon": "", "street": "ul. Piotrkowska 1", "postal_code": "90",
            "city": "Łódź", "iban": "PL00", "email": "biuro@", "phone": ""}
    resp = c.post("/settings/company/", data=data)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    _errors_next_to(page, ("name", "nip", "postal_code", "iban", "email"))
    text = html_lib.unescape(page)
    assert 'value="ul. Piotrkowska 1"' in text and 'value="biuro@"' in text
    with app.app_context():
        company = db.session.get(Company, c.crm["company_id"])
        assert company.street != "ul. Piotrkowska 1" and company.nip != "123"
        db.session.remove()


def test_employee_invite_and_edit_show_every_refusal(app, owner_client, add_employee):
    from app.models.users import CrmUser

    c = owner_client
    resp = c.post("/settings/employees/add", data={"first_name": "", "last_name": "Nowak", "email": "ewa@",
                                                   "phone": "12", "position": "", "role": "Employee",
                                                   "access": "password", "password": "abc"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    _errors_next_to(page, ("first_name", "email", "phone", "password"))
    assert 'value="Nowak"' in page
    with app.app_context():
        assert db.session.execute(select(CrmUser).where(CrmUser.last_name == "Nowak")).first() is None
        db.session.remove()
    worker = add_employee(c.crm["owner_id"], "piotr@firma1.pl")
    resp = c.post(f"/settings/employees/{worker['id']}/edit",
                  data={"first_name": "Piotr", "last_name": "", "email": c.crm["email"], "phone": "12",
                        "position": "", "role": "Employee"})
    assert resp.status_code == 200
    _errors_next_to(resp.get_data(as_text=True), ("last_name", "email", "phone"))
    with app.app_context():
        assert db.session.get(CrmUser, worker["id"]).email == "piotr@firma1.pl"
        db.session.remove()
