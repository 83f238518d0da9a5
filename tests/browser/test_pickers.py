"""As-you-type pickers in a real browser: the 1 500th client, the keyboard, no mailing contacts;
a contact form with four wrong fields shows them all and focuses the first one."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ClientBase, Contact, Task
from app.security.tenancy import tenant_scope
from tests.browser.conftest import shot
from tests.integration.tasks_fixtures import make_contacts


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _many_clients(app, company_id: int, n: int = 1500) -> dict[str, int]:
    """A "Kontakty" base with ``n`` contacts, the last by name (the n-th) "Żwirownia Zawadzki",
    two of them people called Jan Kowalski in different cities; a mailing base with Jan Mailingowy."""
    ids = make_contacts(app, company_id)
    with app.app_context(), tenant_scope(company_id):
        rows = [Contact(base_id=ids["base"], kind="company", name=f"Firma {i:04d} Sp. z o.o.",
                        name_sort=f"firma {i:04d} sp z o o") for i in range(1, n - 3)]
        last = Contact(base_id=ids["base"], kind="company", name="Żwirownia Zawadzki", name_sort="zwirownia zawadzki",
                       city="Zgierz", city_norm="zgierz", nip="7321234567")
        rows.append(last)
        people = [Contact(base_id=ids["base"], kind="person", first_name="Jan", last_name="Kowalski",
                          name="Jan Kowalski", name_sort="kowalski jan", city=city, city_norm=norm, email=email)
                  for city, norm, email in (("Gdańsk", "gdansk", "jan@gdansk.pl"), ("Kraków", "krakow", "jan@krakow.pl"))]
        db.session.add_all(rows + people)
        db.session.commit()
        ids.update(last=last.id, gdansk=people[0].id, krakow=people[1].id)
        by_name = db.session.execute(
            select(Contact.id).where(Contact.base_id == ids["base"]).order_by(Contact.name_sort, Contact.id)
        ).scalars().all()
        assert len(by_name) == n and by_name[-1] == last.id  # Budimex, 1 496 firms, two Kowalscy, Żwirownia
        db.session.remove()
    return ids


def _task_contact(app, company_id: int, title: str) -> int | None:
    with app.app_context(), tenant_scope(company_id):
        contact_id = db.session.execute(select(Task.contact_id).where(Task.title == title)).scalar_one()
        db.session.remove()
    return contact_id


def test_task_picker_finds_the_1500th_client_and_works_by_keyboard(page, app, make_company):
    info = make_company("Pickery Sp. z o.o.")
    ids = _many_clients(app, info["company_id"])
    _sign_in(page, info["email"], info["password"])

    page.goto("/tasks/add")
    page.fill("#title", "Wycena żwiru")
    page.locator("#contact_id_search").press_sequentially("Żwirown")
    option = page.locator("#contact_id_list [role=option]", has_text="Żwirownia Zawadzki")
    option.wait_for()
    assert "NIP 7321234567 · Zgierz" in option.inner_text()
    shot(page, "pickers-01-1500th-client")
    option.click()
    assert page.input_value("#contact_id") == str(ids["last"])
    assert page.input_value("#contact_id_search") == "Żwirownia Zawadzki"
    assert page.locator("#contact_id_list").is_hidden()
    page.click("#save-task")
    page.wait_for_url("**/tasks/*")
    assert "Żwirownia Zawadzki" in page.inner_text("#task-details")
    assert _task_contact(app, info["company_id"], "Wycena żwiru") == ids["last"]

    # the keyboard: arrows move, Escape closes, Enter chooses; namesakes told apart by city and e-mail
    page.goto("/tasks/add")
    page.fill("#title", "Telefon do Kowalskiego")
    box = page.locator("#contact_id_search")
    box.press_sequentially("Kowalski")
    options = page.locator("#contact_id_list [role=option]")
    options.nth(1).wait_for()
    assert options.count() == 2
    details = [options.nth(i).inner_text() for i in range(2)]
    assert "Gdańsk · jan@gdansk.pl" in details[0] and "Kraków · jan@krakow.pl" in details[1]
    box.press("ArrowDown")
    box.press("ArrowDown")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    shot(page, "pickers-02-keyboard")
    box.press("Escape")
    assert page.locator("#contact_id_list").is_hidden()
    assert page.input_value("#contact_id") == ""
    box.press("ArrowDown")  # opens the list again
    options.nth(1).wait_for()
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("Enter")
    assert page.input_value("#contact_id") == str(ids["krakow"])
    assert page.locator("#contact_id_list").is_hidden()
    assert page.url.endswith("/tasks/add")  # Enter chose, it did not submit the form
    page.click("#save-task")
    page.wait_for_url("**/tasks/*")
    assert _task_contact(app, info["company_id"], "Telefon do Kowalskiego") == ids["krakow"]


def test_mailing_contact_is_not_offered_and_typed_text_is_not_a_choice(page, app, make_company):
    info = make_company("Mailing Picker Sp. z o.o.")
    make_contacts(app, info["company_id"])
    _sign_in(page, info["email"], info["password"])
    page.goto("/binders/add")
    box = page.locator("#contact_id_search")
    box.press_sequentially("Jan Mailingowy")
    empty = page.locator("#contact_id_list li.empty")
    empty.wait_for()
    assert empty.inner_text() == "Nic nie znaleziono."
    assert page.locator("#contact_id_list [role=option]").count() == 0
    shot(page, "pickers-03-mailing-not-offered")
    page.fill("#name", "Segregator bez klienta")  # leaving the box: typed text is no choice
    assert page.input_value("#contact_id") == "" and page.input_value("#contact_id_search") == ""
    box.press_sequentially("Budi")
    page.locator("#contact_id_list [role=option]", has_text="Budimex Sp. z o.o.").wait_for()
    page.set_viewport_size({"width": 390, "height": 844})
    list_box = page.locator("#contact_id_list").bounding_box()
    assert list_box is not None and list_box["x"] >= 0 and list_box["x"] + list_box["width"] <= 390
    shot(page, "pickers-05-phone")
    box.press("Enter")  # the only match
    page.click("#save-binder")
    assert "Budimex Sp. z o.o." in page.inner_text("#binder-client")


def test_contact_form_shows_all_errors_and_focuses_the_first(page, app, make_company):
    info = make_company("Formularze Sp. z o.o.")
    ids = make_contacts(app, info["company_id"])
    _sign_in(page, info["email"], info["password"])
    page.goto(f"/contacts/add/{ids['base']}?kind=company")
    page.fill("#name", "Hurtownia Stali Kowalczyk")
    page.fill("#nip", "123")
    page.fill("#postal_code", "1234")
    page.fill("#email", "biuro@")
    page.fill("#website", "nie adres")
    page.click("#save")
    page.wait_for_load_state()
    errors = page.locator("#contact-form .help-block.error")
    assert errors.count() == 4
    for field in ("nip", "postal_code", "email", "website"):
        assert page.locator(f".form-group.has-error #{field}").count() == 1, field
    assert page.evaluate("document.activeElement.id") == "nip"
    assert page.input_value("#nip") == "123" and page.input_value("#website") == "nie adres"
    assert page.input_value("#name") == "Hurtownia Stali Kowalczyk"
    shot(page, "pickers-04-all-errors")
    with app.app_context(), tenant_scope(info["company_id"]):
        assert db.session.execute(select(Contact).where(Contact.name == "Hurtownia Stali Kowalczyk")).first() is None
        assert db.session.execute(select(ClientBase.id)).first() is not None
        db.session.remove()


def test_invoice_buyer_and_binder_pickers_reach_the_1500th_client_by_keyboard(page, app, make_company):
    from app.models.invoicing import Invoice
    from tests.integration.invoices_fixtures import seed_invoicing

    info = make_company("Faktury Pickery Sp. z o.o.")
    seed = seed_invoicing(app, info)
    ids = _many_clients(app, info["company_id"])
    _sign_in(page, info["email"], info["password"])

    page.goto("/invoices/add")
    buyer = page.locator("#contact_label")
    buyer.press_sequentially("Żwirown")
    option = page.locator("#contact-results li", has_text="Żwirownia Zawadzki")
    option.wait_for()
    assert "NIP 7321234567 · Zgierz" in option.inner_text()
    buyer.press("ArrowDown")  # into the list, then Enter chooses
    page.keyboard.press("Enter")
    assert page.input_value("#contact_id") == str(ids["last"])
    assert page.input_value("#contact_label") == "Żwirownia Zawadzki"

    # the binder is a picker too (it was a plain select of every binder): by its client's name
    binder = page.locator("#binder_id_search")
    binder.press_sequentially("Źródło")
    choice = page.locator("#binder_id_list [role=option]", has_text="Inwestycja Gdańsk")
    choice.wait_for()
    assert "Źródło Wód" in choice.inner_text()
    binder.press("ArrowDown")
    binder.press("Enter")
    assert page.input_value("#binder_id") == str(seed["binder_id"])
    shot(page, "pickers-04-invoice")

    row = page.locator("#items-table tbody tr.item-row").nth(0)
    row.locator("[name=item_name]").fill("Żwir płukany")
    row.locator("[name=item_quantity]").fill("3")
    row.locator("[name=item_unit_price]").fill("120")
    page.click("#save-invoice")
    page.wait_for_url("**/invoices/*")
    with app.app_context(), tenant_scope(info["company_id"]):
        inv = db.session.execute(select(Invoice)).scalar_one()
        assert (inv.buyer_contact_id, inv.binder_id) == (ids["last"], seed["binder_id"])
        db.session.remove()
    # the edit form shows the chosen binder's name in its picker
    page.goto(f"/invoices/{inv.id}/edit")
    assert page.input_value("#binder_id_search") == "Inwestycja Gdańsk"
