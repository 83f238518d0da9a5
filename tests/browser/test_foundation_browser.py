"""A new customer in a real browser: sign up, settings, employees, and what an employee may not see."""

import re

from tests.browser.conftest import shot
from tests.helpers import STRONG_PASSWORD

EMP_PASSWORD = "Kawa#Rower7Morze+Dach"


def test_signup_settings_employee_flow(page, browser, live_server, mail_outbox):
    page.goto("/login/")
    assert page.locator("button[type=submit]").inner_text().strip() == "Zaloguj się"
    page.click("#signup-link")
    page.fill("#company_name", "Hurtownia Żółw Sp. z o.o.")
    page.fill("#nip", "526-025-02-74")
    page.fill("#first_name", "Bożena")
    page.fill("#last_name", "Grabowska")
    page.fill("#email", "bozena@zolw.pl")
    page.fill("#password", STRONG_PASSWORD)
    page.fill("#password_confirm", STRONG_PASSWORD)
    page.check("#accept_terms")
    page.click("#signup-form button[type=submit]")
    page.wait_for_url("**/signup/sent/")
    assert "Sprawdź skrzynkę pocztową" in page.inner_text("#signup-sent")
    page.goto("/")  # not signed in before the e-mail link is clicked
    assert "/login/" in page.url
    # the owner opens the link from the e-mail
    assert len(mail_outbox) == 1 and mail_outbox[0]["To"] == "bozena@zolw.pl"
    link = re.search(r"http://\S+/signup/confirm/\S+", mail_outbox[0].get_content()).group(0)
    assert link.startswith(live_server)
    page.goto(link)
    page.wait_for_url(f"{live_server}/")
    assert "Twój adres e-mail jest potwierdzony" in page.inner_text(".alert")
    assert "zostało 14 dni" in page.locator("#licence-days").inner_text()
    shot(page, "foundation-01-dashboard")

    # the left menu: coloured sections, collapsible
    assert page.locator(".crm-sidebar").is_visible()
    page.click("#crm-collapse")
    assert "sidebar-collapsed" in (page.locator("body").get_attribute("class") or "")
    page.click("#crm-collapse")

    # the gear opens the settings panel; visit each tab
    page.click(".gear")
    page.wait_for_url("**/settings/company/")
    tabs = [t.strip() for t in page.locator("#settings-tabs li a").all_inner_texts()]
    assert tabs[:3] == ["Dane firmy", "Avatar", "Pracownicy"]
    assert "Tagi" not in tabs or tabs[-1] == "Tagi"
    page.fill("#city", "Łódź")
    page.fill("#postal_code", "90-001")
    page.click("#company-form button[type=submit]")
    assert "Dane firmy zostały zapisane" in page.inner_text(".alert")
    shot(page, "foundation-02-company")
    page.click("#settings-tabs >> text=Avatar")
    page.wait_for_url("**/settings/avatar/")
    page.click("#settings-tabs >> text=Pracownicy")
    page.wait_for_url("**/settings/employees/")

    # add an employee
    page.click("#add-employee")
    page.fill("#first_name", "Kamil")
    page.fill("#last_name", "Ślusarz")
    page.fill("#email", "kamil@zolw.pl")
    page.fill("#password", EMP_PASSWORD)
    page.click("#employee-form button[type=submit]")
    assert "Kamil Ślusarz" in page.inner_text("#profile")
    shot(page, "foundation-03-employee")

    # log out (POST) and log in as the employee in another browser context
    page.click("#user-menu")
    page.click("#logout-button")
    page.wait_for_url("**/login/")

    ctx = browser.new_context(locale="pl-PL", base_url=live_server)
    emp = ctx.new_page()
    emp.goto("/login/")
    emp.fill("#username", "kamil@zolw.pl")
    emp.fill("#password", EMP_PASSWORD)
    emp.click("button[type=submit]")
    emp.wait_for_url(f"{live_server}/")
    emp.click(".gear")
    emp.wait_for_url("**/settings/avatar/")
    tabs = [t.strip() for t in emp.locator("#settings-tabs li a").all_inner_texts()]
    assert tabs[0] == "Avatar" and "Dane firmy" not in tabs and "Pracownicy" not in tabs
    for url in ("/settings/company/", "/settings/employees/"):
        emp.goto(url)
        assert "Brak dostępu" in emp.content()
    shot(emp, "foundation-04-employee-refused")
    ctx.close()
