"""A user in a real browser: add a base, land inside it, add a company and a person, search as you type."""

from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import STRONG_PASSWORD


def test_base_company_person_and_search_as_you_type(page, live_server, make_company):
    info = make_company("Hurtownia Przeglądarkowa")
    page.goto("/login/")
    page.fill("#username", info["email"])
    page.fill("#password", STRONG_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    # Krok 1-4: orange people icon, red "Dodaj nową bazę", name and kind, Zapisz -> inside the base
    page.click(".crm-sidebar li.section-clients a")
    page.wait_for_url("**/bases/")
    page.click("#add-base")
    page.fill("#name", "Klienci z Łodzi")
    page.check("input[name=kind][value=contacts]")
    page.click("#save")
    page.wait_for_url("**/bases/*")
    assert page.inner_text(".crm-page-title h1").strip() == "Klienci z Łodzi"
    assert "Dodaj nowy kontakt" in page.inner_text("#add-contact")
    shot(page, "bases-01-new-base")

    # "Dodaj nowy kontakt" -> Firma
    page.click("#add-contact")
    page.click("#kind-company")
    page.fill("#name", "Żółta Łódka Sp. z o.o.")
    page.fill("#nip", "123-456-78-90")  # wrong check digit first
    page.click("#save")
    assert "NIP" in page.inner_text(".has-error")
    page.fill("#nip", "526-025-02-74")
    page.fill("#postal_code", "90001")
    page.fill("#city", "Łódź")
    page.fill("#email", "Biuro@ZoltaLodka.pl")
    page.fill("#phone", "601 222 333")
    page.click("#save")
    page.wait_for_url("**/contacts/*")
    details = page.inner_text("#contact-details")
    assert "90-001" in details and "biuro@zoltalodka.pl" in details and "+48 601 222 333" in details
    shot(page, "bases-02-company")

    # a person who works for it
    page.click("#add-person")
    page.fill("#first_name", "Anna")
    page.fill("#last_name", "Nowak")
    page.fill("#position", "Kierowniczka zakupów")
    assert page.input_value("#employer_id_search") == "Żółta Łódka Sp. z o.o."
    page.click("#save")
    page.wait_for_url("**/contacts/*")
    assert page.inner_text("#employer-link") == "Żółta Łódka Sp. z o.o."
    shot(page, "bases-03-person")

    # search as you type in the base
    page.click("#base-link")
    page.wait_for_url("**/bases/*")
    assert page.locator("#contacts-table .contact-link").count() == 2
    page.locator("#contact-search").press_sequentially("nowa", delay=40)
    expect(page.locator("#contacts-table .contact-link")).to_have_text(["Anna Nowak"])
    assert "q=nowa" in page.url  # the address keeps the search
    page.fill("#contact-search", "")
    page.locator("#contact-search").press_sequentially("lodz", delay=40)  # city, without diacritics
    expect(page.locator("#contacts-table .contact-link")).to_have_text(["Żółta Łódka Sp. z o.o."])
    shot(page, "bases-04-search")
    page.fill("#contact-search", "")
    page.locator("#contact-search").press_sequentially("xyz", delay=40)
    expect(page.locator("#no-contacts")).to_contain_text("Żaden kontakt nie pasuje")

    # deleting asks first (dismissed: nothing happens), then moves the contact to the trash
    page.fill("#contact-search", "")
    page.goto(page.url.split("?")[0])
    page.click("text=Anna Nowak")
    page.wait_for_url("**/contacts/*")
    page.wait_for_load_state("load")  # crm.js (the confirmation handler) has run
    page.once("dialog", lambda d: d.dismiss())
    page.click("#delete-contact")
    assert "/contacts/" in page.url
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-contact")
    page.wait_for_url("**/bases/*")
    expect(page.locator("#contacts-table .contact-link")).to_have_text(["Żółta Łódka Sp. z o.o."])
