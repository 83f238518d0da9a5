"""The FAQ's "Emailing" path in a real browser, up to the active mailbox: gear -> "Mailing" ->
"Dodaj nowy adres" -> fill in -> Zapisz -> inactive with the yellow triangle -> click it -> the
verification's progress -> active. Against the real test mail servers (dovecot + aiosmtpd)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import shot
from tests.mailservers import HOST, MailServers


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_faq_path_to_an_active_mailbox(page: Any, app: Any, make_company: Any, mail_servers: MailServers) -> None:
    info = make_company("Hurtownia Żółć Sp. z o.o.")
    user = mail_servers.add_user()
    _sign_in(page, info["email"], info["password"])

    # Krok 1-3: the gear, the "Mailing" tab, the list of the company's mailing accounts
    page.click(".gear")
    page.click("#settings-tabs >> text=Mailing")
    page.wait_for_url("**/settings/mailing/")
    assert page.is_visible("#no-mailboxes")

    # Krok 4-5: "Dodaj nowy adres", a provider preset fills the servers, then our own servers, Zapisz
    page.click("#add-mailbox")
    page.wait_for_url("**/settings/mailing/add")
    page.select_option("#provider", "gmail")
    assert page.input_value("#smtp_host") == "smtp.gmail.com"
    assert page.input_value("#smtp_port") == "465"
    assert page.input_value("#imap_host") == "imap.gmail.com"
    assert "hasła aplikacji" in page.inner_text("#preset-note")
    assert "dostęp do serwerów SMTP oraz IMAP" in page.inner_text("#mailbox-faq-note")
    page.select_option("#provider", "")
    page.fill("#email", user.email)
    page.fill("#sender_name", "Hurtownia Żółć")
    page.fill("#smtp_host", HOST)
    page.fill("#smtp_port", str(mail_servers.smtp_port))
    page.select_option("#smtp_security", "starttls")
    page.fill("#imap_host", HOST)
    page.fill("#imap_port", str(mail_servers.imaps_port))
    page.select_option("#imap_security", "ssl")
    page.fill("#login", user.email)
    page.fill("#password", user.password)
    shot(page, "mailboxes-01-form")
    page.click("#mailbox-save")
    page.wait_for_url("**/settings/mailing/")

    # Krok 6: the new account is inactive and shows the yellow triangle
    row = page.locator(".mailbox-row", has_text=user.email)
    assert "Nieaktywne" in row.locator(".mailbox-state").inner_text()
    triangle = row.locator(".mailbox-verify .fa-triangle-exclamation")
    assert triangle.is_visible()
    shot(page, "mailboxes-02-inactive")

    # clicking the triangle checks the data, sends a test message to our address, the account becomes active
    triangle.click()
    page.wait_for_url("**/verification")
    page.wait_for_selector("#verify-result.alert-success", timeout=60000)
    assert "Skrzynka jest aktywna do wysyłek" in page.inner_text("#verify-result")
    assert page.locator("#verify-steps li.step-done").count() == 5
    shot(page, "mailboxes-03-verified")
    page.click("#back-to-mailboxes")
    page.wait_for_url("**/settings/mailing/")
    row = page.locator(".mailbox-row", has_text=user.email)
    assert row.locator(".mailbox-state").inner_text().strip() == "Aktywne do wysyłek"
    assert row.locator(".mailbox-verify").count() == 0
    received = mail_servers.messages(user)
    assert len(received) == 1 and received[0]["Subject"].startswith("Klientela: wiadomość testowa")
    assert user.password not in page.content()
