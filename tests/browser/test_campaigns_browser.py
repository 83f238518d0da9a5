"""A campaign in a real browser: "Emailing" -> "Nowa kampania" -> editor with bold text and a personal field
-> save -> who gets it -> "Wyślij" -> the scheduler sends -> the live progress bar reaches 100% -> the
message in the recipient's real mailbox."""

from __future__ import annotations

from typing import Any

from app.services.mailing import outbox
from tests.browser.conftest import shot
from tests.integration.campaign_fixtures import setup_company


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_create_and_send_campaign(page: Any, app: Any, make_company: Any, mail_servers: Any) -> None:
    """The whole path a user takes, up to the message in the recipient's inbox."""
    info = make_company("Hurtownia Żółw Sp. z o.o.")
    setup = setup_company(app, mail_servers, info["company_id"], names=("Zofia",))
    _sign_in(page, info["email"], info["password"])

    page.click(".crm-sidebar >> text=Emailing")
    page.wait_for_url("**/emailing/")
    page.click("#add-campaign")
    page.select_option("#base_ids", label="Newsletter")
    page.select_option("#mailbox_id", value=str(setup.mailbox_id))
    page.fill("#subject", "Wiosna w Hurtowni Żółw")
    page.click("#campaign-editor")
    page.keyboard.type("Dzień dobry ")
    page.click("#field-imie")
    page.keyboard.type(", mamy ")
    page.click(".campaign-toolbar [data-cmd=bold]")
    page.keyboard.type("nowe ceny")
    shot(page, "campaigns-01-editor")
    page.click("#save-campaign")
    page.wait_for_url("**/emailing/*")
    assert page.inner_text("#audience-count") == "1 kontakt otrzyma wiadomość"
    assert "brak adresu e-mail: 1" in page.inner_text("#audience-excluded")
    shot(page, "campaigns-02-audience")

    page.click("#send-campaign")
    page.wait_for_selector("#campaign-progress")
    assert page.inner_text("#campaign-status") == "Zaplanowana"
    with app.app_context():
        assert outbox.run(budget_seconds=30) == 1  # what the scheduler process does every few seconds
    page.wait_for_selector("#report-table", timeout=15000)  # the page polls the progress and reloads when done
    assert page.get_attribute("#progress-bar", "aria-valuenow") == "100"
    assert page.inner_text("#campaign-status") == "Wysłana"
    shot(page, "campaigns-03-report")

    msg = mail_servers.wait_for_messages(setup.people["Zofia"], 1)[0]
    assert msg["Subject"] == "Wiosna w Hurtowni Żółw"
    html = msg.get_body(("html",)).get_content()
    assert "Dzień dobry&nbsp;Zofia, mamy <b>nowe ceny</b>" in html  # the browser keeps the typed space as &nbsp;
